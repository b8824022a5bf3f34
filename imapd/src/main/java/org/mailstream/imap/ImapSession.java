package org.mailstream.imap;

import com.unboundid.ldap.sdk.ModificationType;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.schemas.ServedForm;
import org.mailstream.server.Connection;
import org.mailstream.server.Protocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One IMAP4rev1 (RFC 3501) conversation: log in, bound to the directory as the user; then the
 * user's folders and messages as {@link Mailstore} shows them. Commands are answered in order;
 * a malformed one gets BAD and the session goes on, until the error limit. Plain-text log in is
 * offered only where no one can listen (loopback, a unix socket): elsewhere LOGINDISABLED.
 */
final class ImapSession implements Protocol.Session {

    /** The protocol as the server core runs it: a session for each connection. */
    static final class Context implements Protocol {
        private final ImapConfig config;
        private final ImapMetrics metrics;
        /** The server's TLS context; null when TLS is not configured. */
        private final SSLContext tls;
        /** Sessions logged in, by user (the uid as the directory compares it: case and the spaces around it aside). */
        private final Map<String, Integer> sessionsByUser = new HashMap<>();
        private final FolderViews views;
        /** Sessions in IDLE, by their owner's normalized DN: woken to look when another session of the owner changes the mailbox. */
        private final Map<String, Set<Connection>> idling = new HashMap<>();

        Context(ImapConfig config, ImapMetrics metrics, SSLContext tls) {
            this.config = config;
            this.metrics = metrics;
            this.tls = tls;
            this.views = new FolderViews(config.folderCacheEntries(), metrics);
        }

        /** Counts a session of {@code user} in; false, counting nothing, when the user has as many as allowed. */
        private synchronized boolean admit(String user) {
            int sessions = sessionsByUser.getOrDefault(user, 0);
            if (sessions >= config.maxConnectionsPerUser()) {
                return false;
            }
            sessionsByUser.put(user, sessions + 1);
            return true;
        }

        private synchronized void leave(String user) {
            sessionsByUser.computeIfPresent(user, (name, sessions) -> sessions > 1 ? sessions - 1 : null);
        }

        private synchronized void startIdling(String owner, Connection connection) {
            idling.computeIfAbsent(owner, dn -> new HashSet<>()).add(connection);
        }

        private synchronized void stopIdling(String owner, Connection connection) {
            idling.computeIfPresent(owner, (dn, sessions) -> sessions.remove(connection) && sessions.isEmpty() ? null : sessions);
        }

        /**
         * Wakes {@code owner}'s idling sessions, which otherwise would see a change another session
         * of the owner made only at their next look; changes delivered by the worker, or made
         * through another imapd, still wait for that look.
         */
        private synchronized void changed(String owner) {
            idling.getOrDefault(owner, Set.of()).forEach(Connection::wake);
        }

        @Override
        public String name() {
            return "imap";
        }

        @Override
        public Session open(Connection connection) {
            return new ImapSession(this, connection);
        }

        @Override
        public String farewell(Farewell why, String peer) {
            return switch (why) {
                case NOT_ALLOWED -> "* BYE " + peer + " may not connect";
                case TOO_MANY_CONNECTIONS -> "* BYE [UNAVAILABLE] too many connections, try again later";
                case SHUTTING_DOWN -> "* BYE [UNAVAILABLE] shutting down, try again later";
                case IDLE -> "* BYE Autologout; idle for too long";
                case TRANSACTION_TOO_LONG -> "* BYE the command took too long";
            };
        }
    }

    /** A command's outcome that ends the session after its response. */
    private static final class Logout extends Exception {
    }

    private static final Logger LOG = LoggerFactory.getLogger(ImapSession.class);
    private static final Set<String> COMMANDS = Set.of("CAPABILITY", "NOOP", "LOGOUT", "LOGIN", "AUTHENTICATE", "ID", "ENABLE",
            "NAMESPACE", "SELECT", "EXAMINE", "LIST", "LSUB", "STATUS", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH",
            "STORE", "UID", "IDLE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "APPEND", "COPY", "MOVE", "STARTTLS",
            "GETQUOTAROOT", "GETQUOTA", "SETQUOTA");
    private static final DateTimeFormatter INTERNALDATE = DateTimeFormatter.ofPattern("dd-MMM-yyyy HH:mm:ss Z", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final Pattern ATOM = Pattern.compile("[\\x21-\\x7e&&[^(){%*\"\\\\\\]]]+");
    /** How far into what the client has sent ahead a FETCH looks for more FETCH commands. */
    private static final int PIPELINE_PEEK_BYTES = 8192;
    /** How many messages' header sections a SEARCH that reads one asks for ahead of it. */
    private static final int SEARCH_READ_AHEAD = 64;
    /** What the folders of these names are for (RFC 6154), as Dovecot's default configuration has it, unless a folder says otherwise. */
    private static final Map<String, List<String>> SPECIAL_USE = Map.of("Sent", List.of("\\Sent"),
            "Drafts", List.of("\\Drafts"), "Trash", List.of("\\Trash"), "Junk", List.of("\\Junk"));
    private static final DateTimeFormatter APPEND_DATE = DateTimeFormatter.ofPattern("d-MMM-yyyy HH:mm:ss Z", Locale.ROOT);

    private final Context context;
    private final Connection connection;
    /** The client's input, read in blocks rather than a system call an octet; read anew once TLS starts. */
    private ClientInput in;
    /** Where in the input the FETCH commands sent ahead have been looked at up to (their reads expected already). */
    private long lookedAheadTo;
    private final OutputStream out;
    private CommandReader reader;
    /** Whether no one can listen: a loopback or unix-socket client, whose password may go in the clear. */
    private final boolean privateLine;
    private volatile long commandStartedNanos = -1;
    private int errors;
    private Mailstore store;
    /** Who is logged in, as counted for the per-user limit; null before log in and after log out. */
    private String user;
    private SelectedFolder selected;

    private ImapSession(Context context, Connection connection) {
        this.context = context;
        this.connection = connection;
        this.out = connection.out();
        readFromTheStart();
        this.privateLine = connection.address() == null || connection.address().isLoopbackAddress();
    }

    /** Reads the client's input from here on, nothing kept of what came before (RFC 3501 6.2.1: nothing after STARTTLS). */
    private void readFromTheStart() {
        in = new ClientInput(connection.in(), 8192);
        lookedAheadTo = 0;
        reader = new CommandReader(in, context.config.maxLineBytes(), context.config.maxLiteralBytes(), context.config.maxMessageBytes());
    }

    private boolean loginAllowed() {
        return privateLine || connection.secure();
    }

    @Override
    public OptionalLong transactionStartedNanos() {
        long started = commandStartedNanos;
        return started < 0 ? OptionalLong.empty() : OptionalLong.of(started);
    }

    @Override
    public void serve() throws IOException {
        try {
            if (context.config.tlsPorts().contains(connection.localPort())) {
                connection.startTls(context.tls);
            }
            line("* OK [CAPABILITY " + capabilities() + "] mailstream imapd ready");
            out.flush();
            while (true) {
                List<Object> parts;
                try {
                    parts = reader.read(() -> {
                        line("+ go ahead");
                        out.flush();
                    });
                    if (parts == null) {
                        return;
                    }
                    commandStartedNanos = System.nanoTime();
                    command(new Arguments(parts));
                } catch (CommandReader.Unreadable e) {
                    if (e.fatal) {
                        line("* BYE " + e.getMessage());
                        return;
                    }
                    if (e.tooBig) {
                        respond(e.tag, "NO [TOOBIG] " + e.getMessage());
                    } else {
                        bad(e.tag, e.getMessage());
                    }
                } catch (Logout done) {
                    return;
                } finally {
                    commandStartedNanos = -1;
                }
                if (errors > context.config.server().maxErrors()) {
                    line("* BYE too many errors");
                    return;
                }
            }
        } finally {
            out.flush();
            logOut();
        }
    }

    /** Ends the session's part in the per-user count, and keeps its folder's view; the directory's connection stays open. */
    private void countOut() {
        if (user != null) {
            leaveSelected();
            context.leave(user);
            user = null;
        }
    }

    private void logOut() {
        countOut();
        if (store != null) {
            store.close();
            store = null;
        }
    }

    private String capabilities() {
        boolean startTls = context.tls != null && !connection.secure() && connection.address() != null && store == null;
        return "IMAP4rev1 LITERAL+ ID ENABLE UNSELECT NAMESPACE IDLE UIDPLUS MOVE SPECIAL-USE QUOTA" + (startTls ? " STARTTLS" : "")
                + (loginAllowed() ? " AUTH=PLAIN" : " LOGINDISABLED");
    }

    private void command(Arguments arguments) throws IOException, Logout {
        String tag;
        try {
            tag = arguments.word();
            if (!ATOM.matcher(tag).matches() || tag.indexOf('+') >= 0) {
                throw new Arguments.Bad("not a tag: " + tag);
            }
        } catch (Arguments.Bad e) {
            // The one BAD without a tag (RFC 3501 7.1.3): a client waits for its command's tagged answer, so any other is tagged.
            bad("*", e.getMessage());
            return;
        }
        String name = "";
        String result;
        try {
            arguments.space();
            name = arguments.word().toUpperCase(Locale.ROOT);
            result = dispatch(tag, name, arguments);
        } catch (Arguments.Bad e) {
            result = bad(tag, e.getMessage());
        } catch (Mailstore.Failure e) {
            if (e.code.equals("SERVERBUG")) {
                // Not the client's doing, and nothing the client can mend: the operator must hear of it.
                LOG.warn("{} of {} answered NO [SERVERBUG] {}", name, user, e.getMessage());
            }
            result = respond(tag, "NO [" + e.code + "] " + e.getMessage());
        } finally {
            if (store != null && store.changedSinceAsked()) {
                context.changed(store.ownerDn());
            }
        }
        context.metrics.command(COMMANDS.contains(name) ? name : "unknown", result);
    }

    /** Runs one command; returns OK, NO or BAD, as answered. */
    private String dispatch(String tag, String name, Arguments arguments) throws IOException, Arguments.Bad, Mailstore.Failure, Logout {
        switch (name) {
            case "CAPABILITY" -> {
                arguments.end();
                line("* CAPABILITY " + capabilities());
                return ok(tag, "CAPABILITY completed");
            }
            case "NOOP", "CHECK" -> {
                arguments.end();
                if (selected != null) {
                    sendAll(selected.sync(store));
                }
                return ok(tag, name + " completed");
            }
            case "LOGOUT" -> {
                arguments.end();
                // Counted out before the answer, so that a client that logs in again at once finds room;
                // the directory's connection is closed after it, which the client need not wait for.
                countOut();
                line("* BYE logging out");
                ok(tag, "LOGOUT completed");
                throw new Logout();
            }
            case "ID" -> {
                line("* ID (\"name\" \"mailstream imapd\")");
                arguments.rest();
                return ok(tag, "ID completed");
            }
            case "LOGIN" -> {
                arguments.space();
                String user = arguments.astring();
                arguments.space();
                String password = arguments.astring();
                arguments.end();
                return logIn(tag, user, password);
            }
            case "AUTHENTICATE" -> {
                return authenticate(tag, arguments);
            }
            case "STARTTLS" -> {
                arguments.end();
                if (context.tls == null || connection.address() == null) {
                    return respond(tag, "NO [CANNOT] TLS is not offered here");
                }
                if (connection.secure() || store != null) {
                    return bad(tag, "STARTTLS only before log in, and once");
                }
                ok(tag, "begin TLS now");
                connection.startTls(context.tls);
                readFromTheStart();
                return "OK";
            }
            default -> {
            }
        }
        if (store == null) {
            return bad(tag, COMMANDS.contains(name) ? "log in first" : "no such command: " + name);
        }
        switch (name) {
            case "ENABLE" -> {
                arguments.rest();
                line("* ENABLED");
                return ok(tag, "ENABLE completed");
            }
            case "NAMESPACE" -> {
                arguments.end();
                line("* NAMESPACE ((\"\" \"/\")) NIL NIL");
                return ok(tag, "NAMESPACE completed");
            }
            case "GETQUOTAROOT" -> {
                arguments.space();
                String folder = canonical(arguments.astring());
                arguments.end();
                return quotaRoot(tag, folder);
            }
            case "GETQUOTA" -> {
                arguments.space();
                String root = arguments.astring();
                arguments.end();
                return quota(tag, root);
            }
            case "SETQUOTA" -> {
                arguments.rest();
                return respond(tag, "NO [NOPERM] a quota is set by the operator, in the directory");
            }
            case "SELECT", "EXAMINE" -> {
                arguments.space();
                String folder = arguments.astring();
                arguments.end();
                return select(tag, name, folder);
            }
            case "LIST", "LSUB" -> {
                arguments.space();
                String reference = arguments.astring();
                arguments.space();
                String pattern = arguments.astring();
                arguments.end();
                return list(tag, name, reference, pattern);
            }
            case "STATUS" -> {
                arguments.space();
                String folder = arguments.astring();
                arguments.space();
                List<String> items = arguments.wordList();
                arguments.end();
                return status(tag, folder, items);
            }
            case "CREATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE" -> {
                arguments.space();
                String folder = arguments.astring();
                arguments.end();
                // CREATE's trailing separator only declares that names below it will follow (RFC 3501 6.3.3).
                boolean declaration = name.equals("CREATE") && folder.endsWith("/");
                return changeFolder(tag, name, canonical(declaration ? folder.substring(0, folder.length() - 1) : folder));
            }
            case "RENAME" -> {
                arguments.space();
                String from = canonical(arguments.astring());
                arguments.space();
                String to = canonical(arguments.astring());
                arguments.end();
                return rename(tag, from, to);
            }
            case "APPEND" -> {
                return append(tag, arguments);
            }
            default -> {
            }
        }
        if (selected == null) {
            return bad(tag, COMMANDS.contains(name) ? "select a folder first" : "no such command: " + name);
        }
        boolean byUid = false;
        String command = name;
        if (name.equals("UID")) {
            arguments.space();
            command = arguments.word().toUpperCase(Locale.ROOT);
            byUid = true;
        }
        switch (command) {
            case "FETCH" -> {
                Fetch fetch = Fetch.parse(arguments);
                return fetch(tag, fetch.set(), byUid, fetch.items());
            }
            case "STORE" -> {
                arguments.space();
                SequenceSet set = SequenceSet.parse(arguments.word());
                arguments.space();
                String how = arguments.word().toUpperCase(Locale.ROOT);
                arguments.space();
                List<String> flags = Flags.parseAll(arguments.wordList());
                arguments.end();
                return store(tag, set, byUid, how, flags);
            }
            case "SEARCH" -> {
                arguments.space();
                Search search = Search.parse(arguments);
                return search(tag, byUid, search);
            }
            case "EXPUNGE" -> {
                SequenceSet only = null;
                if (byUid) {
                    arguments.space();
                    only = SequenceSet.parse(arguments.word());
                }
                arguments.end();
                if (selected.readOnly) {
                    return respond(tag, "NO [READ-ONLY] the folder was opened with EXAMINE");
                }
                sendAll(expungeDeleted(only));
                sendAll(selected.sync(store));
                return ok(tag, (byUid ? "UID " : "") + "EXPUNGE completed");
            }
            case "CLOSE", "UNSELECT" -> {
                if (byUid) {
                    return bad(tag, "no such command: UID " + command);
                }
                arguments.end();
                if (command.equals("CLOSE") && !selected.readOnly) {
                    expungeDeleted(null); // what changed meanwhile goes unsaid: CLOSE sends no EXPUNGE
                }
                leaveSelected();
                return ok(tag, command + " completed");
            }
            case "IDLE" -> {
                arguments.end();
                return idle(tag);
            }
            case "COPY", "MOVE" -> {
                arguments.space();
                SequenceSet set = SequenceSet.parse(arguments.word());
                arguments.space();
                String target = canonical(arguments.astring());
                arguments.end();
                return copy(tag, set, byUid, target, command.equals("MOVE"));
            }
            default -> {
                return bad(tag, "no such command: " + name + (byUid ? " " + command : ""));
            }
        }
    }

    private String logIn(String tag, String name, String password) throws IOException {
        if (store != null) {
            return bad(tag, "already logged in");
        }
        if (!loginAllowed()) {
            errors++;
            return respond(tag, "NO [PRIVACYREQUIRED] log in only over TLS (STARTTLS, or the implicit TLS port)");
        }
        Optional<Mailstore> bound;
        try {
            bound = Mailstore.login(context.config, name, password);
        } catch (Mailstore.Failure e) {
            context.metrics.login("unavailable");
            return respond(tag, "NO [UNAVAILABLE] the directory cannot be reached; try again later");
        }
        if (bound.isEmpty()) {
            context.metrics.login("failed");
            errors++;
            pause(context.config.loginFailureDelayMs());
            return respond(tag, "NO [AUTHENTICATIONFAILED] authentication failed");
        }
        // By the owner, however the user named themselves: ALICE, "alice " and alice@example.com are one user.
        String counted = bound.get().user();
        if (!context.admit(counted)) {
            bound.get().close();
            context.metrics.login("limit");
            return respond(tag, "NO [LIMIT] " + context.config.maxConnectionsPerUser() + " sessions of this user at once already");
        }
        context.metrics.login("ok");
        store = bound.get();
        user = counted;
        return ok(tag, "[CAPABILITY " + capabilities() + "] logged in");
    }

    /** AUTHENTICATE PLAIN (RFC 4616), with the initial response on the command line (SASL-IR) or after a continuation. */
    private String authenticate(String tag, Arguments arguments) throws IOException, Arguments.Bad, Logout {
        arguments.space();
        String mechanism = arguments.word();
        if (!mechanism.equalsIgnoreCase("PLAIN")) {
            return respond(tag, "NO [CANNOT] only PLAIN is offered");
        }
        String response;
        if (arguments.take(' ')) {
            response = arguments.word();
            arguments.end();
        } else {
            arguments.end();
            line("+ ");
            try {
                response = continuation();
            } catch (CommandReader.Unreadable e) {
                return bad(tag, e.getMessage());
            }
        }
        if (response.equals("*")) {
            return bad(tag, "authentication cancelled");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(response.equals("=") ? "" : response);
        } catch (IllegalArgumentException e) {
            return bad(tag, "the response is not base64");
        }
        String[] fields = new String(decoded, StandardCharsets.UTF_8).split("\0", -1);
        if (fields.length != 3 || (!fields[0].isEmpty() && !fields[0].equals(fields[1]))) {
            // Acting as another user (an authorization identity of its own) is not offered.
            return logIn(tag, "", "");
        }
        return logIn(tag, fields[1], fields[2]);
    }

    private String select(String tag, String command, String name) throws IOException, Mailstore.Failure {
        leaveSelected();
        String folderName = canonical(name);
        Optional<Mailstore.Folder> folder = store.folder(folderName);
        if (folder.isEmpty() && !folderName.equals("INBOX")) {
            return respond(tag, "NO [NONEXISTENT] no such folder");
        }
        SelectedFolder opening = look(folderName, folder, command.equals("EXAMINE"));
        long uidValidity = opening.uidValidity;
        List<SelectedFolder.Message> messages = opening.messages();
        line("* FLAGS " + Flags.SYSTEM_LIST);
        line("* OK [PERMANENTFLAGS " + (opening.readOnly ? "()" : Flags.PERMANENT_LIST) + "] flags the client may change");
        line("* " + messages.size() + " EXISTS");
        line("* 0 RECENT");
        for (int number = 1; number <= messages.size(); number++) {
            if (!Flags.has(messages.get(number - 1).flags(), Flags.SEEN)) {
                line("* OK [UNSEEN " + number + "] first unseen");
                break;
            }
        }
        line("* OK [UIDVALIDITY " + uidValidity + "] UIDs valid");
        line("* OK [UIDNEXT " + opening.uidNext() + "] predicted next UID");
        selected = opening;
        return ok(tag, (opening.readOnly ? "[READ-ONLY] " : "[READ-WRITE] ") + command + " completed");
    }

    private String list(String tag, String command, String reference, String pattern) throws IOException, Mailstore.Failure {
        if (pattern.isEmpty()) {
            line("* " + command + " (\\Noselect) \"/\" \"\"");
            return ok(tag, command + " completed");
        }
        ListPattern matcher = new ListPattern(reference + pattern);
        Set<String> seen = new TreeSet<>();
        List<Mailstore.Folder> folders = new ArrayList<>(store.folders());
        if (folders.stream().noneMatch(folder -> folder.name().equalsIgnoreCase("INBOX"))) {
            folders.add(0, new Mailstore.Folder("INBOX", List.of(), true, 1, null));
        }
        for (Mailstore.Folder folder : folders) {
            String name = canonical(folder.name());
            boolean matches = matcher.matches(name) || (name.equals("INBOX") && matcher.matches("inbox"));
            if (matches && seen.add(name)) {
                if (command.equals("LSUB") && !folder.subscribed() && !name.equals("INBOX")) {
                    continue;
                }
                Set<String> attributes = new LinkedHashSet<>();
                attributes.add(folders.stream().anyMatch(other -> other.name().startsWith(name + "/")) ? "\\HasChildren" : "\\HasNoChildren");
                attributes.addAll(folder.specialUse().isEmpty() ? SPECIAL_USE.getOrDefault(name, List.of()) : folder.specialUse());
                line("* " + command + " (" + String.join(" ", attributes) + ") \"/\" " + string(name));
            }
        }
        if (command.equals("LIST")) {
            // A level above a folder that is no folder itself (deleted, or never made: CREATE a/b makes no a) is
            // listed as one that cannot be selected, as RFC 3501 6.3.8 has it, so that a client can show the tree.
            Set<String> implied = new TreeSet<>();
            for (Mailstore.Folder folder : folders) {
                for (int slash = folder.name().indexOf('/'); slash > 0; slash = folder.name().indexOf('/', slash + 1)) {
                    implied.add(canonical(folder.name().substring(0, slash)));
                }
            }
            folders.forEach(folder -> implied.remove(canonical(folder.name())));
            for (String name : implied) {
                if (matcher.matches(name)) {
                    line("* LIST (\\Noselect \\HasChildren) \"/\" " + string(name));
                }
            }
        }
        return ok(tag, command + " completed");
    }

    private static final String FOLDER_NAME_RULE = "a folder name has no empty level (a leading, trailing or doubled /), writes"
            + " what is not printable US-ASCII in modified UTF-7 (RFC 3501 5.1.3), and has at most " + Mailstore.MAX_FOLDER_NAME_OCTETS
            + " characters, each of , + \" \\ < > ; = # counting three";

    /** Whether a folder may be made under {@code name}: one a client could list, show and select again as it is, and the directory store. */
    private static boolean fitFolderName(String name) {
        return Mailstore.folderNameFits(name) && !name.isEmpty() && !name.startsWith("/") && !name.endsWith("/") && !name.contains("//")
                && isModifiedUtf7(name);
    }

    /**
     * Whether {@code name} is written as RFC 3501 5.1.3 has it: printable US-ASCII, each & opening
     * a run of modified base64 (A-Z a-z 0-9 + ,) closed by -, or &- for & itself. Checked by hand:
     * a regular expression of it recursed once a character and overflowed the stack of a session
     * given a name of 8,000.
     */
    private static boolean isModifiedUtf7(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
            if (c == '&') {
                int end = i + 1;
                while (end < name.length() && isModifiedBase64(name.charAt(end))) {
                    end++;
                }
                if (end == name.length() || name.charAt(end) != '-') {
                    return false;
                }
                i = end;
            }
        }
        return true;
    }

    private static boolean isModifiedBase64(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == ',';
    }

    /**
     * RFC 2087: one quota root, "", for all of a user's folders, and none when the user has no
     * limit; STORAGE in units of 1024 octets.
     */
    private String quotaRoot(String tag, String folderName) throws IOException, Mailstore.Failure {
        if (store.folder(folderName).isEmpty() && !folderName.equals("INBOX")) {
            return respond(tag, "NO [NONEXISTENT] no such folder");
        }
        Mailstore.Quota quota = store.quota();
        line("* QUOTAROOT " + string(folderName) + (quota.any() ? " \"\"" : ""));
        if (quota.any()) {
            quotaLine(quota);
        }
        return ok(tag, "GETQUOTAROOT completed");
    }

    private String quota(String tag, String root) throws IOException, Mailstore.Failure {
        Mailstore.Quota quota = store.quota();
        if (!root.isEmpty() || !quota.any()) {
            return respond(tag, "NO [NONEXISTENT] no such quota root");
        }
        quotaLine(quota);
        return ok(tag, "GETQUOTA completed");
    }

    private void quotaLine(Mailstore.Quota quota) throws IOException {
        List<String> resources = new ArrayList<>();
        if (quota.limitBytes() > 0) {
            resources.add("STORAGE " + (quota.usedBytes() + 1023) / 1024 + " " + quota.limitBytes() / 1024);
        }
        if (quota.limitMessages() > 0) {
            resources.add("MESSAGE " + quota.usedMessages() + " " + quota.limitMessages());
        }
        line("* QUOTA \"\" (" + String.join(" ", resources) + ")");
    }

    private String status(String tag, String name, List<String> items) throws IOException, Arguments.Bad, Mailstore.Failure {
        if (items.isEmpty()) {
            throw new Arguments.Bad("STATUS asks for one item at least (RFC 3501 6.3.10)");
        }
        String folderName = canonical(name);
        Optional<Mailstore.Folder> folder = store.folder(folderName);
        if (folder.isEmpty() && !folderName.equals("INBOX")) {
            return respond(tag, "NO [NONEXISTENT] no such folder");
        }
        SelectedFolder counted = look(folderName, folder, true);
        context.views.keep(counted.key, counted.view);
        List<String> values = new ArrayList<>();
        for (String item : items) {
            String upper = item.toUpperCase(Locale.ROOT);
            long value = switch (upper) {
                case "MESSAGES" -> counted.messages().size();
                case "RECENT" -> 0;
                case "UIDNEXT" -> counted.uidNext();
                case "UIDVALIDITY" -> counted.uidValidity;
                case "UNSEEN" -> counted.messages().stream().filter(m -> !Flags.has(m.flags(), Flags.SEEN)).count();
                default -> throw new Arguments.Bad("no such STATUS item: " + item);
            };
            values.add(upper + " " + value);
        }
        line("* STATUS " + string(folderName) + " (" + String.join(" ", values) + ")");
        return ok(tag, "STATUS completed");
    }

    private String fetch(String tag, SequenceSet set, boolean byUid, List<FetchItem> requested) throws IOException, Mailstore.Failure {
        List<FetchItem> items = new ArrayList<>(requested);
        if (byUid && items.stream().noneMatch(item -> item.name().equals("UID"))) {
            items.add(0, FetchItem.uid());
        }
        boolean setsSeen = !selected.readOnly && items.stream().anyMatch(FetchItem::setsSeen);
        boolean needsBody = Fetch.readsContent(items);
        boolean headerOnly = Fetch.readsHeaderOnly(items);
        List<SelectedFolder.Message> messages = chosen(set, byUid);
        if (messages == null) {
            return bad(tag, "no such message number");
        }
        if (needsBody) {
            expect(messages, headerOnly);
            if (store.expectsFew()) {
                expectPipelinedReads();
            }
        }
        int gone = 0;
        boolean needsParts = Fetch.parsesContent(items);
        for (SelectedFolder.Message message : messages) {
            byte[] served = null;
            MimePart content = null;
            if (needsBody) {
                // The header section alone is a prefix of the message as served, which parses to the same header.
                byte[] raw = store.bytes(selected.name, message.id(), headerOnly);
                if (raw == null) {
                    gone++;
                    continue;
                }
                served = ServedForm.of(raw);
                content = needsParts ? MimePart.of(served) : null;
            }
            Set<String> flags = message.flags();
            boolean flagsChanged = false;
            if (setsSeen && !Flags.has(flags, Flags.SEEN)) {
                store.flags(selected.name, List.of(selected.stateOf(message)), ModificationType.ADD, List.of(Flags.SEEN));
                Set<String> seen = new TreeSet<>(flags);
                seen.add(Flags.SEEN);
                flags = seen;
                selected.flagsChanged(message.uid(), flags);
                flagsChanged = true;
            }
            write("* " + selected.sequenceNumberOf(message.uid()) + " FETCH (");
            boolean first = true;
            boolean flagsSent = false;
            for (FetchItem item : items) {
                write(first ? "" : " ");
                first = false;
                switch (item.name()) {
                    case "UID" -> write("UID " + message.uid());
                    case "FLAGS" -> {
                        write("FLAGS " + Flags.list(flags));
                        flagsSent = true;
                    }
                    case "INTERNALDATE" -> write("INTERNALDATE \"" + INTERNALDATE.format(message.received()) + "\"");
                    case "RFC822.SIZE" -> write("RFC822.SIZE " + message.size());
                    case "ENVELOPE" -> {
                        write("ENVELOPE ");
                        out.write(Structure.envelope(content));
                    }
                    default -> {
                        if (item.isBody()) {
                            byte[] octets = item.isWholeMessage() ? item.partial(served) : item.select(content);
                            write(item.responseName() + " {" + octets.length + "}\r\n");
                            out.write(octets);
                            context.metrics.sent(octets.length);
                        } else {
                            write(item.name() + " ");
                            out.write(Structure.body(content, item.name().equals("BODYSTRUCTURE")));
                        }
                    }
                }
            }
            if (flagsChanged && !flagsSent) {
                write(" FLAGS " + Flags.list(flags));
            }
            line(")");
        }
        if (gone > 0) {
            // As Dovecot answers (RFC 2180 section 4.1): the rest was sent; the next NOOP tells which were expunged.
            return respond(tag, "NO [EXPUNGEISSUED] " + gone + " of the messages asked for no longer exist");
        }
        return ok(tag, (byUid ? "UID " : "") + "FETCH completed");
    }

    private String store(String tag, SequenceSet set, boolean byUid, String how, List<String> flags)
            throws IOException, Arguments.Bad, Mailstore.Failure {
        boolean silent = how.endsWith(".SILENT");
        String operation = silent ? how.substring(0, how.length() - ".SILENT".length()) : how;
        ModificationType change = switch (operation) {
            case "FLAGS" -> ModificationType.REPLACE;
            case "+FLAGS" -> ModificationType.ADD;
            case "-FLAGS" -> ModificationType.DELETE;
            default -> throw new Arguments.Bad("STORE takes FLAGS, +FLAGS or -FLAGS, with .SILENT or without");
        };
        if (selected.readOnly) {
            return respond(tag, "NO [READ-ONLY] the folder was opened with EXAMINE");
        }
        List<SelectedFolder.Message> messages = chosen(set, byUid);
        if (messages == null) {
            return bad(tag, "no such message number");
        }
        store.flags(selected.name, messages.stream().map(selected::stateOf).toList(), change, flags);
        for (SelectedFolder.Message message : messages) {
            Set<String> now = new TreeSet<>(message.flags());
            if (change == ModificationType.REPLACE) {
                now.clear();
            }
            if (change == ModificationType.DELETE) {
                now.removeIf(flag -> flags.stream().anyMatch(flag::equalsIgnoreCase));
            } else {
                flags.stream().filter(flag -> !Flags.has(now, flag)).forEach(now::add);
            }
            selected.flagsChanged(message.uid(), now);
            if (!silent) {
                line("* " + selected.sequenceNumberOf(message.uid()) + " FETCH (" + (byUid ? "UID " + message.uid() + " " : "")
                        + "FLAGS " + Flags.list(now) + ")");
            }
        }
        return ok(tag, (byUid ? "UID " : "") + "STORE completed");
    }

    private String search(String tag, boolean byUid, Search search) throws IOException, Mailstore.Failure {
        List<SelectedFolder.Message> messages = selected.messages();
        StringBuilder found = new StringBuilder("* SEARCH");
        for (int number = 1; number <= messages.size(); number++) {
            int index = number - 1;
            SelectedFolder.Message message = messages.get(index);
            if (search.matches(new Search.Candidate(message, number, messages.size(),
                    messages.get(messages.size() - 1).uid(), Search.Content.once(() -> headerOf(messages, index), () -> contentOf(message))))) {
                found.append(' ').append(byUid ? message.uid() : number);
            }
        }
        line(found.toString());
        return ok(tag, (byUid ? "UID " : "") + "SEARCH completed");
    }

    /**
     * The header section of message {@code index} of {@code messages}, for a search that looks into
     * it; empty when it has gone meanwhile. The next ones' reads go ahead, as a FETCH's do: a key
     * that needs one message's header (FROM, SUBJECT) needs the next one's too.
     */
    private MimePart headerOf(List<SelectedFolder.Message> messages, int index) throws Mailstore.Failure {
        if (store.expectsFew()) {
            expect(messages.subList(index, Math.min(messages.size(), index + SEARCH_READ_AHEAD)), true);
        }
        return parsed(store.bytes(selected.name, messages.get(index).id(), true));
    }

    /** A message as served, for a search that looks into its text; empty when it has gone meanwhile. */
    private MimePart contentOf(SelectedFolder.Message message) throws Mailstore.Failure {
        return parsed(store.bytes(selected.name, message.id(), false));
    }

    private static MimePart parsed(byte[] raw) {
        return MimePart.of(raw == null ? new byte[0] : ServedForm.of(raw));
    }

    /**
     * Expunges the messages flagged \\Deleted, of those in {@code only} if given (UID EXPUNGE), as
     * the folder is now: read first, so that a \\Deleted another session set since this one last
     * looked is expunged, and each write expunges only if the flag is still held, so that one
     * another session took away, before or during, is not. Returns what that read found changed,
     * for EXPUNGE to say first.
     */
    private List<String> expungeDeleted(SequenceSet only) throws Mailstore.Failure {
        List<String> changed = selected.sync(store);
        long largest = selected.messages().isEmpty() ? 0 : selected.messages().get(selected.messages().size() - 1).uid();
        for (SelectedFolder.Message message : selected.messages()) {
            if (Flags.has(message.flags(), Flags.DELETED) && (only == null || only.contains(message.uid(), largest))) {
                store.expungeIfDeleted(selected.name, selected.stateOf(message));
            }
        }
        return changed;
    }

    private String changeFolder(String tag, String command, String name) throws IOException, Mailstore.Failure {
        Optional<Mailstore.Folder> folder = store.folder(name);
        boolean exists = name.equals("INBOX") || folder.isPresent();
        switch (command) {
            case "CREATE" -> {
                if (!fitFolderName(name)) {
                    return respond(tag, "NO [CANNOT] " + FOLDER_NAME_RULE);
                }
                if (exists || !store.createFolder(name)) {
                    return respond(tag, "NO [ALREADYEXISTS] the folder exists");
                }
            }
            case "DELETE" -> {
                if (name.equals("INBOX")) {
                    return respond(tag, "NO [CANNOT] INBOX cannot be deleted");
                }
                if (!exists) {
                    return respond(tag, "NO [NONEXISTENT] no such folder");
                }
                if (selected != null && selected.name.equals(name)) {
                    // Not kept: the folder is gone, and its view with it.
                    selected = null;
                }
                store.deleteFolder(folder.get());
            }
            default -> {
                // A name with no folder holds no subscription: unsubscribing it (as a client does after a DELETE) is done.
                if (!exists && command.equals("SUBSCRIBE")) {
                    return respond(tag, "NO [NONEXISTENT] no such folder");
                }
                if (folder.isPresent()) {
                    store.subscribe(name, command.equals("SUBSCRIBE"));
                }
            }
        }
        return ok(tag, command + " completed");
    }

    private String rename(String tag, String from, String to) throws IOException, Mailstore.Failure {
        if (from.equals("INBOX") || to.equals("INBOX")) {
            return respond(tag, "NO [CANNOT] INBOX cannot be renamed, nor another folder to it");
        }
        if (!fitFolderName(to)) {
            return respond(tag, "NO [CANNOT] " + FOLDER_NAME_RULE);
        }
        Optional<Mailstore.Folder> renamed = store.folder(from);
        if (renamed.isEmpty()) {
            return respond(tag, "NO [NONEXISTENT] no such folder");
        }
        // The names below it go with it (RFC 3501 6.3.5: foo/bar becomes zap/bar), by its name as stored: the
        // directory found it ignoring case and runs of spaces, as it compares every folder name; and a name taken
        // so, which the last write would find taken, must stop the rename before the folders below move.
        String stored = renamed.get().name();
        List<Mailstore.Folder> folders = store.folders();
        Set<String> taken = folders.stream().map(folder -> Mailstore.comparable(folder.name())).collect(Collectors.toSet());
        if (taken.contains(Mailstore.comparable(to))) {
            return respond(tag, "NO [ALREADYEXISTS] the new name is taken");
        }
        Map<Mailstore.Folder, String> below = new LinkedHashMap<>();
        for (Mailstore.Folder folder : folders) {
            if (folder.name().startsWith(stored + "/")) {
                below.put(folder, to + folder.name().substring(stored.length()));
            }
        }
        for (String name : below.values()) {
            if (!fitFolderName(name)) {
                return respond(tag, "NO [CANNOT] the new name of a folder below it breaks the rule: " + FOLDER_NAME_RULE);
            }
            if (taken.contains(Mailstore.comparable(name))) {
                return respond(tag, "NO [ALREADYEXISTS] the new name of a folder below it is taken");
            }
        }
        store.renameFolder(renamed.get(), to, below);
        if (selected != null && (selected.name.equals(stored) || selected.name.startsWith(stored + "/"))) {
            leaveSelected();
        }
        return ok(tag, "RENAME completed");
    }

    /** APPEND (RFC 3501 6.3.11) with UIDPLUS's APPENDUID. */
    private String append(String tag, Arguments arguments) throws IOException, Arguments.Bad, Mailstore.Failure {
        arguments.space();
        String name = canonical(arguments.astring());
        arguments.space();
        List<String> flags = List.of();
        if (arguments.peek() == '(') {
            flags = Flags.parseAll(arguments.wordList());
            arguments.space();
        }
        Instant received = Instant.now();
        if (arguments.peek() == '"') {
            String date = arguments.astring();
            try {
                received = ZonedDateTime.parse(date.strip(), APPEND_DATE).toInstant();
            } catch (DateTimeParseException e) {
                throw new Arguments.Bad("not a date-time: " + date);
            }
            arguments.space();
        }
        byte[] message = arguments.literal();
        arguments.end();
        Optional<Mailstore.Folder> folder = store.folder(name);
        if (folder.isEmpty() && !name.equals("INBOX")) {
            return respond(tag, "NO [TRYCREATE] no such folder");
        }
        if (name.equals("INBOX") && folder.isEmpty()) {
            store.createFolder("INBOX");
            folder = store.folder(name);
        }
        // As a copy is: put back into a folder it was expunged from, it goes in under an id of its own.
        String as = Mailstore.idIn(opened(folder.get()).expungedIds(), MessageIdentity.of(message));
        store.append(name, message, received, as);
        SelectedFolder target = opened(folder.get());
        Optional<SelectedFolder.Message> added = target.messages().stream().filter(m -> m.id().equals(as)).findFirst();
        if (added.isEmpty()) {
            return respond(tag, "NO [CANNOT] another session expunged the message as it was added");
        }
        if (!flags.isEmpty()) {
            store.flags(name, List.of(target.stateOf(added.get())), ModificationType.ADD, flags);
        }
        if (selected != null && selected.name.equals(name)) {
            sendAll(selected.sync(store));
        }
        return ok(tag, "[APPENDUID " + target.uidValidity + " " + added.get().uid() + "] APPEND completed");
    }

    /** COPY, or MOVE (RFC 6851), with UIDPLUS's COPYUID. */
    private String copy(String tag, SequenceSet set, boolean byUid, String name, boolean move) throws IOException, Mailstore.Failure {
        List<SelectedFolder.Message> messages = chosen(set, byUid);
        if (messages == null) {
            return bad(tag, "no such message number");
        }
        if (move && selected.readOnly) {
            return respond(tag, "NO [READ-ONLY] the folder was opened with EXAMINE");
        }
        if (move && name.equals(selected.name)) {
            // A folder holds a message once, under its content's id: the copy would be the message itself, which the
            // expunge would then take away for good.
            return respond(tag, "NO [CANNOT] a message cannot be moved into the folder it is in");
        }
        Optional<Mailstore.Folder> folder = store.folder(name);
        if (folder.isEmpty()) {
            return respond(tag, "NO [TRYCREATE] no such folder");
        }
        String gone = "NO [EXPUNGEISSUED] some of the messages asked for no longer exist" + (move ? ": none moved" : "");
        // Another session's expunges first, as NOOP would tell them: a COPY that would meet one copies nothing, since
        // RFC 3501 wants a failed COPY to leave the target as it was (Dovecot answers the same).
        sendAll(selected.sync(store));
        if (messages.stream().anyMatch(message -> selected.sequenceNumberOf(message.uid()) == 0)) {
            return respond(tag, gone);
        }
        // A message put back into a folder it was expunged from goes in under an id of its own, or the state that keeps
        // it gone there (from a record stored again) would delete the copy at once, and a MOVE would lose the mail.
        Set<String> goneThere = opened(folder.get()).expungedIds();
        Map<SelectedFolder.Message, String> copiedAs = new LinkedHashMap<>();
        for (SelectedFolder.Message message : messages) {
            String as = Mailstore.idIn(goneThere, message.id());
            if (!store.copy(selected.name, name, message.id(), as)) {
                // Gone since that look, or deleted outside IMAP: the copies made stay, for taking one back could delete
                // a copy another session's MOVE has just counted on. A MOVE then expunges nothing.
                return respond(tag, gone);
            }
            copiedAs.put(message, as);
        }
        SelectedFolder target = opened(folder.get());
        List<Long> from = new ArrayList<>();
        List<Long> to = new ArrayList<>();
        List<SelectedFolder.Message> arrived = new ArrayList<>();
        // The copies keep the flags (RFC 3501 6.4.7), all of them as Dovecot's do: a moved mail must not come back unread.
        // Those with the same flags are set together, as one STORE would set them.
        Map<Set<String>, List<Mailstore.State>> keeping = new LinkedHashMap<>();
        Map<String, SelectedFolder.Message> there = target.messages().stream()
                .collect(Collectors.toMap(SelectedFolder.Message::id, message -> message, (first, second) -> first));
        for (SelectedFolder.Message message : messages) {
            SelectedFolder.Message copied = there.get(copiedAs.get(message));
            if (copied != null) {
                from.add(message.uid());
                to.add(copied.uid());
                arrived.add(message);
                keeping.computeIfAbsent(message.flags(), flags -> new ArrayList<>()).add(target.stateOf(copied));
            }
        }
        for (Map.Entry<Set<String>, List<Mailstore.State>> flags : keeping.entrySet()) {
            store.flags(name, flags.getValue(), ModificationType.ADD, flags.getKey());
        }
        String copyUid = from.isEmpty() ? "" : "[COPYUID " + target.uidValidity + " " + uidList(from) + " " + uidList(to) + "] ";
        if (!move) {
            return ok(tag, copyUid + (byUid ? "UID " : "") + "COPY completed");
        }
        line("* OK " + copyUid + "moved");
        // Only what COPYUID names, what the target shows, is taken from here: a copy that another session expunged
        // there at once leaves its message here rather than nowhere.
        for (SelectedFolder.Message message : arrived) {
            store.expunge(selected.name, selected.stateOf(message));
        }
        sendAll(selected.sync(store));
        return ok(tag, (byUid ? "UID " : "") + "MOVE completed");
    }

    /** A FETCH's arguments after its name: which messages, and what of them. */
    private record Fetch(SequenceSet set, List<FetchItem> items) {
        static Fetch parse(Arguments arguments) throws Arguments.Bad {
            arguments.space();
            SequenceSet set = SequenceSet.parse(arguments.word());
            arguments.space();
            return new Fetch(set, FetchItem.parseAll(arguments.rest()));
        }

        /** Whether any of {@code items} needs the message's content. */
        static boolean readsContent(List<FetchItem> items) {
            return items.stream().anyMatch(item -> item.isBody() || item.needsStructure());
        }

        /** Whether {@code items} need the message's header section and nothing else of its content. */
        static boolean readsHeaderOnly(List<FetchItem> items) {
            return items.stream().allMatch(item -> item.readsHeaderOnly() || !item.isBody() && !item.needsStructure());
        }

        /** Whether any of {@code items} needs the content parsed: its structure, or a section other than the whole message. */
        static boolean parsesContent(List<FetchItem> items) {
            return items.stream().anyMatch(item -> item.needsStructure() || item.isBody() && !item.isWholeMessage());
        }
    }

    /**
     * Tells the store that the content of {@code messages}, or their header sections only, will be
     * read, in that order, after what it expects already.
     */
    private void expect(List<SelectedFolder.Message> messages, boolean headerOnly) {
        store.expect(selected.name, messages.stream().map(SelectedFolder.Message::id).toList(),
                messages.stream().map(SelectedFolder.Message::size).toList(), headerOnly);
    }

    /**
     * Expects the messages whose content the FETCH commands that the client has sent after this
     * one, without waiting for its answer, will read (mbsync sends dozens at once, one message
     * each), so that their reads go ahead too: the complete lines already received and not looked
     * at by an earlier FETCH, up to the first that is anything else. Each is parsed again when its
     * turn comes; here a line that does not parse is only where the looking stops.
     */
    private void expectPipelinedReads() throws IOException {
        long position = in.position();
        int available = Math.min(in.available(), PIPELINE_PEEK_BYTES);
        int lookedAt = (int) Math.min(Math.max(lookedAheadTo - position, 0), available);
        if (available == lookedAt) {
            return;
        }
        in.mark(available);
        String ahead = new String(in.readNBytes(available), StandardCharsets.ISO_8859_1);
        in.reset();
        int end;
        for (int start = lookedAt; (end = ahead.indexOf("\r\n", start)) >= 0; start = end + 2) {
            Arguments line = new Arguments(List.of(ahead.substring(start, end)));
            try {
                line.word();
                line.space();
                String name = line.word().toUpperCase(Locale.ROOT);
                boolean byUid = name.equals("UID");
                if (byUid) {
                    line.space();
                    name = line.word().toUpperCase(Locale.ROOT);
                }
                Fetch fetch = name.equals("FETCH") ? Fetch.parse(line) : null;
                List<SelectedFolder.Message> chosen = fetch != null && Fetch.readsContent(fetch.items()) ? chosen(fetch.set(), byUid) : null;
                if (chosen == null) {
                    break;
                }
                expect(chosen, Fetch.readsHeaderOnly(fetch.items()));
                lookedAheadTo = position + end + 2;
            } catch (Arguments.Bad e) {
                break;
            }
        }
    }

    /**
     * {@code folder} as a session that has just looked at it sees it, its new mail given UIDs. Its
     * view is kept for the next look at once: the folder returned is not to be read again.
     */
    private SelectedFolder opened(Mailstore.Folder folder) throws Mailstore.Failure {
        SelectedFolder opened = look(canonical(folder.name()), Optional.of(folder), true);
        context.views.keep(opened.key, opened.view);
        return opened;
    }

    /**
     * Folder {@code name} (whose entry is {@code folder}, if it has one yet) as this session now
     * sees it: the view kept of it read on from where the last session left it, or read whole.
     */
    private SelectedFolder look(String name, Optional<Mailstore.Folder> folder, boolean readOnly) throws Mailstore.Failure {
        FolderViews.Key key = store.viewKey(folder);
        // INBOX before its first mail has no entry yet, and no UIDs to keep valid.
        SelectedFolder looked = new SelectedFolder(name, folder.map(Mailstore.Folder::uidValidity).orElse(1L), readOnly, key,
                context.views.take(key));
        looked.sync(store);
        return looked;
    }

    /** Deselects the selected folder, if any, keeping its view for the next look at it. */
    private void leaveSelected() {
        if (selected != null) {
            context.views.keep(selected.key, selected.view);
            selected = null;
        }
    }

    private static String uidList(List<Long> uids) {
        return uids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /**
     * IDLE (RFC 2177): tells the client of new mail, expunges and flag changes, read from the
     * directory every imap.idle.poll.ms and at once after another session of the user in this
     * imapd changed the mailbox, until it says DONE; no longer than the idle timeout (a client
     * renews its IDLE every 29 minutes).
     */
    private String idle(String tag) throws IOException, Mailstore.Failure, Logout {
        // Waiting is what IDLE is for: no command is in progress, for the transaction timeout and a stop.
        commandStartedNanos = -1;
        // Among the idlers before the client hears it idles: a change the user makes once it knows must wake this session.
        String owner = store.ownerDn();
        context.startIdling(owner, connection);
        context.metrics.idleStarted();
        try {
            line("+ idling");
            long deadline = System.nanoTime() + context.config.server().idleTimeout().toNanos();
            while (in.available() == 0 && !connection.awaitInput(context.config.idlePoll())) {
                if (System.nanoTime() > deadline) {
                    line("* BYE Autologout; idle for too long");
                    throw new Logout();
                }
                sendAll(selected.sync(store));
            }
        } finally {
            context.stopIdling(owner, connection);
            context.metrics.idleEnded();
        }
        try {
            if (!continuation().equalsIgnoreCase("DONE")) {
                return bad(tag, "IDLE ends with DONE");
            }
        } catch (CommandReader.Unreadable e) {
            return bad(tag, e.getMessage());
        }
        return ok(tag, "IDLE terminated");
    }

    /** A line the client sends in the course of a command (AUTHENTICATE's response, IDLE's DONE); the session ends with the input. */
    private String continuation() throws IOException, CommandReader.Unreadable, Logout {
        List<Object> parts = reader.read(() -> { });
        if (parts == null) {
            throw new Logout();
        }
        return parts.get(0).toString();
    }

    /** The messages a set names; null when a sequence number does not exist (a UID that does not is just left out). */
    private List<SelectedFolder.Message> chosen(SequenceSet set, boolean byUid) {
        List<SelectedFolder.Message> messages = selected.messages();
        if (!byUid && set.exceeds(messages.size())) {
            return null;
        }
        return set.positions(messages.size(), byUid ? position -> messages.get(position).uid() : position -> position + 1L).stream()
                .mapToObj(messages::get).toList();
    }

    /** INBOX in any case is INBOX (RFC 3501 5.1); other names are as given. */
    private static String canonical(String name) {
        return name.equalsIgnoreCase("INBOX") ? "INBOX" : name;
    }

    /** A string as IMAP writes it: quoted where it can be, a literal where it holds what quotes cannot. */
    private static String string(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        boolean quotable = utf8.length == value.length() && value.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
        return quotable ? "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
                : "{" + utf8.length + "}\r\n" + value;
    }

    private void sendAll(List<String> responses) throws IOException {
        for (String response : responses) {
            line(response);
        }
    }

    private String ok(String tag, String text) throws IOException {
        return respond(tag, "OK " + text);
    }

    private String bad(String tag, String text) throws IOException {
        errors++;
        return respond(tag, "BAD " + text);
    }

    /** Writes the tagged response; returns its result (OK, NO, BAD). */
    private String respond(String tag, String response) throws IOException {
        line(tag + " " + asText(response));
        return response.substring(0, response.indexOf(' '));
    }

    /**
     * {@code text} as a response's text may carry it (RFC 3501 9, TEXT-CHAR: no NUL, CR, LF or
     * 8-bit octet), each other character as \xNN, and '{' too: a BAD quotes what the client sent,
     * which may hold any of them, and a line that ends as a literal is announced ("{3}") is read
     * as one by clients such as Python's imaplib, which then wait for octets that never come.
     */
    static String asText(String text) {
        StringBuilder shown = new StringBuilder(text.length());
        text.chars().forEach(c -> shown.append(c >= 0x20 && c < 0x7f && c != '{' ? String.valueOf((char) c) : String.format("\\x%02X", c)));
        return shown.toString();
    }

    private void line(String text) throws IOException {
        write(text + "\r\n");
    }

    private void write(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
