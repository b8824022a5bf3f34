package org.mailstream.imap;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPURL;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.config.MetricsEndpoint;
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
    static final String LOGIN_FAILURE_DELAY_MS = "imap.login.failure.delay.ms";
    static final String MAX_LITERAL_BYTES = "imap.max.literal.bytes";
    static final String MAX_LINE_BYTES = "imap.max.line.bytes";
    static final String MAX_MESSAGE_BYTES = "imap.max.message.bytes";

    static final ConfigDef DEFINITION = SERVER.define(MetricsEndpoint.define(new ConfigDef()),
                    // RFC 3501's autologout is no sooner than 30 minutes of an authenticated client's silence.
                    new ServerKeys.Defaults("inet:127.0.0.1:143", 200, 1_800_000, 600_000,
                            "command (a literal's upload included)"))
            .define(LDAP_URLS, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, new NonEmptyList("URL"), Importance.HIGH,
                    "The providers of the back end that holds the mailboxes, as ldap://host:port, separated by commas. "
                    + "All of one user's sessions write to the same provider, the first that answers in an order that "
                    + "the user's name decides, so that two sessions never change one message on two providers. Required.")
            .define(LDAP_BASE_DN, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "The subtree of mailbox owners: a user who logs in as NAME binds as uid=NAME below it. Required.")
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
                    + "NO [TOOBIG] before any of it is read. Below slapd's olcSockbufMaxIncomingAuth, with room for the entry.");

    private final ServerSettings server;
    private final DN people;
    private final List<LDAPURL> providers;

    private ImapConfig(Map<?, ?> settings) {
        super(DEFINITION, settings, Set.of());
        server = SERVER.read(this);
        try {
            people = new DN(getString(LDAP_BASE_DN));
        } catch (LDAPException e) {
            throw new ConfigException(LDAP_BASE_DN + ": not a DN: " + e.getExceptionMessage());
        }
        providers = getList(LDAP_URLS).stream().map(ImapConfig::ldapUrl).toList();
    }

    private static LDAPURL ldapUrl(String url) {
        try {
            LDAPURL parsed = new LDAPURL(url);
            if (!parsed.getScheme().equals("ldap")) {
                throw new ConfigException(LDAP_URLS + ": " + url + ": only ldap:// is served yet");
            }
            return parsed;
        } catch (LDAPException e) {
            throw new ConfigException(LDAP_URLS + ": " + url + " is not an LDAP URL");
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
        return providers;
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
}
