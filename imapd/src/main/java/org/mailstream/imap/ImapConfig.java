package org.mailstream.imap;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPURL;
import com.unboundid.util.ssl.PEMFileKeyManager;
import com.unboundid.util.ssl.SSLUtil;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.config.MetricsEndpoint;
import org.mailstream.directory.LdapTransport;
import org.mailstream.server.ServerKeys;
import org.mailstream.server.ServerSettings;

/**
 * imapd's configuration: the keys every protocol server has ({@link ServerKeys}, under imap.),
 * the directory to bind to, and IMAP's own, declared once with documentation, type, default and
 * validation. Nothing in it can read mail: each session binds as the user who logged in.
 */
final class ImapConfig extends DeclaredConfig {

    static final Path DEFAULT_PATH = Path.of("/etc/mailstream/imapd.properties");

    /** The keys every protocol server has: imap.listen, imap.allow, imap.max.connections and the rest. */
    static final ServerKeys SERVER = new ServerKeys("imap");
    static final String LDAP_URLS = "ldap.urls";
    static final String LDAP_BASE_DN = "ldap.base.dn";
    static final String LDAP_CONNECT_TIMEOUT_MS = "ldap.connect.timeout.ms";
    static final String LDAP_RESPONSE_TIMEOUT_MS = "ldap.response.timeout.ms";
    static final String LDAP_LOOKUP_BIND_DN = "ldap.lookup.bind.dn";
    static final String LDAP_LOOKUP_BIND_PASSWORD_FILE = "ldap.lookup.bind.password.file";
    static final String LOGIN_FAILURE_DELAY_MS = "imap.login.failure.delay.ms";
    static final String MAX_LITERAL_BYTES = "imap.max.literal.bytes";
    static final String MAX_LINE_BYTES = "imap.max.line.bytes";
    static final String MAX_MESSAGE_BYTES = "imap.max.message.bytes";
    static final String MAX_CONNECTIONS_PER_USER = "imap.max.connections.per.user";
    static final String FOLDER_CACHE_ENTRIES = "imap.folder.cache.entries";
    static final String IDLE_POLL_MS = "imap.idle.poll.ms";
    static final String TLS_CERTIFICATE_FILE = "imap.tls.certificate.file";
    static final String TLS_KEY_FILE = "imap.tls.key.file";
    static final String TLS_LISTEN = "imap.tls.listen";

    static final ConfigDef DEFINITION = LdapTransport.define(SERVER.define(MetricsEndpoint.define(defineQuota(new ConfigDef())),
                    // RFC 3501's autologout is no sooner than 30 minutes of an authenticated client's silence.
                    new ServerKeys.Defaults("inet:127.0.0.1:143", 200, 1_800_000, 600_000,
                            "command (from its last line read to its answer; an IDLE is none)"))
            .define(LDAP_URLS, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, new NonEmptyList("URL"), Importance.HIGH,
                    "The providers of the back end that holds the mailboxes, as ldap://host:port (or ldaps://host:port), "
                    + "separated by commas. All of one user's sessions write to the same provider, the first that answers "
                    + "in an order that the user's name decides, so that two sessions never change one message on two "
                    + "providers. Each login's password goes to the provider: use ldap.tls unless it is on this host. Required."))
            .define(LDAP_BASE_DN, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "The subtree of mailbox owners: a user who logs in as NAME binds as uid=NAME below it. Required.")
            .define(LDAP_LOOKUP_BIND_DN, Type.STRING, "", Importance.MEDIUM,
                    "An identity that may find owners by mail and read nothing else, such as Postfix's lookup account: "
                    + "with it a user may log in by mail address too, found as the one uid=NAME directly below "
                    + LDAP_BASE_DN + " whose mail it is. Empty: by uid only.")
            .define(LDAP_LOOKUP_BIND_PASSWORD_FILE, Type.STRING, "", Importance.MEDIUM,
                    "File holding the lookup identity's password (one line; trailing line break ignored).")
            .define(LDAP_CONNECT_TIMEOUT_MS, Type.INT, 5_000, Range.between(100, 600_000), Importance.MEDIUM,
                    "Longest wait for a provider to accept a connection before the next is tried.")
            .define(LDAP_RESPONSE_TIMEOUT_MS, Type.INT, 30_000, Range.between(100, 600_000), Importance.MEDIUM,
                    "Longest wait for a provider's answer; the command then gets NO [UNAVAILABLE].")
            .define(LOGIN_FAILURE_DELAY_MS, Type.INT, 2_000, Range.between(0, 60_000), Importance.LOW,
                    "Pause before a failed login is answered, the same whether the user is unknown or the password wrong.")
            .define(MAX_LITERAL_BYTES, Type.INT, 65_536, Range.between(1_024, 16_777_215), Importance.LOW,
                    "Largest literal a command other than APPEND may carry (a password, a folder name, a search string); "
                    + "a larger one is refused before any of it is read.")
            .define(MAX_LINE_BYTES, Type.INT, 65_536, Range.between(1_024, 16_777_215), Importance.LOW,
                    "Longest command line, literals not counted; a longer one is read to its end and refused.")
            .define(MAX_MESSAGE_BYTES, Type.INT, 10_485_760, Range.between(1_024, 16_000_000), Importance.MEDIUM,
                    "Largest message APPEND takes, in octets (ingest's max.message.bytes by default); a larger one gets "
                    + "NO [TOOBIG] before any of it is read. Below slapd's olcSockbufMaxIncomingAuth, with room for the entry.")
            .define(MAX_CONNECTIONS_PER_USER, Type.INT, 20, Range.between(1, 10_000), Importance.MEDIUM,
                    "Sessions one user may have logged in at once, on this server; one more gets NO [LIMIT] at log in. "
                    + "A mail client opens a few; many more is a client gone wrong or someone else with the password.")
            .define(FOLDER_CACHE_ENTRIES, Type.INT, 200_000, Range.between(0, 100_000_000), Importance.LOW,
                    "Entries of folder views (a message's UID, flags, id and size: its message entry and its state entry "
                    + "are two; never its content) kept after a session leaves a folder, so that the next SELECT, STATUS "
                    + "or resync of it, by any session of its owner, reads only what changed; the least recently left go "
                    + "first. About 200 octets of heap each; 0: every look reads the whole folder.")
            .define(IDLE_POLL_MS, Type.INT, 2_000, Range.between(250, 60_000), Importance.LOW,
                    "How often a session in IDLE reads what changed in its folder, to tell its client of new mail, flags "
                    + "and expunges: new mail reaches an idling client within about this (a change another session of the "
                    + "user makes through the same imapd at once: it wakes the idling session). Each read is a search of the "
                    + "directory, and each that finds new mail one synced write (its UIDs): with many users idling while "
                    + "mail flows in, a shorter interval costs slapd more of the time it has for storing mail.")
            .define(TLS_CERTIFICATE_FILE, Type.STRING, "", Importance.HIGH,
                    "PEM file of the server's certificate and its chain. With " + TLS_KEY_FILE + ", STARTTLS is offered "
                    + "on every TCP listener and log in is offered to any allowed client once TLS is on; empty: no TLS, and "
                    + "log in on loopback and unix sockets only.")
            .define(TLS_KEY_FILE, Type.STRING, "", Importance.HIGH,
                    "PEM file of the certificate's private key (PKCS #8, unencrypted), readable by imapd's user alone.")
            .define(TLS_LISTEN, Type.LIST, "", new ServerKeys.EachParses(ServerKeys.Listen::parse, "inet:host:port", true),
                    Importance.HIGH, "Listeners for implicit TLS (IMAPS, RFC 8314), such as inet:0.0.0.0:993, known by their "
                    + "port: a client there speaks TLS from its first octet. Needs " + TLS_CERTIFICATE_FILE + ".");

    private final ServerSettings server;
    private final DN people;
    private final Set<Integer> tlsPorts;
    /** The lookup identity's password, null when there is no lookup identity. */
    private final String lookupPassword;
    private final LdapTransport transport;

    private ImapConfig(Map<?, ?> settings) {
        super(DEFINITION, settings, Set.of());
        List<ServerKeys.Listen> tls = getList(TLS_LISTEN).stream().map(ServerKeys.Listen::parse).toList();
        if (tls.stream().anyMatch(listen -> !(listen instanceof ServerKeys.Listen.Inet))) {
            throw new ConfigException(TLS_LISTEN + ": implicit TLS is for inet: listeners");
        }
        if (getString(TLS_CERTIFICATE_FILE).isEmpty() != getString(TLS_KEY_FILE).isEmpty()) {
            throw new ConfigException(TLS_CERTIFICATE_FILE + " and " + TLS_KEY_FILE + " go together: set both, or neither");
        }
        if (!tls.isEmpty() && getString(TLS_CERTIFICATE_FILE).isEmpty()) {
            throw new ConfigException(TLS_LISTEN + " needs " + TLS_CERTIFICATE_FILE + " and " + TLS_KEY_FILE);
        }
        tlsPorts = tls.stream().map(listen -> ((ServerKeys.Listen.Inet) listen).port()).collect(Collectors.toSet());
        ServerSettings plain = SERVER.read(this);
        List<ServerKeys.Listen> all = new ArrayList<>(plain.listeners());
        all.addAll(tls);
        server = new ServerSettings(all, plain.socketMode(), plain.socketGroup(), plain.allowedNetworks(), plain.maxConnections(),
                plain.idleTimeout(), plain.transactionTimeout(), plain.maxErrors(), plain.allowKey());
        try {
            people = new DN(getString(LDAP_BASE_DN));
        } catch (LDAPException e) {
            throw new ConfigException(LDAP_BASE_DN + ": not a DN: " + e.getExceptionMessage());
        }
        transport = LdapTransport.of(this, LDAP_URLS);
        lookupPassword = readLookupPassword();
    }

    private String readLookupPassword() {
        String file = getString(LDAP_LOOKUP_BIND_PASSWORD_FILE);
        if (getString(LDAP_LOOKUP_BIND_DN).isEmpty() != file.isEmpty()) {
            throw new ConfigException(LDAP_LOOKUP_BIND_DN + " and " + LDAP_LOOKUP_BIND_PASSWORD_FILE + " go together: set both, or neither");
        }
        if (file.isEmpty()) {
            return null;
        }
        try {
            return Files.readString(Path.of(file)).replaceFirst("\\r?\\n$", "");
        } catch (IOException e) {
            throw new ConfigException(LDAP_LOOKUP_BIND_PASSWORD_FILE + ": " + DeclaredConfig.describe(Path.of(file), e));
        }
    }

    static ImapConfig load(Path file) throws IOException {
        return new ImapConfig(read(file));
    }

    static ImapConfig of(Map<String, String> settings) {
        return new ImapConfig(settings);
    }

    ServerSettings server() {
        return server;
    }

    String metricsListen() {
        return getString(MetricsEndpoint.METRICS_LISTEN);
    }

    DN people() {
        return people;
    }

    List<LDAPURL> providers() {
        return transport.providers();
    }

    /** How the providers are reached: in the clear, StartTLS or ldaps. */
    LdapTransport transport() {
        return transport;
    }

    /** The lookup identity's DN; empty when users log in by uid only. */
    String lookupDn() {
        return getString(LDAP_LOOKUP_BIND_DN);
    }

    String lookupPassword() {
        return lookupPassword;
    }

    int ldapConnectTimeoutMs() {
        return getInt(LDAP_CONNECT_TIMEOUT_MS);
    }

    int ldapResponseTimeoutMs() {
        return getInt(LDAP_RESPONSE_TIMEOUT_MS);
    }

    int loginFailureDelayMs() {
        return getInt(LOGIN_FAILURE_DELAY_MS);
    }

    int maxLiteralBytes() {
        return getInt(MAX_LITERAL_BYTES);
    }

    int maxLineBytes() {
        return getInt(MAX_LINE_BYTES);
    }

    int maxMessageBytes() {
        return getInt(MAX_MESSAGE_BYTES);
    }

    int maxConnectionsPerUser() {
        return getInt(MAX_CONNECTIONS_PER_USER);
    }

    int folderCacheEntries() {
        return getInt(FOLDER_CACHE_ENTRIES);
    }

    Duration idlePoll() {
        return Duration.ofMillis(getInt(IDLE_POLL_MS));
    }

    /** The ports of the implicit TLS listeners. */
    Set<Integer> tlsPorts() {
        return tlsPorts;
    }

    /**
     * The TLS context made from the certificate and key files, or null when TLS is not
     * configured; a file that cannot be read or does not hold what it should is refused by name.
     */
    SSLContext tlsContext() {
        String certificate = getString(TLS_CERTIFICATE_FILE);
        if (certificate.isEmpty()) {
            return null;
        }
        try {
            return new SSLUtil(new PEMFileKeyManager(new File(certificate), new File(getString(TLS_KEY_FILE))), null)
                    .createSSLContext("TLSv1.3");
        } catch (GeneralSecurityException e) {
            throw new ConfigException(TLS_CERTIFICATE_FILE + ", " + TLS_KEY_FILE + ": cannot be used: " + e.getMessage());
        }
    }
}
