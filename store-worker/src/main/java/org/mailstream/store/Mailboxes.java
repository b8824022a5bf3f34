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
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Recipient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The back end's mailboxes: finds the one owner of a recipient address (with a bounded cache)
 * and the folder its mail goes to, and adds message entries there, creating INBOX when it is
 * missing. An entry that already exists is a success: it is the same message, delivered again.
 * A reparse brings an existing entry's derived attributes up to date.
 *
 * <p>An address with an extension ({@code alice+news@}) is looked up whole first, as Postfix
 * does, and then as its mailbox's ({@code alice@}); in the mailbox's case the extension names the
 * folder, {@code cn=news} below the owner when it exists (the directory compares folder names
 * without regard to case), INBOX otherwise, as Dovecot's lmtp_save_to_detail_mailbox does.
 *
 * <p>A message that an add made counts towards its owner's quota ({@link Quotas}); accounting
 * never holds mail: when it fails, the mail is stored all the same and the log says so.
 */
final class Mailboxes {

    /** The operational attribute that says when an owner entry was made (RFC 4512). */
    private static final String CREATED = "createTimestamp";
    private static final String[] OWNER_ATTRIBUTES = Stream.concat(Stream.of(CREATED), Arrays.stream(Quotas.OWNER_ATTRIBUTES))
            .toArray(String[]::new);
    private static final Logger LOG = LoggerFactory.getLogger(Mailboxes.class);

    private final LDAPConnectionPool pool;
    private final String baseDn;
    private final FilterTemplate filter;
    private final String folder;
    private final String delimiters;
    private final RecentlyFound<Owner> cache;
    /** Folders found by an extension's name, by owner and name, so that mail to alice+news@ does not ask each time. */
    private final RecentlyFound<DN> folders;
    private final Quotas quotas;
    private final WorkerMetrics metrics;

    Mailboxes(LDAPConnectionPool pool, StoreConfig config, Quotas quotas, WorkerMetrics metrics) {
        this.pool = pool;
        this.quotas = quotas;
        this.metrics = metrics;
        this.baseDn = config.ldapBaseDn();
        this.filter = config.mailboxFilter();
        this.folder = config.ldapFolder();
        this.delimiters = config.recipientDelimiter();
        this.cache = new RecentlyFound<>(config.mailboxCacheSize(), config.mailboxCacheTtlMs());
        this.folders = new RecentlyFound<>(config.mailboxCacheSize(), config.mailboxCacheTtlMs());
    }

    /** A mailbox's owner entry, when it was created where the directory says (null otherwise), and its quota. */
    record Owner(DN dn, Instant created, Quotas.Limits limits) {
    }

    /** What the cache holds for an address known to have no owner. */
    private static final Owner NO_OWNER = new Owner(null, null, Quotas.Limits.NONE);

    /** Where a recipient's mail goes: below its owner entry, in a folder of theirs. */
    record Destination(Owner owner, DN folder) {
    }

    /** Where mail to {@code recipient} goes; a {@link PermanentFailure} when no single owner has the address. */
    Destination destination(Recipient recipient) throws LDAPException, PermanentFailure {
        String extension = recipient.extension(delimiters);
        Owner whole = extension == null ? owner(recipient.key()) : find(recipient.key(), true);
        if (whole != null) {
            return new Destination(whole, folderOf(whole.dn()));
        }
        Owner owner = owner(recipient.withoutExtension(delimiters).key());
        return new Destination(owner, extension.isEmpty() ? folderOf(owner.dn()) : folderNamed(owner.dn(), extension));
    }

    /** The owner of {@code address}; a {@link PermanentFailure} when there is none or several. */
    private Owner owner(String address) throws LDAPException, PermanentFailure {
        Owner owner = find(address, false);
        if (owner == null) {
            throw PermanentFailure.recipients(DeliveryStatus.NO_SUCH_MAILBOX,
                    "no such mailbox: nothing below " + baseDn + " matches " + filter.forValue(address));
        }
        return owner;
    }

    /**
     * The owner of {@code address}, null when there is none; a {@link PermanentFailure} when there
     * are several. With {@code rememberAbsence}, that there is none is cached as an owner would be:
     * for an address with an extension, which is seldom a mailbox of its own, and is asked for
     * with every mail to it; a plain address that finds none is a dead letter, and is asked again.
     */
    private Owner find(String address, boolean rememberAbsence) throws LDAPException, PermanentFailure {
        Owner cached = cache.get(address);
        if (cached != null) {
            return cached == NO_OWNER ? null : cached;
        }
        SearchRequest search = new SearchRequest(baseDn, SearchScope.SUB, filter.forValue(address), OWNER_ATTRIBUTES);
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
            if (rememberAbsence) {
                cache.put(address, NO_OWNER);
            }
            return null;
        }
        if (result.getEntryCount() > 1) {
            throw new PermanentFailure("ambiguous mailbox: more than one entry below " + baseDn + " matches " + search.getFilter());
        }
        SearchResultEntry found = result.getSearchEntries().get(0);
        Date created = found.getAttributeValueAsDate(CREATED);
        Owner owner = new Owner(found.getParsedDN(), created == null ? null : created.toInstant(), quotas.limitsOf(found));
        cache.put(address, owner);
        return owner;
    }

    private DN folderOf(DN owner) {
        return MessageEntry.folderDn(owner, folder);
    }

    /**
     * The owner's folder {@code name} as the directory spells it, or INBOX when there is none by
     * that name; what was found is trusted as an owner is (mailbox.cache.ttl.ms), so a folder
     * just made receives mail within that time.
     */
    private DN folderNamed(DN owner, String name) throws LDAPException {
        DN named = MessageEntry.folderDn(owner, name);
        String key = named.toNormalizedString();
        DN cached = folders.get(key);
        if (cached != null) {
            return cached;
        }
        Entry found = metrics.timed("read", () -> pool.getEntry(named.toString(), "1.1"));
        DN folder = found == null ? folderOf(owner) : found.getParsedDN();
        folders.put(key, folder);
        return folder;
    }

    /** Where a message entry ended: its entry, and whether this add made it (false: it was there already). */
    record Added(DN entry, boolean created) {
    }

    /**
     * Adds {@code message} to the folder its DN names, below {@code owner}, and counts it towards
     * the owner's quota when the add made it. When that folder is missing, the message goes to
     * INBOX, made if need be: INBOX is made by its first mail, and a folder deleted since it was
     * found leaves its mail to INBOX.
     */
    Added add(Entry message, Owner owner) throws LDAPException {
        Added added = addToFolderOrInbox(message, owner.dn());
        if (added.created()) {
            account(owner, message.getAttributeValueAsLong("mailStoreSize"));
        }
        return added;
    }

    private Added addToFolderOrInbox(Entry message, DN owner) throws LDAPException {
        try {
            return new Added(message.getParsedDN(), addUnlessPresent(message));
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.NO_SUCH_OBJECT) {
                throw e;
            }
        }
        Entry inInbox = message.duplicate();
        inInbox.setDN(new DN(message.getRDN(), folderOf(owner)));
        addUnlessPresent(MessageEntry.folder(owner, folder));
        return new Added(inInbox.getParsedDN(), addUnlessPresent(inInbox));
    }

    private void account(Owner owner, long size) {
        try {
            if (quotas.stored(owner.dn(), owner.limits(), size)) {
                cache.forgetIf(cached -> owner.dn().equals(cached.dn()));
            }
        } catch (LDAPException e) {
            LOG.warn("{}: a stored mail of {} octets is not counted towards its quota ({}); store-worker quota recalc counts it",
                    owner.dn(), size, LdapFailures.describe(e));
        }
    }

    /**
     * Rewrites the derived attributes of the stored {@code entry} that differ from those of
     * {@code message}, its parse (byte for byte), never mailStoreRaw; true when any did.
     */
    boolean reindex(Entry message, DN entry) throws LDAPException {
        Entry stored = metrics.timed("read", () -> pool.getEntry(entry.toString(), MessageEntry.DERIVED));
        if (stored == null) {
            throw new LDAPException(ResultCode.NO_SUCH_OBJECT, "gone while being re-indexed: " + entry);
        }
        List<Modification> changes = Entry.diff(stored, message, true, false, true, MessageEntry.DERIVED);
        if (changes.isEmpty()) {
            return false;
        }
        metrics.timed("modify", () -> pool.modify(entry.toString(), changes));
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
    /** Recently found values by key, least recently used dropped first, each trusted for a while only. */
    private static final class RecentlyFound<V> {
        private record Found<V>(V value, long until) {
        }

        private final int capacity;
        private final long ttlNanos;
        private final Map<String, Found<V>> entries;

        RecentlyFound(int capacity, long ttlMillis) {
            this.capacity = capacity;
            this.ttlNanos = ttlMillis * 1_000_000;
            this.entries = new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Found<V>> eldest) {
                    return size() > RecentlyFound.this.capacity;
                }
            };
        }

        synchronized V get(String key) {
            Found<V> found = entries.get(key);
            if (found == null || found.until() - System.nanoTime() < 0) {
                entries.remove(key);
                return null;
            }
            return found.value();
        }

        synchronized void forgetIf(Predicate<V> stale) {
            entries.values().removeIf(found -> stale.test(found.value()));
        }

        synchronized void put(String key, V value) {
            if (capacity > 0) {
                entries.put(key, new Found<>(value, System.nanoTime() + ttlNanos));
            }
        }
    }
}
