package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The back end's mailboxes: finds the one owner of a recipient address (with a bounded cache)
 * and adds message entries below it, creating the folder when it is missing. An entry that
 * already exists is a success: it is the same message, delivered again. A reparse brings an
 * existing entry's derived attributes up to date.
 */
final class Mailboxes {

    /** The operational attribute that says when an owner entry was made (RFC 4512). */
    private static final String CREATED = "createTimestamp";

    private final LDAPConnectionPool pool;
    private final String baseDn;
    private final FilterTemplate filter;
    private final String folder;
    private final OwnerCache cache;
    private final WorkerMetrics metrics;

    Mailboxes(LDAPConnectionPool pool, StoreConfig config, WorkerMetrics metrics) {
        this.pool = pool;
        this.metrics = metrics;
        this.baseDn = config.ldapBaseDn();
        this.filter = config.mailboxFilter();
        this.folder = config.ldapFolder();
        this.cache = new OwnerCache(config.mailboxCacheSize(), config.mailboxCacheTtlMs());
    }

    /** A mailbox's owner entry, and when it was created where the directory says (null otherwise). */
    record Owner(DN dn, Instant created) {
    }

    /** The owner of {@code address}; a {@link PermanentFailure} when there is none or several. */
    Owner owner(String address) throws LDAPException, PermanentFailure {
        Owner cached = cache.get(address);
        if (cached != null) {
            return cached;
        }
        SearchRequest search = new SearchRequest(baseDn, SearchScope.SUB, filter.forValue(address), CREATED);
        search.setSizeLimit(2);
        SearchResult result;
        try {
            result = metrics.timed("search", () -> pool.search(search));
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.SIZE_LIMIT_EXCEEDED) {
                throw e;
            }
            throw new PermanentFailure("ambiguous mailbox: more than one entry below " + baseDn + " matches " + search.getFilter());
        }
        if (result.getEntryCount() == 0) {
            throw new PermanentFailure("no such mailbox: nothing below " + baseDn + " matches " + search.getFilter());
        }
        if (result.getEntryCount() > 1) {
            throw new PermanentFailure("ambiguous mailbox: more than one entry below " + baseDn + " matches " + search.getFilter());
        }
        SearchResultEntry found = result.getSearchEntries().get(0);
        Date created = found.getAttributeValueAsDate(CREATED);
        Owner owner = new Owner(found.getParsedDN(), created == null ? null : created.toInstant());
        cache.put(address, owner);
        return owner;
    }

    DN folderOf(DN owner) {
        return MessageEntry.folderDn(owner, folder);
    }

    /** Adds {@code message}; true when it was new, false when it was already there. */
    boolean add(Entry message, DN owner) throws LDAPException {
        try {
            return addUnlessPresent(message);
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.NO_SUCH_OBJECT) {
                throw e;
            }
        }
        addUnlessPresent(MessageEntry.folder(owner, folder));
        return addUnlessPresent(message);
    }

    /**
     * Rewrites the derived attributes of the stored {@code message} that differ from its own
     * (byte for byte), never mailStoreRaw; true when any did.
     */
    boolean reindex(Entry message) throws LDAPException {
        Entry stored = metrics.timed("read", () -> pool.getEntry(message.getDN(), MessageEntry.DERIVED));
        if (stored == null) {
            throw new LDAPException(ResultCode.NO_SUCH_OBJECT, "gone while being re-indexed: " + message.getDN());
        }
        List<Modification> changes = Entry.diff(stored, message, true, false, true, MessageEntry.DERIVED);
        if (changes.isEmpty()) {
            return false;
        }
        metrics.timed("modify", () -> pool.modify(message.getDN(), changes));
        return true;
    }

    private boolean addUnlessPresent(Entry entry) throws LDAPException {
        try {
            metrics.timed("add", () -> pool.add(entry));
            return true;
        } catch (LDAPException e) {
            if (e.getResultCode() == ResultCode.ENTRY_ALREADY_EXISTS) {
                return false;
            }
            throw e;
        }
    }

    /** Recently found owners, least recently used dropped first, each trusted for a while only. */
    private static final class OwnerCache {
        private record Found(Owner owner, long until) {
        }

        private final int capacity;
        private final long ttlNanos;
        private final Map<String, Found> entries;

        OwnerCache(int capacity, long ttlMillis) {
            this.capacity = capacity;
            this.ttlNanos = ttlMillis * 1_000_000;
            this.entries = new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Found> eldest) {
                    return size() > OwnerCache.this.capacity;
                }
            };
        }

        synchronized Owner get(String address) {
            Found found = entries.get(address);
            if (found == null || found.until() - System.nanoTime() < 0) {
                entries.remove(address);
                return null;
            }
            return found.owner();
        }

        synchronized void put(String address, Owner owner) {
            if (capacity > 0) {
                entries.put(address, new Found(owner, System.nanoTime() + ttlNanos));
            }
        }
    }
}
