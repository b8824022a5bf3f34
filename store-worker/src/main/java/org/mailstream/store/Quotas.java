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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quota, a soft one as Dovecot's quota_grace: mail already accepted is always stored, and an
 * owner past a limit is refused new mail by Postfix, at RCPT time, with 452 4.2.2, through the
 * shipped ldap: access table that asks for the mark {@code mailStoreOverQuota: TRUE}.
 *
 * <p>An owner's limits are mailStoreQuotaBytes and mailStoreQuotaMessages on its entry, else
 * quota.bytes and quota.messages; 0 is none, and an owner without a limit costs nothing. Its
 * usage (mailStoreUsedBytes, mailStoreUsedMessages, mailStoreSize summed) is kept by the worker:
 * the first mail stored for an owner with a limit counts what the owner keeps; the ones after it
 * are gathered and written every 5 s, one modify-increment (RFC 4525) an owner, whose
 * post-read (RFC 4527) says whether the usage has now passed a limit, and then the owner is
 * marked. A write to the owner's entry for every mail would halve the store rate: slapd takes
 * one write at a time. Only an add that made the entry counts, so a retry or a replay counts
 * nothing twice; what a crash leaves unwritten, and mail removed otherwise (IMAP EXPUNGE, an
 * operator), waits for {@code store-worker quota recalc}, which counts again and lifts the marks
 * no longer due.
 */
final class Quotas implements AutoCloseable {

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
    private static final Duration FLUSH_EVERY = Duration.ofSeconds(5);
    private static final Logger LOG = LoggerFactory.getLogger(Quotas.class);

    /** Usage stored but not yet written to an owner's entry, and the owner's limits when it was read. */
    private record Pending(Limits limits, long bytes, long messages) {
        Pending plus(Pending more) {
            return new Pending(more.limits(), bytes + more.bytes(), messages + more.messages());
        }
    }

    private final Map<DN, Pending> pending = new ConcurrentHashMap<>();
    private ScheduledExecutorService flusher;

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

    /** Writes the usage gathered every 5 s from now on, until {@link #close}. */
    void startFlushing() {
        flusher = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "quota usage");
            thread.setDaemon(true);
            return thread;
        });
        flusher.scheduleWithFixedDelay(this::flush, FLUSH_EVERY.toMillis(), FLUSH_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Counts a message of {@code size} octets, just stored below {@code owner}, towards its usage.
     * True when what {@code limits} says of the owner changed (counted afresh): a cached copy is stale.
     */
    boolean stored(DN owner, Limits limits, long size) throws LDAPException {
        if (!limits.any()) {
            return false;
        }
        if (!limits.counted()) {
            recount(owner, limits);
            return true;
        }
        pending.merge(owner, new Pending(limits, size, 1), Pending::plus);
        return false;
    }

    /** Writes what has been gathered: one modify-increment an owner, and the mark where a limit is now passed. */
    void flush() {
        for (DN owner : List.copyOf(pending.keySet())) {
            Pending due = pending.remove(owner);
            if (due == null) {
                continue;
            }
            try {
                increment(owner, due);
            } catch (LDAPException e) {
                LOG.warn("{}: {} mails of {} octets not counted towards its quota ({}); store-worker quota recalc counts them",
                        owner, due.messages(), due.bytes(), LdapFailures.describe(e));
            }
        }
    }

    private void increment(DN owner, Pending due) throws LDAPException {
        ModifyRequest increment = new ModifyRequest(owner.toString(),
                new Modification(ModificationType.INCREMENT, "mailStoreUsedBytes", Long.toString(due.bytes())),
                new Modification(ModificationType.INCREMENT, "mailStoreUsedMessages", Long.toString(due.messages())));
        increment.addControl(new PostReadRequestControl("mailStoreUsedBytes", "mailStoreUsedMessages", "mailStoreOverQuota"));
        LDAPResult result;
        try {
            result = metrics.timed("modify", () -> pool.modify(increment));
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.NO_SUCH_ATTRIBUTE && e.getResultCode() != ResultCode.CONSTRAINT_VIOLATION) {
                throw e;
            }
            recount(owner, due.limits()); // the usage was removed since the owner was read
            return;
        }
        PostReadResponseControl after = PostReadResponseControl.get(result);
        if (after != null && !Boolean.TRUE.equals(after.getEntry().getAttributeValueAsBoolean("mailStoreOverQuota"))
                && due.limits().passedBy(usageOf(after.getEntry()))) {
            metrics.timed("modify", () -> pool.modify(owner.toString(),
                    new Modification(ModificationType.REPLACE, "mailStoreOverQuota", "TRUE")));
        }
    }

    /** Stops gathering and writes what was gathered. */
    @Override
    public void close() {
        if (flusher != null) {
            flusher.shutdown();
            try {
                flusher.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        flush();
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
