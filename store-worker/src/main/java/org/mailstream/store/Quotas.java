package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPResult;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ModificationType;
import com.unboundid.ldap.sdk.ModifyRequest;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.controls.PermissiveModifyRequestControl;
import com.unboundid.ldap.sdk.controls.PostReadRequestControl;
import com.unboundid.ldap.sdk.controls.PostReadResponseControl;

/**
 * Quota, a soft one as Dovecot's quota_grace: mail already accepted is always stored, and an
 * owner past a limit is refused new mail by Postfix, at RCPT time, with 452 4.2.2, through the
 * shipped ldap: access table that asks for the mark {@code mailStoreOverQuota: TRUE}.
 *
 * <p>An owner's limits are mailStoreQuotaBytes and mailStoreQuotaMessages on its entry, else
 * quota.bytes and quota.messages; 0 is none, and an owner without a limit costs nothing. Its
 * usage (mailStoreUsedBytes, mailStoreUsedMessages, mailStoreSize summed) is kept by the worker:
 * the first mail stored for an owner with a limit counts what the owner keeps; each one after it
 * adds itself with one modify-increment (RFC 4525), whose post-read (RFC 4527) says whether the
 * usage has now passed a limit, and then the owner is marked. Only an add that made the entry
 * counts, so a retry or a replay counts nothing twice. Mail removed otherwise (IMAP EXPUNGE, an
 * operator) frees nothing until {@code store-worker quota recalc} counts again and lifts the marks
 * no longer due.
 */
final class Quotas {

    /** What an owner's entry says of its quota: read with the owner. */
    static final String[] OWNER_ATTRIBUTES = {"mailStoreQuotaBytes", "mailStoreQuotaMessages", "mailStoreUsedMessages",
        "mailStoreOverQuota"};

    /** An owner's limits (0: none), whether its usage is kept yet, and whether it is marked over quota. */
    record Limits(long bytes, long messages, boolean counted, boolean marked) {

        static final Limits NONE = new Limits(0, 0, false, false);

        boolean any() {
            return bytes > 0 || messages > 0;
        }

        boolean passedBy(Usage usage) {
            return (bytes > 0 && usage.bytes() > bytes) || (messages > 0 && usage.messages() > messages);
        }
    }

    /** What an owner keeps. */
    record Usage(long bytes, long messages) {
    }

    private static final long COUNT_TTL_NANOS = 30_000_000_000L;

    private final LDAPConnectionPool pool;
    private final StoreConfig config;
    private final WorkerMetrics metrics;
    private double overQuota;
    private long countedAt;

    Quotas(LDAPConnectionPool pool, StoreConfig config, WorkerMetrics metrics) {
        this.pool = pool;
        this.config = config;
        this.metrics = metrics;
    }

    /** The limits of {@code owner}, an entry read with {@link #OWNER_ATTRIBUTES}. */
    Limits limitsOf(Entry owner) {
        return new Limits(numberOr(owner, "mailStoreQuotaBytes", config.quotaBytes()),
                numberOr(owner, "mailStoreQuotaMessages", config.quotaMessages()),
                owner.hasAttribute("mailStoreUsedMessages"), Boolean.TRUE.equals(owner.getAttributeValueAsBoolean("mailStoreOverQuota")));
    }

    /**
     * Adds a message of {@code size} octets, just stored below {@code owner}, to its usage, and
     * marks the owner once the usage passes a limit. True when what {@code limits} says of the
     * owner changed (counted afresh, or marked): a cached copy is stale.
     */
    boolean stored(DN owner, Limits limits, long size) throws LDAPException {
        if (!limits.any()) {
            return false;
        }
        if (!limits.counted()) {
            recount(owner, limits);
            return true;
        }
        ModifyRequest increment = new ModifyRequest(owner.toString(),
                new Modification(ModificationType.INCREMENT, "mailStoreUsedBytes", Long.toString(size)),
                new Modification(ModificationType.INCREMENT, "mailStoreUsedMessages", "1"));
        increment.addControl(new PostReadRequestControl("mailStoreUsedBytes", "mailStoreUsedMessages"));
        LDAPResult result;
        try {
            result = metrics.timed("modify", () -> pool.modify(increment));
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.NO_SUCH_ATTRIBUTE && e.getResultCode() != ResultCode.CONSTRAINT_VIOLATION) {
                throw e;
            }
            recount(owner, limits); // the usage was removed since the owner was read
            return true;
        }
        PostReadResponseControl after = PostReadResponseControl.get(result);
        if (after == null || limits.marked() || !limits.passedBy(usageOf(after.getEntry()))) {
            return false;
        }
        metrics.timed("modify", () -> pool.modify(owner.toString(),
                new Modification(ModificationType.REPLACE, "mailStoreOverQuota", "TRUE")));
        return true;
    }

    /** Counts what {@code owner} keeps, and sets its usage and its mark by {@code limits}. */
    Usage recount(DN owner, Limits limits) throws LDAPException {
        SearchRequest messages = new SearchRequest(owner.toString(), SearchScope.SUB,
                Filter.createEqualityFilter("objectClass", "mailStoreMessage"), "mailStoreSize");
        long bytes = 0;
        long count = 0;
        for (SearchResultEntry message : metrics.timed("search", () -> pool.search(messages)).getSearchEntries()) {
            Long size = message.getAttributeValueAsLong("mailStoreSize");
            bytes += size == null ? 0 : size;
            count++;
        }
        Usage usage = new Usage(bytes, count);
        ModifyRequest set = new ModifyRequest(owner.toString(),
                new Modification(ModificationType.ADD, "objectClass", "mailStoreQuotaOwner"),
                new Modification(ModificationType.REPLACE, "mailStoreUsedBytes", Long.toString(bytes)),
                new Modification(ModificationType.REPLACE, "mailStoreUsedMessages", Long.toString(count)),
                new Modification(ModificationType.REPLACE, "mailStoreOverQuota", limits.passedBy(usage) ? "TRUE" : "FALSE"));
        set.addControl(new PermissiveModifyRequestControl()); // the class may be there already
        metrics.timed("modify", () -> pool.modify(set));
        return usage;
    }

    /**
     * How many owners below ldap.base.dn are marked over quota (an indexed search), counted at
     * most 30 s ago, so that scrapes cost the back end little; NaN when it does not answer.
     */
    synchronized double overQuota() {
        if (countedAt == 0 || System.nanoTime() - countedAt > COUNT_TTL_NANOS) {
            SearchRequest marked = new SearchRequest(config.ldapBaseDn(), SearchScope.SUB,
                    Filter.createEqualityFilter("mailStoreOverQuota", "TRUE"), "1.1");
            try {
                overQuota = metrics.timed("search", () -> pool.search(marked)).getEntryCount();
            } catch (LDAPException e) {
                overQuota = Double.NaN;
            }
            countedAt = System.nanoTime();
        }
        return overQuota;
    }

    private static Usage usageOf(Entry owner) {
        return new Usage(numberOr(owner, "mailStoreUsedBytes", 0), numberOr(owner, "mailStoreUsedMessages", 0));
    }

    private static long numberOr(Entry entry, String attribute, long otherwise) {
        Long value = entry.getAttributeValueAsLong(attribute);
        return value == null ? otherwise : value;
    }
}
