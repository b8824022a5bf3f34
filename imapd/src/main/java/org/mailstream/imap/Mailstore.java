package org.mailstream.imap;

import com.unboundid.ldap.sdk.AddRequest;
import com.unboundid.ldap.sdk.AsyncRequestID;
import com.unboundid.ldap.sdk.AsyncSearchResultListener;
import com.unboundid.ldap.sdk.Control;
import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.DereferencePolicy;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.FailoverServerSet;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPResult;
import com.unboundid.ldap.sdk.LDAPURL;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ModificationType;
import com.unboundid.ldap.sdk.ModifyDNRequest;
import com.unboundid.ldap.sdk.ModifyRequest;
import com.unboundid.ldap.sdk.RDN;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchResultReference;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.ServerSet;
import com.unboundid.ldap.sdk.controls.AssertionRequestControl;
import com.unboundid.ldap.sdk.controls.PermissiveModifyRequestControl;
import com.unboundid.ldap.sdk.controls.PostReadRequestControl;
import com.unboundid.ldap.sdk.controls.PostReadResponseControl;
import com.unboundid.util.StaticUtils;
import java.text.ParseException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Date;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.mailstream.schemas.ServedForm;

/**
 * One user's mail as the directory shows it to that user: every operation runs on a connection
 * bound as the user, so that the access rules, not this server, decide what a session may read
 * and change. A message is its entry ({@code mailStoreId=ID}, written by store-worker and never
 * changed) and, once a session has given it a UID, its state: the entry {@code mailStoreUid=N}
 * beside it in the folder (flags, and whether it is expunged), so that a flag change rewrites a
 * small entry, not the message. UIDs are given many at a time: the entry that names the first
 * also gives the ones that follow (mailStoreGivenUid) and keeps their flags (mailStoreGivenFlag),
 * and a message given its UID that way gets an entry of its own at its expunge. A connection lost
 * under an operation is bound again, on the next provider that answers, and the operation tried
 * once more.
 */
final class Mailstore implements AutoCloseable {

    /** The directory cannot be reached or refuses what it should allow: the command gets NO with {@link #code}. */
    static final class Failure extends Exception {
        final String code;

        Failure(String code, String message, Throwable cause) {
            super(message, cause);
            this.code = code;
        }
    }

    /**
     * A folder of the user's: its name, what it is for, when it was made (its UIDVALIDITY), and
     * its entryUUID (null for an INBOX with no entry yet), which a folder made anew under the
     * same name does not share.
     */
    record Folder(String name, List<String> specialUse, boolean subscribed, long uidValidity, String uuid) {
    }

    /**
     * A message's state: its UID, flags, and whether it is expunged, held by the state entry named
     * by UID {@code entry}: its own, or the one that gave its UID with others.
     */
    record State(long uid, String id, List<String> flags, boolean expunged, long entry) {
        /** Whether no entry of its own holds it yet, only the one that gave its UID (and keeps its flags as "UID FLAG"). */
        boolean given() {
            return entry != uid;
        }
    }

    /** A message entry: its id, when it was received, its size as served. */
    record Stored(String id, Instant received, long size) {
    }

    /**
     * The user's quota: limits (0: none) from the owner's entry or the configured defaults, and the
     * usage store-worker counts (0 until it has counted).
     */
    record Quota(long limitBytes, long limitMessages, long usedBytes, long usedMessages) {
        boolean any() {
            return limitBytes > 0 || limitMessages > 0;
        }
    }

    /**
     * A folder's entries read in one search, which slapd answers from one read transaction: a
     * consistent view. {@code newestChange} is the highest entryCSN among them (null when none);
     * {@code folderFound} is false when the folder is not there (yet, or any longer).
     */
    record Snapshot(List<State> states, List<Stored> messages, String newestChange, boolean folderFound) {
    }

    /**
     * What a back end answers a write of an attribute its schema is older than: of given flags
     * (flags kept in the entry that gave the UID: no such entry can hold any then, so an entry of
     * the message's own holds them all, as before), or of an appended message's header section.
     */
    private static final Set<ResultCode> OLDER_SCHEMA = Set.of(ResultCode.UNDEFINED_ATTRIBUTE_TYPE, ResultCode.OBJECT_CLASS_VIOLATION);

    /** Flag changes sent before their answers are awaited; slapd reads on up to its olcConnMaxPendingAuth (1000). */
    private static final int IN_FLIGHT = 500;

    /**
     * The most UIDs one state entry gives: UIDs given to the mail a look finds cost one synced
     * write, not one a message, and the entry stays small (about 70 octets a UID) for the flag
     * changes of the first message, which rewrite it.
     */
    static final int UIDS_PER_ENTRY = 256;

    private static final Filter STATES_AND_MESSAGES = Filter.createORFilter(
            Filter.createEqualityFilter("objectClass", "mailStoreState"), Filter.createEqualityFilter("objectClass", "mailStoreMessage"));

    /** Reads back what a write stamped on its entry: its entryCSN, the directory's time (not critical: a directory without it, this machine's). */
    private static final Control STAMP = new PostReadRequestControl(false, "entryCSN");

    private static final String[] FOLDER_ATTRIBUTES = {"cn", "mailStoreSpecialUse", "mailStoreSubscribed", "createTimestamp", "entryUUID"};

    private static final String[] SNAPSHOT_ATTRIBUTES = {"objectClass", "mailStoreUid", "mailStoreId", "mailStoreFlag",
        "mailStoreExpunged", "mailStoreGivenUid", "mailStoreGivenFlag", "mailStoreReceived", "mailStoreServedSize", "mailStoreSize",
        "entryCSN"};

    private final ServerSet providers;
    private final DN owner;
    private final String password;
    private final Quota defaultQuota;
    private LDAPConnection connection;
    /** Whether this session has written a change to the mailbox since {@link #changedSinceAsked} last said so. */
    private boolean changed;

    private Mailstore(ServerSet providers, DN owner, String password, Quota defaultQuota) {
        this.providers = providers;
        this.owner = owner;
        this.password = password;
        this.defaultQuota = defaultQuota;
    }

    /**
     * Binds as {@code user} (a uid, or with a lookup identity a mail address) with
     * {@code password}; empty when the directory refuses the pair, whatever the reason: an
     * unknown user and a wrong password look alike.
     */
    static Optional<Mailstore> login(ImapConfig config, String user, String password) throws Failure {
        if (user.isEmpty() || password.isEmpty()) {
            // An empty password would be an unauthenticated bind, which succeeds.
            return Optional.empty();
        }
        Optional<DN> owner = user.indexOf('@') < 0 ? Optional.of(new DN(new RDN("uid", user), config.people()))
                : ownerOfAddress(config, user);
        if (owner.isEmpty()) {
            return Optional.empty();
        }
        Mailstore store = new Mailstore(providersFor(config, uidOf(owner.get())), owner.get(), password,
                new Quota(config.quotaBytes(), config.quotaMessages(), 0, 0));
        try {
            store.connect();
            return Optional.of(store);
        } catch (LDAPException e) {
            // A name too long to be a DN (slapd: "invalid DN syntax") is no one's: as an unknown user, not the directory out of reach.
            if (e.getResultCode() == ResultCode.INVALID_CREDENTIALS || e.getResultCode() == ResultCode.INVALID_DN_SYNTAX) {
                return Optional.empty();
            }
            throw unavailable("logging in", e);
        }
    }

    /**
     * The owner whose mail {@code address} is, as the lookup identity finds it: the one entry
     * uid=NAME directly below the people base, where the access rules let an owner in. Empty when
     * there is no lookup identity, no such entry, or more than one.
     */
    private static Optional<DN> ownerOfAddress(ImapConfig config, String address) throws Failure {
        if (config.lookupDn().isEmpty()) {
            return Optional.empty();
        }
        try (LDAPConnection lookup = providersFor(config, address).getConnection()) {
            lookup.bind(config.lookupDn(), config.lookupPassword());
            SearchRequest search = new SearchRequest(config.people().toString(), SearchScope.SUB,
                    Filter.createEqualityFilter("mail", address), "1.1");
            search.setSizeLimit(2);
            SearchResult found = lookup.search(search);
            if (found.getEntryCount() != 1) {
                return Optional.empty();
            }
            DN owner = found.getSearchEntries().get(0).getParsedDN();
            RDN name = owner.getRDN();
            boolean anOwner = config.people().equals(owner.getParent()) && name.getAttributeNames().length == 1
                    && name.hasAttribute("uid");
            return anOwner ? Optional.of(owner) : Optional.empty();
        } catch (LDAPException e) {
            if (e.getResultCode() == ResultCode.SIZE_LIMIT_EXCEEDED) {
                return Optional.empty();
            }
            throw unavailable("finding the owner of an address", e);
        }
    }

    /**
     * The owner's uid as the directory compares it, case and the spaces around it aside: one name
     * however the user typed it (alice, ALICE and "alice " bind as one owner).
     */
    private static String uidOf(DN owner) {
        return owner.getRDN().toNormalizedString().substring("uid=".length());
    }

    /** The user's name: the uid of the owner entry the session is bound as, as the directory compares it. */
    String user() {
        return uidOf(owner);
    }

    /**
     * The providers in an order that only the user's name decides, the same on every server
     * whatever order its ldap.urls lists them in: all of a user's sessions write to one provider
     * while it answers, so that no two providers take changes to one message at once (syncrepl
     * resolves such a conflict entry by entry, and one change would be lost).
     */
    private static ServerSet providersFor(ImapConfig config, String user) {
        LDAPConnectionOptions options = new LDAPConnectionOptions();
        options.setConnectTimeoutMillis(config.ldapConnectTimeoutMs());
        options.setResponseTimeoutMillis(config.ldapResponseTimeoutMs());
        options.setUseKeepAlive(true);
        List<LDAPURL> urls = config.providers().stream().sorted(Comparator.comparing(LDAPURL::toString)).toList();
        int first = Math.floorMod(user.toLowerCase(Locale.ROOT).hashCode(), urls.size());
        List<ServerSet> order = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            LDAPURL url = urls.get((first + i) % urls.size());
            order.add(config.transport().server(url.getHost(), url.getPort(), options));
        }
        return new FailoverServerSet(order);
    }

    private void connect() throws LDAPException {
        LDAPConnection fresh = providers.getConnection();
        try {
            fresh.bind(owner.toString(), password);
        } catch (LDAPException e) {
            fresh.close();
            throw e;
        }
        connection = fresh;
    }

    /** The provider the session's connection is to, as address:port: a view read from one provider is read again whole from another. */
    String provider() {
        return connection.getConnectedAddress() + ":" + connection.getConnectedPort();
    }

    /** The owner's DN, normalized: who the user is, however they logged in. */
    String ownerDn() {
        return owner.toNormalizedString();
    }

    /** Whether this session has changed flags or messages since the last call: the owner's other sessions have something to read. */
    boolean changedSinceAsked() {
        boolean was = changed;
        changed = false;
        return was;
    }

    /** Where a view of {@code folder} is kept between sessions: only this owner's sessions find it; null for a folder with no entry. */
    FolderViews.Key viewKey(Optional<Folder> folder) {
        return folder.map(Folder::uuid).map(uuid -> new FolderViews.Key(ownerDn(), uuid)).orElse(null);
    }

    /** The user's folders, INBOX among them only once mail has been stored there. */
    List<Folder> folders() throws Failure {
        List<Folder> folders = new ArrayList<>();
        for (SearchResultEntry entry : search(owner, Filter.createEqualityFilter("objectClass", "mailStoreFolder"), FOLDER_ATTRIBUTES)) {
            folders.add(folder(entry));
        }
        return folders;
    }

    /** The folder named {@code name}, if the user has one; none has the empty name, which no DN can hold. */
    Optional<Folder> folder(String name) throws Failure {
        // Nor one too long to be a folder's: slapd answers a DN of some 8,000 octets "invalid DN syntax", not "no such object".
        if (name.isEmpty() || !folderNameFits(name)) {
            return Optional.empty();
        }
        Entry entry = run("reading a folder", () -> connection.getEntry(folderDn(name).toString(), FOLDER_ATTRIBUTES));
        return Optional.ofNullable(entry).map(Mailstore::folder);
    }

    private static Folder folder(Entry entry) {
        // The second the folder was made: a folder made anew (a rebuild, a name freed: freeName) numbers its mail anew.
        long created = 1;
        String timestamp = entry.getAttributeValue("createTimestamp");
        try {
            created = timestamp == null ? 1 : GeneralizedTime.parse(timestamp).getEpochSecond();
        } catch (ParseException unreadable) {
            // UIDVALIDITY 1, as for an INBOX not made yet
        }
        List<String> specialUse = entry.hasAttribute("mailStoreSpecialUse")
                ? List.of(entry.getAttributeValues("mailStoreSpecialUse")) : List.of();
        return new Folder(entry.getAttributeValue("cn"), specialUse,
                Boolean.TRUE.equals(entry.getAttributeValueAsBoolean("mailStoreSubscribed")), created, entry.getAttributeValue("entryUUID"));
    }

    /** Every state and message entry of folder {@code name}, if still the folder {@code uuid} (see {@link #read}). */
    Snapshot snapshot(String name, String uuid) throws Failure {
        return read(name, uuid, STATES_AND_MESSAGES);
    }

    /**
     * The state and message entries of folder {@code name} added or changed at or after the
     * change {@code entryCsn} (an entryCSN), found through slapd's entryCSN index: what a selected
     * folder reads at each NOOP and each poll of IDLE, instead of every entry.
     */
    Snapshot changesSince(String name, String uuid, String entryCsn) throws Failure {
        return read(name, uuid, Filter.createANDFilter(STATES_AND_MESSAGES, Filter.createGreaterOrEqualFilter("entryCSN", entryCsn)));
    }

    /**
     * The entries of folder {@code name} that {@code filter} matches, provided the folder is still
     * the one whose entryUUID is {@code uuid} (any, when null): one deleted and made anew under its
     * name since, or renamed away, reads as not found. The LDAP assertion control (RFC 4528) asks
     * that of the search's base in the same request.
     */
    private Snapshot read(String name, String uuid, Filter filter) throws Failure {
        List<State> states = new ArrayList<>();
        List<Stored> messages = new ArrayList<>();
        List<SearchResultEntry> entries;
        try {
            entries = search(folderDn(name), filter,
                    uuid == null ? null : new AssertionRequestControl(Filter.createEqualityFilter("entryUUID", uuid)), SNAPSHOT_ATTRIBUTES);
        } catch (Failure e) {
            if (e.getCause() instanceof LDAPException ldap
                    && (ldap.getResultCode() == ResultCode.NO_SUCH_OBJECT || ldap.getResultCode() == ResultCode.ASSERTION_FAILED)) {
                return new Snapshot(states, messages, null, false);
            }
            throw e;
        }
        String newestChange = null;
        for (SearchResultEntry entry : entries) {
            String change = entry.getAttributeValue("entryCSN");
            if (change != null && (newestChange == null || change.compareTo(newestChange) > 0)) {
                newestChange = change;
            }
            if (entry.hasObjectClass("mailStoreState")) {
                long uid = entry.getAttributeValueAsLong("mailStoreUid");
                states.add(new State(uid, entry.getAttributeValue("mailStoreId"), List.of(values(entry, "mailStoreFlag")),
                        Boolean.TRUE.equals(entry.getAttributeValueAsBoolean("mailStoreExpunged")), uid));
                states.addAll(givenBy(entry));
            } else {
                Long served = entry.getAttributeValueAsLong("mailStoreServedSize");
                messages.add(new Stored(entry.getAttributeValue("mailStoreId"), received(entry),
                        // Stored before the worker recorded it: the size as stored, until a reparse adds it.
                        served != null ? served : entry.getAttributeValueAsLong("mailStoreSize")));
            }
        }
        return new Snapshot(states, messages, newestChange, true);
    }

    /** When a message entry's mail was received; one whose time the SDK cannot read either comes before all others. */
    private static Instant received(Entry message) {
        try {
            return GeneralizedTime.parse(message.getAttributeValue("mailStoreReceived"));
        } catch (ParseException unreadable) {
            return Instant.EPOCH;
        }
    }

    /**
     * Gives messages {@code ids}, in that order, the UIDs from {@code first} on (at most
     * {@link #UIDS_PER_ENTRY}), by adding the one state entry named by {@code first}; false when
     * another session has given that UID first.
     */
    boolean give(String folder, long first, List<String> ids) throws Failure {
        Entry state = new Entry(stateDn(folder, first));
        state.addAttribute("objectClass", "mailStoreState");
        state.addAttribute("mailStoreUid", Long.toString(first));
        state.addAttribute("mailStoreId", ids.get(0));
        String[] given = new String[ids.size() - 1];
        for (int i = 1; i < ids.size(); i++) {
            given[i - 1] = (first + i) + " " + ids.get(i);
        }
        if (given.length > 0) {
            // All at once: added one by one, each value was compared with every one before it (the SDK's merge).
            state.addAttribute("mailStoreGivenUid", given);
        }
        return addUnlessPresent("giving messages their UIDs", state);
    }

    /**
     * The states of the further messages a state entry gave UIDs, with the flags it keeps for
     * them; a value that is not "UID ID" or "UID FLAG" (written by hand) names none.
     */
    private static List<State> givenBy(Entry entry) {
        long giver = entry.getAttributeValueAsLong("mailStoreUid");
        Map<Long, List<String>> flags = new HashMap<>();
        for (String value : values(entry, "mailStoreGivenFlag")) {
            String[] uidAndFlag = value.split(" ", 2);
            try {
                flags.computeIfAbsent(Long.parseLong(uidAndFlag[0]), uid -> new ArrayList<>()).add(uidAndFlag[1]);
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException notUidAndFlag) {
                // not one imapd wrote: it flags no message
            }
        }
        List<State> given = new ArrayList<>();
        for (String value : values(entry, "mailStoreGivenUid")) {
            String[] uidAndId = value.split(" ", 2);
            try {
                long uid = Long.parseLong(uidAndId[0]);
                given.add(new State(uid, uidAndId[1], flags.getOrDefault(uid, List.of()), false, giver));
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException notUidAndId) {
                // not one imapd wrote: it names no message
            }
        }
        return given;
    }

    private static String[] values(Entry entry, String attribute) {
        String[] values = entry.getAttributeValues(attribute);
        return values == null ? new String[0] : values;
    }

    /**
     * Adds, removes or (with {@link ModificationType#REPLACE}) sets the flags of each of
     * {@code messages}, the requests sent {@value #IN_FLIGHT} at a time before their answers are
     * awaited: a STORE on 10,000 messages is not 10,000 round trips. The flags of a message given
     * its UID with others stay in the entry that gave it: one synced write for up to
     * {@value #UIDS_PER_ENTRY} messages, not one a message.
     */
    void flags(String folder, List<State> messages, ModificationType how, Collection<String> flags) throws Failure {
        if (flags.isEmpty() && how != ModificationType.REPLACE) {
            return; // +FLAGS () and -FLAGS () change nothing, and a delete of no values would remove every flag
        }
        changed = true;
        List<State> own = new ArrayList<>(messages.stream().filter(message -> !message.given()).toList());
        own.addAll(changeGivenFlags(folder, messages.stream().filter(State::given).toList(), how, flags));
        Modification change = new Modification(how, "mailStoreFlag", flags.toArray(String[]::new));
        for (List<State> batch : inFlight(own)) {
            changeStates("changing flags", folder, batch, change);
        }
    }

    /** {@code requests} in runs of {@value #IN_FLIGHT}, each sent whole before its answers are awaited. */
    private static <T> List<List<T>> inFlight(List<T> requests) {
        List<List<T>> batches = new ArrayList<>();
        for (int from = 0; from < requests.size(); from += IN_FLIGHT) {
            batches.add(requests.subList(from, Math.min(requests.size(), from + IN_FLIGHT)));
        }
        return batches;
    }

    /**
     * Changes the flags of {@code messages}, each given its UID by another's entry, as that
     * entry's values "UID FLAG": one modify an entry. Returns the messages whose entry cannot hold
     * them, the back end's schema older than this imapd's; their flags go into entries of their
     * own, as before flags were kept so. Rules older than the schema (which let an owner add the
     * values but not remove them) are the operator's to mend: NO [SERVERBUG] saying how.
     */
    private List<State> changeGivenFlags(String folder, List<State> messages, ModificationType how, Collection<String> flags)
            throws Failure {
        List<List<State>> byEntry = List.copyOf(messages.stream()
                .collect(Collectors.groupingBy(State::entry, LinkedHashMap::new, Collectors.toList())).values());
        List<State> refused = new ArrayList<>();
        for (List<List<State>> batch : inFlight(byEntry)) {
            refused.addAll(run("changing flags", () -> {
                List<Map.Entry<List<State>, AsyncRequestID>> sent = new ArrayList<>();
                for (List<State> flagged : batch) {
                    DN entry = stateDn(folder, flagged.get(0).entry());
                    List<Modification> changes = givenFlagChanges(entry, flagged, how, flags);
                    if (!changes.isEmpty()) {
                        sent.add(Map.entry(flagged, connection.asyncModify(permissive(entry, changes), (request, result) -> { })));
                    }
                }
                List<State> notHeld = new ArrayList<>();
                for (Map.Entry<List<State>, AsyncRequestID> flagged : sent) {
                    ResultCode result = awaited(flagged.getValue()).getResultCode();
                    long entry = flagged.getKey().get(0).entry();
                    if (OLDER_SCHEMA.contains(result)) {
                        notHeld.addAll(flagged.getKey());
                    } else if (result == ResultCode.INSUFFICIENT_ACCESS_RIGHTS) {
                        throw new Failure("SERVERBUG", "the directory refused changing the flags UID " + entry + " gives: " + result
                                + "; its access rules are older than its schema (apply the first record of mailstore.database.ldif"
                                + " again: docs/imapd.md, on upgrading a back end)", null);
                    } else if (result == ResultCode.NO_SUCH_ATTRIBUTE && how == ModificationType.DELETE) {
                        removeHeld(stateDn(folder, entry), "mailStoreGivenFlag", givenFlagValues(flagged.getKey(), flags));
                    } else if (result != ResultCode.SUCCESS) {
                        throw new LDAPException(result, "changing the flags given with UID " + entry);
                    }
                }
                return notHeld;
            }));
        }
        return refused;
    }

    /**
     * The changes to {@code entry}'s values "UID FLAG" that add, remove or set {@code flags} of
     * each of {@code messages}. Setting reads what the entry holds now: what this session last read
     * can be older than its own last STORE.
     */
    private List<Modification> givenFlagChanges(DN entry, List<State> messages, ModificationType how, Collection<String> flags)
            throws LDAPException {
        List<Modification> changes = new ArrayList<>();
        if (how == ModificationType.REPLACE) {
            Set<String> uids = messages.stream().map(message -> message.uid() + " ").collect(Collectors.toSet());
            SearchResultEntry now = connection.getEntry(entry.toString(), "mailStoreGivenFlag");
            String[] held = now == null ? new String[0] : Stream.of(values(now, "mailStoreGivenFlag"))
                    .filter(value -> uids.contains(value.substring(0, value.indexOf(' ') + 1))).toArray(String[]::new);
            if (held.length > 0) {
                changes.add(new Modification(ModificationType.DELETE, "mailStoreGivenFlag", held));
            }
        }
        List<String> values = givenFlagValues(messages, flags);
        if (!values.isEmpty()) {
            changes.add(new Modification(how == ModificationType.DELETE ? ModificationType.DELETE : ModificationType.ADD,
                    "mailStoreGivenFlag", values.toArray(String[]::new)));
        }
        return changes;
    }

    /** The values "UID FLAG" that say each of {@code messages} has each of {@code flags}. */
    private static List<String> givenFlagValues(List<State> messages, Collection<String> flags) {
        return messages.stream().flatMap(message -> flags.stream().map(flag -> message.uid() + " " + flag)).toList();
    }

    /**
     * Removes from {@code entry} those of {@code values} it holds. slapd refuses a removal that
     * names a value the entry lacks (noSuchAttribute), permissive modify or not, and then removes
     * none of the others: so a -FLAGS naming a flag one message lacks is sent again naming only
     * what the entry holds, read anew if another session changes it in between.
     */
    private void removeHeld(DN entry, String attribute, List<String> values) throws LDAPException, Failure {
        Set<String> named = values.stream().map(value -> value.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        for (int attempt = 1; attempt <= 3; attempt++) {
            SearchResultEntry now = connection.getEntry(entry.toString(), attribute);
            String[] held = now == null ? new String[0] : Stream.of(values(now, attribute))
                    .filter(value -> named.contains(value.toLowerCase(Locale.ROOT))).toArray(String[]::new);
            if (held.length == 0) {
                return;
            }
            try {
                connection.modify(entry.toString(), new Modification(ModificationType.DELETE, attribute, held));
                return;
            } catch (LDAPException refused) {
                if (refused.getResultCode() != ResultCode.NO_SUCH_ATTRIBUTE) {
                    throw refused;
                }
            }
        }
        throw new Failure("INUSE", "another session kept changing these flags while this one removed some; try again", null);
    }

    /**
     * Makes {@code change} to the state entry of each of {@code messages}, adding the entry, with
     * what the change sets, for a message that has none of its own yet. Which have one is what
     * the session last read, which another session can have made untrue since: a modify of an
     * entry not there becomes an add, an add of one there a modify; a state entry is deleted
     * only with its folder, so every message is settled by the third try.
     */
    private void changeStates(String doing, String folder, List<State> messages, Modification change) throws Failure {
        boolean sets = change.getModificationType() != ModificationType.DELETE && change.hasValue();
        run(doing, () -> {
            Map<State, Boolean> adding = new LinkedHashMap<>();
            for (State message : messages) {
                adding.put(message, message.given() && sets);
            }
            for (int attempt = 1; !adding.isEmpty(); attempt++) {
                if (attempt > 3) {
                    throw new Failure("INUSE", "the state entry of UID " + adding.keySet().iterator().next().uid()
                            + " came and went while this session changed it; try again", null);
                }
                List<AsyncRequestID> sent = new ArrayList<>();
                for (Map.Entry<State, Boolean> message : adding.entrySet()) {
                    sent.add(message.getValue()
                            ? connection.asyncAdd(new AddRequest(stateEntry(folder, message.getKey(), change)), (request, result) -> { })
                            : connection.asyncModify(permissive(stateDn(folder, message.getKey().uid()), List.of(change)),
                                    (request, result) -> { }));
                }
                Map<State, Boolean> again = new LinkedHashMap<>();
                Iterator<AsyncRequestID> answers = sent.iterator();
                for (Map.Entry<State, Boolean> message : adding.entrySet()) {
                    ResultCode result = awaited(answers.next()).getResultCode();
                    if (result == ResultCode.NO_SUCH_OBJECT && !message.getValue()) {
                        if (sets) {
                            again.put(message.getKey(), true);
                        }
                    } else if (result == ResultCode.ENTRY_ALREADY_EXISTS && message.getValue()) {
                        again.put(message.getKey(), false);
                    } else if (result == ResultCode.NO_SUCH_ATTRIBUTE && change.getModificationType() == ModificationType.DELETE) {
                        removeHeld(stateDn(folder, message.getKey().uid()), change.getAttributeName(), List.of(change.getValues()));
                    } else if (result != ResultCode.SUCCESS) {
                        throw new LDAPException(result, "changing the state of UID " + message.getKey().uid());
                    }
                }
                adding = again;
            }
            return null;
        });
    }

    /** The state entry of {@code message}'s own, with what {@code change} sets. */
    private Entry stateEntry(String folder, State message, Modification change) {
        Entry state = new Entry(stateDn(folder, message.uid()));
        state.addAttribute("objectClass", "mailStoreState");
        state.addAttribute("mailStoreUid", Long.toString(message.uid()));
        state.addAttribute("mailStoreId", message.id());
        state.addAttribute(change.getAttribute());
        return state;
    }

    /**
     * A modify for which adding a value already there is no error: STORE is idempotent, an expunge
     * final. slapd still refuses a removal naming a value not there: {@link #removeHeld}.
     */
    private static ModifyRequest permissive(DN entry, List<Modification> changes) {
        ModifyRequest request = new ModifyRequest(entry, changes);
        request.addControl(new PermissiveModifyRequestControl());
        return request;
    }

    private static LDAPResult awaited(AsyncRequestID request) throws LDAPException {
        try {
            return request.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LDAPException(ResultCode.USER_CANCELED, "interrupted");
        }
    }

    /** Marks the message expunged, for good, then deletes its entry: its id stays gone if its record is stored again. */
    void expunge(String folder, State state) throws Failure {
        changed = true;
        changeStates("expunging", folder, List.of(state), EXPUNGED);
        removeMessage(folder, state.id());
    }

    private static final Modification EXPUNGED = new Modification(ModificationType.ADD, "mailStoreExpunged", "TRUE");

    /**
     * Expunges the message if the directory holds it flagged \Deleted when the expunge is written,
     * whatever this session last read: another session may have taken the flag away since, and
     * then the message stays. The write that decides is one the directory refuses when the flag
     * is not held: for a message with a state entry of its own, marking it expunged under the LDAP
     * assertion control (RFC 4528); for one whose flags the entry that gave its UID keeps, taking
     * its value "UID \Deleted" from there, after which its own entry marks it expunged (a
     * failure in between leaves it unexpunged and undeleted, the command answered NO).
     */
    void expungeIfDeleted(String folder, State state) throws Failure {
        changed = true;
        if (state.given()) {
            ModifyRequest take = new ModifyRequest(stateDn(folder, state.entry()),
                    new Modification(ModificationType.DELETE, "mailStoreGivenFlag", state.uid() + " " + Flags.DELETED));
            if (madeIfSo(take)) {
                expunge(folder, state);
            }
            return;
        }
        ModifyRequest mark = permissive(stateDn(folder, state.uid()), List.of(EXPUNGED));
        mark.addControl(new AssertionRequestControl(Filter.createEqualityFilter("mailStoreFlag", Flags.DELETED)));
        if (madeIfSo(mark)) {
            removeMessage(folder, state.id());
        }
    }

    /** What the directory answers a change whose condition does not hold: the assertion, the value to remove, the entry itself. */
    private static final Set<ResultCode> NOT_SO = Set.of(ResultCode.ASSERTION_FAILED, ResultCode.NO_SUCH_ATTRIBUTE, ResultCode.NO_SUCH_OBJECT);

    /** Makes {@code change} of an expunge; false when the directory refused it because its condition does not hold. */
    private boolean madeIfSo(ModifyRequest change) throws Failure {
        return run("expunging", () -> {
            try {
                connection.modify(change);
                return true;
            } catch (LDAPException refused) {
                if (NOT_SO.contains(refused.getResultCode())) {
                    return false;
                }
                throw refused;
            }
        });
    }

    /** Deletes the entry of a message whose state says expunged: one stored again, or one a session stopped expunging. */
    void removeMessage(String folder, String id) throws Failure {
        try {
            run("deleting an expunged message", () -> connection.delete(messageDn(folder, id).toString()));
        } catch (Failure e) {
            if (!(e.getCause() instanceof LDAPException ldap && ldap.getResultCode() == ResultCode.NO_SUCH_OBJECT)) {
                throw e;
            }
        }
    }

    /** The message's bytes as stored, or null when it is no longer there. */
    private byte[] raw(String folder, String id) throws Failure {
        Entry entry = run("reading a message", () -> connection.getEntry(messageDn(folder, id).toString(), "mailStoreRaw"));
        return entry == null ? null : entry.getAttributeValueBytes("mailStoreRaw");
    }

    /**
     * The header section of the message as served, kept apart by store-worker and APPEND
     * (mailStoreHeader); the whole message when its entry has none (stored before, or its header
     * longer than {@value ServedForm#MAX_HEADER_BYTES} octets); null when it is no longer there.
     */
    private byte[] header(String folder, String id) throws Failure {
        Entry entry = run("reading a message's header", () -> connection.getEntry(messageDn(folder, id).toString(), "mailStoreHeader"));
        if (entry == null) {
            return null;
        }
        return entry.hasAttribute("mailStoreHeader") ? entry.getAttributeValueBytes("mailStoreHeader") : raw(folder, id);
    }

    /** Messages whose bytes are asked for ahead of their use, as long as their sizes add up to no more than this. */
    private static final long READ_AHEAD_BYTES = 256 * 1024;
    private static final int READ_AHEAD_MESSAGES = 16;

    /**
     * A header section is counted as this many octets against {@value #READ_AHEAD_BYTES}: most are
     * a few KB, none more than {@value ServedForm#MAX_HEADER_BYTES}, so the
     * {@value #READ_AHEAD_MESSAGES} messages read ahead hold 1 MiB at the most.
     */
    private static final long HEADER_BYTES_COUNTED = 4 * 1024;

    /** Messages whose bytes (or header sections) will be asked for, by folder, id and which, in that order; the first ones' reads sent. */
    private final LinkedHashMap<List<Object>, Pending> expected = new LinkedHashMap<>();
    private int readsSent;
    private long bytesSent;

    /**
     * Says that the bytes of messages {@code ids} (of sizes {@code sizes}) of {@code folder}, or
     * their header sections only if {@code header}, will be asked for ({@link #bytes}), in that
     * order, after those expected already: their reads are
     * sent before their answers are awaited, up to {@value #READ_AHEAD_MESSAGES} messages and
     * {@value #READ_AHEAD_BYTES} octets ahead, so that a FETCH of many messages, or many FETCH
     * commands a client sends without waiting (mbsync sends dozens), is not one round trip each,
     * and a session holds no more than that beside the message it sends.
     */
    void expect(String folder, List<String> ids, List<Long> sizes, boolean header) {
        for (int i = 0; i < ids.size(); i++) {
            long size = header ? Math.min(sizes.get(i), HEADER_BYTES_COUNTED) : sizes.get(i);
            expected.putIfAbsent(List.of(folder, ids.get(i), header), new Pending(folder, ids.get(i), header, size));
        }
        sendExpected();
    }

    /** Whether so few messages are expected that reads ahead could soon run out. */
    boolean expectsFew() {
        return expected.size() < 2 * READ_AHEAD_MESSAGES;
    }

    /**
     * The bytes of message {@code id} of {@code folder} as stored, or if {@code header} its
     * header section ({@link #header}: a prefix of the message served, as much as a header fetch
     * needs), or null when it is no longer there: read ahead if it was expected, and the messages
     * expected before it forgotten (the client did not ask for them after all, or not in that
     * order); read now if not.
     */
    byte[] bytes(String folder, String id, boolean header) throws Failure {
        if (!expected.containsKey(List.of(folder, id, header))) {
            return header ? header(folder, id) : raw(folder, id);
        }
        Iterator<Pending> first = expected.values().iterator();
        Pending pending;
        do {
            pending = first.next();
            first.remove();
            if (pending.read != null) {
                readsSent--;
                bytesSent -= pending.size;
            }
        } while (!pending.id.equals(id) || !pending.folder.equals(folder) || pending.header != header);
        sendExpected();
        if (pending.read != null) {
            return pending.read.bytes(folder, id);
        }
        return header ? header(folder, id) : raw(folder, id);
    }

    /**
     * Sends the reads of the next messages expected that fit the window, as one search of their
     * folder, once half the window is free: slapd spends about as much on an operation as on
     * reading a message of 16 KB, so reads of one message each would double its share of a pull.
     */
    private void sendExpected() {
        if (readsSent > READ_AHEAD_MESSAGES / 2 || bytesSent > READ_AHEAD_BYTES / 2) {
            return;
        }
        List<Pending> batch = new ArrayList<>();
        for (Pending pending : expected.values()) {
            if (pending.read != null) {
                continue;
            }
            if (!batch.isEmpty() && (!pending.folder.equals(batch.get(0).folder) || pending.header != batch.get(0).header)
                    || readsSent > 0 && (readsSent >= READ_AHEAD_MESSAGES || bytesSent + pending.size > READ_AHEAD_BYTES)) {
                break;
            }
            batch.add(pending);
            readsSent++;
            bytesSent += pending.size;
        }
        if (!batch.isEmpty()) {
            Read read = new Read(batch.get(0).folder, batch.stream().map(pending -> pending.id).toList(), batch.get(0).header);
            batch.forEach(pending -> pending.read = read);
        }
    }

    /** One message expected, and the read that asks for it once sent. */
    private static final class Pending {
        private final String folder;
        private final String id;
        private final boolean header;
        private final long size;
        private Read read;

        Pending(String folder, String id, boolean header, long size) {
            this.folder = folder;
            this.id = id;
            this.header = header;
            this.size = size;
        }
    }

    /**
     * One search of a folder for the bytes (or header sections) of several messages, answered
     * while the session sends the messages before them.
     */
    private final class Read implements AsyncSearchResultListener {
        private static final long serialVersionUID = 1L;
        /** What {@link #found} holds for a message entry without the header section asked for: read it whole. */
        private static final byte[] NO_HEADER_APART = new byte[0];
        /** The bytes found, by message id, each given up once taken. */
        private final Map<String, byte[]> found = new ConcurrentHashMap<>();
        /** The sizes of the messages found without the header section asked for (stored before they were kept apart), by id. */
        private final Map<String, Long> withoutHeader = new ConcurrentHashMap<>();
        private final Set<String> asked;
        private final String attribute;
        /** The search sent; null when it could not be sent. */
        private AsyncRequestID request;
        /** The read of the messages found without a header section, sent when the first of them is taken. */
        private Read whole;

        Read(String folder, List<String> ids, boolean header) {
            asked = Set.copyOf(ids);
            attribute = header ? "mailStoreHeader" : "mailStoreRaw";
            try {
                // State entries name a message by mailStoreId too; they have no mailStoreSize, which every message has.
                request = connection.asyncSearch(new SearchRequest(this, folderDn(folder).toString(), SearchScope.ONE,
                        Filter.createORFilter(ids.stream().map(id -> Filter.createEqualityFilter("mailStoreId", id)).toList()),
                        "mailStoreId", "mailStoreSize", attribute));
            } catch (LDAPException | IllegalStateException e) {
                // Each read when its turn comes, the way raw reads, reconnecting if need be (see run on the second).
            }
        }

        /** The bytes of message {@code id}, which this read asked for; null when it is no longer there. */
        byte[] bytes(String folder, String id) throws Failure {
            if (request != null) {
                try {
                    ResultCode answer = awaited(request).getResultCode();
                    if (answer == ResultCode.SUCCESS || answer == ResultCode.NO_SUCH_OBJECT) {
                        byte[] bytes = found.remove(id);
                        return bytes == NO_HEADER_APART ? whole(folder, id) : bytes;
                    }
                } catch (LDAPException e) {
                    // as any other answer: read again below, which says why it cannot
                }
            }
            return attribute.equals("mailStoreRaw") ? raw(folder, id) : header(folder, id);
        }

        /**
         * Message {@code id} whole, found without a header section apart: read with the others this
         * read found so, in one search when the first is taken, as many as fit the read-ahead
         * window, so that listing a folder of mail stored before header sections were kept costs
         * the round trips it did.
         */
        private byte[] whole(String folder, String id) throws Failure {
            if (whole == null) {
                List<String> ids = new ArrayList<>(List.of(id));
                long bytes = withoutHeader.get(id);
                for (Map.Entry<String, Long> other : withoutHeader.entrySet()) {
                    if (!other.getKey().equals(id) && bytes + other.getValue() <= READ_AHEAD_BYTES) {
                        ids.add(other.getKey());
                        bytes += other.getValue();
                    }
                }
                whole = new Read(folder, ids, false);
            }
            return whole.asked.contains(id) ? whole.bytes(folder, id) : raw(folder, id);
        }

        @Override
        public void searchEntryReturned(SearchResultEntry returned) {
            Long size = returned.getAttributeValueAsLong("mailStoreSize");
            if (size != null) {
                String id = returned.getAttributeValue("mailStoreId");
                byte[] bytes = returned.getAttributeValueBytes(attribute);
                if (bytes == null) {
                    withoutHeader.put(id, size);
                }
                found.put(id, bytes == null ? NO_HEADER_APART : bytes);
            }
        }

        @Override
        public void searchReferenceReturned(SearchResultReference reference) {
        }

        @Override
        public void searchResultReceived(AsyncRequestID requestId, SearchResult result) {
        }
    }

    /**
     * The longest folder name, in octets of the name slapd gives its entry once normalized, where
     * each character an RDN escapes takes three (\XX): slapd's mdb keeps an entry's name twice, as
     * written and normalized, in a record of at most 511 octets, and refuses a longer one as an
     * "other" error (a name of 246 letters is the last it took here, one of 119 commas too long).
     */
    static final int MAX_FOLDER_NAME_OCTETS = 237;

    /** The characters an RDN escapes: each takes three octets of a folder name's {@link #MAX_FOLDER_NAME_OCTETS}. */
    private static final String ESCAPED_IN_RDN = ",+\"\\<>;=#";

    /** Whether the directory can name a folder's entry after {@code name}, a name in modified UTF-7 (printable US-ASCII). */
    static boolean folderNameFits(String name) {
        return name.chars().map(c -> ESCAPED_IN_RDN.indexOf(c) >= 0 ? 3 : 1).sum() <= MAX_FOLDER_NAME_OCTETS;
    }

    /** Folder {@code name} as the directory compares folder names: ignoring case, and the spaces around and between its words. */
    static String comparable(String name) {
        return new RDN("cn", name).toNormalizedString();
    }

    /** Makes folder {@code name}; false when it exists. */
    boolean createFolder(String name) throws Failure {
        Entry folder = new Entry(folderDn(name));
        folder.addAttribute("objectClass", "mailStoreFolder");
        folder.addAttribute("cn", name);
        return addUnlessPresent("making a folder", folder, refused -> refused.getResultCode() == ResultCode.ENTRY_ALREADY_EXISTS);
    }

    /** Deletes {@code folder} with every message and state in it; returns once its name may be given again (see {@link #freeName}). */
    void deleteFolder(Folder folder) throws Failure {
        for (SearchResultEntry child : search(folderDn(folder.name()), Filter.createPresenceFilter("objectClass"), "1.1")) {
            run("deleting a folder's mail", () -> connection.delete(child.getDN()));
        }
        // The folder's subscription written as it is: a write, to learn the directory's time (see freeName).
        LDAPResult touched = writeSubscription("deleting a folder", folder.name(), folder.subscribed());
        run("deleting a folder", () -> connection.delete(folderDn(folder.name()).toString()),
                refused -> refused.getResultCode() == ResultCode.NO_SUCH_OBJECT);
        freeName(folder, stamped(touched));
    }

    /**
     * Renames {@code folder} to {@code to} and each folder of {@code below} to the name it maps to,
     * their mail, UIDs and UIDVALIDITY with them; returns once the old names may be given again.
     * Each folder is an entry of its own, so this is a write a folder, with nothing to make them
     * one: the folders below go first and {@code folder} last, so that a rename cut short (the
     * directory lost) leaves {@code folder} under its old name with what had not moved yet below
     * it, and the same rename again moves the rest.
     */
    void renameFolder(Folder folder, String to, Map<Folder, String> below) throws Failure {
        for (Map.Entry<Folder, String> moving : below.entrySet()) {
            renameOne(moving.getKey(), moving.getValue());
        }
        renameOne(folder, to);
    }

    private void renameOne(Folder folder, String to) throws Failure {
        LDAPResult renamed = run("renaming a folder", () -> connection.modifyDN(new ModifyDNRequest(folderDn(folder.name()).toString(),
                new RDN("cn", to).toString(), true, null, new Control[] {STAMP})),
                refused -> refused.getResultCode() == ResultCode.NO_SUCH_OBJECT
                        && folder(to).map(Folder::uuid).filter(folder.uuid()::equals).isPresent());
        freeName(folder, renamed == null ? Instant.now() : stamped(renamed));
    }

    /**
     * Returns once the second in which {@code folder} was made has passed by the directory's
     * clock, which read {@code directoryNow} at a write just made: a folder made again under the
     * name it leaves takes its UIDVALIDITY from the second slapd makes it in (see {@link
     * #folder(Entry)}), which must be greater than the one before (RFC 3501 2.3.1.1: its UIDs
     * start again). slapd's clock, not this machine's, which may run ahead of it.
     */
    private static void freeName(Folder folder, Instant directoryNow) {
        long wait = (folder.uidValidity() + 1) * 1000 - directoryNow.toEpochMilli();
        try {
            Thread.sleep(Math.max(0, wait));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The time the directory wrote into the entryCSN {@link #STAMP} read back; this machine's if it sent none. */
    private static Instant stamped(LDAPResult write) {
        try {
            PostReadResponseControl postRead = PostReadResponseControl.get(write);
            String csn = postRead == null ? null : postRead.getEntry().getAttributeValue("entryCSN");
            if (csn != null) {
                return ChangeCursor.time(csn);
            }
        } catch (LDAPException | DateTimeException | IndexOutOfBoundsException unreadable) {
            // this machine's time, as below
        }
        return Instant.now();
    }

    void subscribe(String name, boolean subscribed) throws Failure {
        writeSubscription("subscribing", name, subscribed);
    }

    /** Writes whether folder {@code name} is subscribed; the answer carries the directory's time ({@link #stamped}). */
    private LDAPResult writeSubscription(String doing, String name, boolean subscribed) throws Failure {
        ModifyRequest change = new ModifyRequest(folderDn(name).toString(),
                List.of(new Modification(ModificationType.REPLACE, "mailStoreSubscribed", subscribed ? "TRUE" : "FALSE")), new Control[] {STAMP});
        return run(doing, () -> connection.modify(change));
    }

    /**
     * Adds {@code raw} to folder {@code name} as message {@code id} (its content's, unless that was
     * expunged there: {@link #idIn}) received at {@code received} by the owner; false when the
     * folder holds it already. A message put there by a client is in no topic: a rebuild from the
     * topic does not bring it back.
     */
    boolean append(String folder, byte[] raw, Instant received, String id) throws Failure {
        Entry message = new Entry(messageDn(folder, id));
        message.addAttribute("objectClass", "mailStoreMessage");
        message.addAttribute("mailStoreId", id);
        message.addAttribute("mailStoreRaw", raw);
        message.addAttribute("mailStoreSize", Integer.toString(raw.length));
        message.addAttribute("mailStoreServedSize", Long.toString(ServedForm.size(raw)));
        message.addAttribute("mailStoreSha256", contentId(id));
        message.addAttribute("mailStoreReceived", StaticUtils.encodeGeneralizedTime(Date.from(received)));
        message.addAttribute("mailStoreRecipient", ownerAddress());
        byte[] header = ServedForm.header(raw);
        if (header != null) {
            message.addAttribute("mailStoreHeader", header);
        }
        changed = true;
        try {
            return addUnlessPresent("adding a message", message);
        } catch (Failure e) {
            if (header == null || !(e.getCause() instanceof LDAPException ldap && OLDER_SCHEMA.contains(ldap.getResultCode()))) {
                throw e;
            }
            // A back end whose schema predates the header kept apart: the message alone, which header fetches read whole.
            message.removeAttribute("mailStoreHeader");
            return addUnlessPresent("adding a message", message);
        }
    }

    /**
     * Copies message {@code id} of folder {@code from} into folder {@code to} as message {@code as},
     * every other attribute as it is, unless it is there already; false when it is no longer in
     * {@code from}.
     */
    boolean copy(String from, String to, String id, String as) throws Failure {
        Entry source = run("reading a message", () -> connection.getEntry(messageDn(from, id).toString(), "*"));
        if (source == null) {
            return false;
        }
        Entry copy = source.duplicate();
        copy.setDN(messageDn(to, as));
        copy.setAttribute("mailStoreId", as);
        changed = true;
        addUnlessPresent("copying a message", copy);
        return true;
    }

    /**
     * The id message {@code id} takes in a folder whose expunged ids are {@code goneThere}
     * (COPY, MOVE, APPEND): its content's id; or, put back where that was expunged, the first of
     * that id followed by .1, .2, ... not expunged there, since under an expunged id the state that
     * keeps a record stored again gone would delete it at once. One message so takes one id in a
     * folder however often it is put back (a client's retry, a second COPY), and a folder holds it
     * once, as it holds a delivered message once.
     */
    static String idIn(Set<String> goneThere, String id) {
        String content = contentId(id);
        String candidate = content;
        for (int putBack = 1; goneThere.contains(candidate); putBack++) {
            candidate = content + "." + putBack;
        }
        return candidate;
    }

    /** The id of message {@code id}'s content, without a put-back's number: by the identity rule (MessageIdentity), its SHA-256. */
    private static String contentId(String id) {
        int dot = id.indexOf('.');
        return dot < 0 ? id : id.substring(0, dot);
    }

    Quota quota() throws Failure {
        Entry self = run("reading the quota", () -> connection.getEntry(owner.toString(), "mailStoreQuotaBytes",
                "mailStoreQuotaMessages", "mailStoreUsedBytes", "mailStoreUsedMessages"));
        if (self == null) {
            return defaultQuota;
        }
        return new Quota(numberOr(self, "mailStoreQuotaBytes", defaultQuota.limitBytes()),
                numberOr(self, "mailStoreQuotaMessages", defaultQuota.limitMessages()),
                numberOr(self, "mailStoreUsedBytes", 0), numberOr(self, "mailStoreUsedMessages", 0));
    }

    private static long numberOr(Entry entry, String attribute, long otherwise) {
        Long value = entry.getAttributeValueAsLong(attribute);
        return value == null ? otherwise : value;
    }

    /** The owner's address, which a message a client adds is said to be delivered to. */
    private String ownerAddress() throws Failure {
        Entry self = run("reading the owner's address", () -> connection.getEntry(owner.toString(), "mail"));
        String mail = self == null ? null : self.getAttributeValue("mail");
        return mail != null ? mail : owner.getRDN().getAttributeValues()[0];
    }

    private boolean addUnlessPresent(String doing, Entry entry) throws Failure {
        // An entry found present when the add is tried again may be another session's (a UID it gave): not this add's.
        return addUnlessPresent(doing, entry, refused -> false);
    }

    /** Adds {@code entry}; false when it is present, unless {@code madeBefore} says this add made it (see {@link #run}). */
    private boolean addUnlessPresent(String doing, Entry entry, MadeBefore madeBefore) throws Failure {
        try {
            run(doing, () -> connection.add(entry), madeBefore);
            return true;
        } catch (Failure e) {
            if (e.getCause() instanceof LDAPException ldap && ldap.getResultCode() == ResultCode.ENTRY_ALREADY_EXISTS) {
                return false;
            }
            throw e;
        }
    }

    private List<SearchResultEntry> search(DN base, Filter filter, String... attributes) throws Failure {
        return search(base, filter, null, attributes);
    }

    /** The entries below {@code base} that {@code filter} matches, with {@code control} (none when null). */
    private List<SearchResultEntry> search(DN base, Filter filter, Control control, String... attributes) throws Failure {
        return run("searching", () -> {
            SearchRequest request = new SearchRequest(base.toString(), SearchScope.ONE, DereferencePolicy.NEVER, 0, 0, false,
                    filter, attributes);
            if (control != null) {
                request.addControl(control);
            }
            // Asked for explicitly: slapd's soft limit for users (500 in the shipped rules) applies to a request without one.
            request.setSizeLimit(Integer.MAX_VALUE);
            return connection.search(request).getSearchEntries();
        });
    }

    private DN folderDn(String name) {
        return new DN(new RDN("cn", name), owner);
    }

    private DN stateDn(String folder, long uid) {
        return new DN(new RDN("mailStoreUid", Long.toString(uid)), folderDn(folder));
    }

    private DN messageDn(String folder, String id) {
        return new DN(new RDN("mailStoreId", id), folderDn(folder));
    }

    private interface Operation<T> {
        /** Throws LDAPException for what the directory answered, Failure for what this server decides it means. */
        T run() throws LDAPException, Failure;
    }

    /** Runs {@code operation}; once more on a fresh connection when the connection was lost under it. */
    private <T> T run(String doing, Operation<T> operation) throws Failure {
        return run(doing, operation, refused -> false);
    }

    /** What a write tried again answers when the try whose answer was lost with the connection made the change. */
    private interface MadeBefore {
        boolean says(LDAPException refused) throws Failure;
    }

    /**
     * Runs the write {@code operation} as {@link #run(String, Operation)} does; when the connection
     * was lost under it, its answer may have been lost with a change made, and the directory then
     * refuses the write tried again as {@code madeBefore} says: the change is made, and null is
     * returned (a folder made twice would say ALREADYEXISTS, one renamed or deleted twice
     * NONEXISTENT, to the user whose command did it).
     */
    private <T> T run(String doing, Operation<T> operation, MadeBefore madeBefore) throws Failure {
        try {
            return operation.run();
        } catch (LDAPException e) {
            if (ResultCode.isConnectionUsable(e.getResultCode())) {
                throw refused(doing, e);
            }
        } catch (IllegalStateException closing) {
            // The SDK's answer to an asynchronous request sent in the moment its connection closes under it (the
            // connection's timer cancelled before it is marked closed): a connection lost, like any other.
        }
        try {
            connection.close();
            connect();
            return operation.run();
        } catch (IllegalStateException closing) {
            throw unavailable(doing, new LDAPException(ResultCode.SERVER_DOWN, "the connection closed again under the retry", closing));
        } catch (LDAPException e) {
            if (!ResultCode.isConnectionUsable(e.getResultCode())) {
                throw unavailable(doing, e);
            }
            if (madeBefore.says(e)) {
                return null;
            }
            throw refused(doing, e);
        }
    }

    private static Failure unavailable(String doing, LDAPException e) {
        return new Failure("UNAVAILABLE", "the directory cannot be reached " + doing + ": " + e.getResultCode(), e);
    }

    private static Failure refused(String doing, LDAPException e) {
        ResultCode result = e.getResultCode();
        String code = "SERVERBUG";
        String why = "";
        if (result == ResultCode.INSUFFICIENT_ACCESS_RIGHTS) {
            code = "NOPERM";
        } else if (result == ResultCode.ENTRY_ALREADY_EXISTS) {
            // A name another session took meanwhile: not a bug either.
            code = "ALREADYEXISTS";
            why = ", the name is taken (by a folder made meanwhile)";
        } else if (result == ResultCode.NO_SUCH_OBJECT) {
            // Deleted or renamed by another session of the user meanwhile: not a bug.
            code = "NONEXISTENT";
            why = ", the folder or message is gone (deleted or renamed by another session)";
        } else if (result == ResultCode.UNDEFINED_ATTRIBUTE_TYPE || result == ResultCode.OBJECT_CLASS_VIOLATION) {
            // A back end whose schema an operator has not upgraded with imapd: say what it lacks.
            why = ", " + e.getDiagnosticMessage() + "; its schema is older than this imapd's (imapd check says what it lacks)";
        }
        return new Failure(code, "the directory refused " + doing + ": " + result + why, e);
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close();
        }
    }
}
