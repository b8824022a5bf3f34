package org.mailstream.imap;

import static org.mailstream.config.CommandDeclaration.EX_CONFIG;
import static org.mailstream.config.CommandDeclaration.EX_OK;
import static org.mailstream.config.CommandDeclaration.EX_SOFTWARE;
import static org.mailstream.config.CommandDeclaration.EX_USAGE;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPURL;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.schema.ObjectClassDefinition;
import com.unboundid.ldap.sdk.schema.Schema;
import com.unboundid.util.ssl.TrustAllTrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.CheckReport;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.directory.LimitedSearch;

/**
 * {@code imapd check}: the pre-flight of the read path, one line a check: each LDAP provider
 * answers and defines what imapd reads and writes; the lookup identity, if configured, binds and
 * reads no mail and no password; the TLS certificate and key, if configured, belong together, and
 * for how long the certificate is valid. It binds as no user: imapd has no credential that reads
 * mail.
 */
final class ImapCheck {

    /** The classes of the entries a session reads and writes. */
    private static final List<String> CLASSES = List.of("mailStoreFolder", "mailStoreMessage", "mailStoreState");
    /**
     * What a state entry may hold since UIDs are given many at a time, and since their flags stay
     * in the entry that gave them: the types, and their place in mailStoreState.
     */
    private static final List<String> STATE_TYPES = List.of("mailStoreGivenUid", "mailStoreGivenFlag");
    private static final Duration EXPIRY_WARNING = Duration.ofDays(30);

    static final CommandDeclaration COMMAND = new CommandDeclaration("imapd check", "check what serving IMAP needs, before users come", """
            Checks, one line each: that each LDAP provider of ldap.urls answers and its schema
            defines the classes imapd reads and writes (mailStoreFolder, mailStoreMessage,
            mailStoreState: a back end set up before the read path lacks the last) and the
            attribute types mailStoreGivenUid and mailStoreGivenFlag among what mailStoreState
            may hold (one set up before UIDs were given many at a time lacks them, one set up
            before their flags stayed in the entry that gave them the second); when
            ldap.lookup.bind.dn is set, that the lookup identity binds and finds no message and
            no password below
            ldap.base.dn (it should read uid and mail only; on a back end with no mail yet, no
            message can show that it reads too much); and, when imap.tls.certificate.file is
            set, that the certificate and key belong together (a TLS handshake with itself on
            loopback) and how long the certificate stays valid (a warning within 30 days, a
            failure once expired). Each line starts with ok, warn or FAIL.

            """).configurationFile(ImapConfig.DEFAULT_PATH)
            .exitStatus(EX_OK, "every check passed (a warning does not fail), or --help")
            .exitStatus(EX_USAGE, "usage error")
            .exitStatus(EX_SOFTWARE, "internal error")
            .exitStatus(EX_CONFIG, "configuration missing, unreadable or invalid, or a check failed");

    private ImapCheck() {
    }

    static int run(String[] args, PrintStream out) {
        return COMMAND.run(args, COMMAND.sysexits(out), ImapConfig::load, (command, config) -> {
            CheckReport report = new CheckReport(out);
            config.providers().forEach(provider -> checkProvider(config, provider, report));
            checkTls(config, report);
            return report.failed() ? EX_CONFIG : EX_OK;
        });
    }

    private static void checkProvider(ImapConfig config, LDAPURL provider, CheckReport report) {
        LDAPConnectionOptions options = new LDAPConnectionOptions();
        options.setConnectTimeoutMillis(config.ldapConnectTimeoutMs());
        options.setResponseTimeoutMillis(config.ldapResponseTimeoutMs());
        try (LDAPConnection connection = config.transport().server(provider.getHost(), provider.getPort(), options).getConnection()) {
            report.ok(provider + ": answers" + (config.transport().secured() ? ", over TLS with a certificate for its host" : ""));
            List<String> missing = missingSchema(connection.getSchema());
            report.report(missing.isEmpty(), provider + ": its schema defines " + String.join(", ", CLASSES) + ", "
                    + String.join(", ", STATE_TYPES),
                    provider + ": its schema lacks " + String.join(", ", missing) + ": load the release's mailstore.cnconfig.ldif"
                            + " (see docs/imapd.md, on upgrading a back end)");
            if (!config.lookupDn().isEmpty()) {
                checkLookupIdentity(config, connection, provider, report);
            }
        } catch (LDAPException e) {
            report.fail(provider + ": does not answer: " + e.getResultCode() + " " + e.getExceptionMessage());
        }
    }

    /**
     * The classes missing from {@code schema}, and each of {@link #STATE_TYPES} that mailStoreState
     * may not hold: a schema that has the type but the class as it was (half an upgrade) lacks it too.
     */
    private static List<String> missingSchema(Schema schema) {
        List<String> missing = new ArrayList<>(schema == null ? CLASSES
                : CLASSES.stream().filter(name -> schema.getObjectClass(name) == null).toList());
        ObjectClassDefinition state = schema == null ? null : schema.getObjectClass("mailStoreState");
        for (String type : STATE_TYPES) {
            if (state == null || Stream.of(state.getOptionalAttributes()).noneMatch(type::equalsIgnoreCase)) {
                missing.add(type);
            }
        }
        return missing;
    }

    /**
     * The lookup identity binds, and its search for messages and passwords below the people base
     * finds none: like Postfix's, it may read uid and mail and nothing else, for it is a password
     * in imapd's files and its search runs for anyone who tries to log in.
     */
    private static void checkLookupIdentity(ImapConfig config, LDAPConnection connection, LDAPURL provider, CheckReport report)
            throws LDAPException {
        String identity = provider + ": the lookup identity " + config.lookupDn();
        try {
            connection.bind(config.lookupDn(), config.lookupPassword());
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.INVALID_CREDENTIALS) {
                throw e;
            }
            report.fail(identity + " cannot bind: a wrong DN, or a wrong password in ldap.lookup.bind.password.file");
            return;
        }
        SearchRequest tooMuch = new SearchRequest(config.people().toString(), SearchScope.SUB,
                "(|(objectClass=mailStoreMessage)(userPassword=*))", "mailStoreRaw", "userPassword");
        tooMuch.setSizeLimit(1);
        List<SearchResultEntry> found = LimitedSearch.entries(connection, tooMuch);
        report.report(found.isEmpty(), identity + " binds, and finds no message and no password",
                identity + " finds " + (found.isEmpty() ? "" : found.get(0).getDN()) + ", a message or a password: give it read"
                        + " access to uid and mail only, as the shipped access rules give Postfix's (@LOOKUP@)");
    }

    private static void checkTls(ImapConfig config, CheckReport report) {
        SSLContext tls;
        try {
            tls = config.tlsContext();
        } catch (ConfigException e) {
            report.fail(DeclaredConfig.describe(e));
            return;
        }
        if (tls == null) {
            report.warn("no TLS (imap.tls.certificate.file): passwords are taken from loopback and unix-socket clients only");
            return;
        }
        try {
            X509Certificate certificate = handshakeWithItself(tls);
            report.ok("TLS: the certificate and key belong together (" + certificate.getSubjectX500Principal().getName() + ")");
            Instant expiry = certificate.getNotAfter().toInstant();
            if (expiry.isBefore(Instant.now())) {
                report.fail("TLS: the certificate expired on " + expiry);
            } else if (expiry.isBefore(Instant.now().plus(EXPIRY_WARNING))) {
                report.warn("TLS: the certificate expires on " + expiry);
            } else {
                report.ok("TLS: the certificate is valid until " + expiry);
            }
        } catch (IOException | GeneralSecurityException e) {
            report.fail("TLS: a handshake with the certificate and key fails: " + e.getMessage()
                    + " (do imap.tls.certificate.file and imap.tls.key.file belong together?)");
        }
    }

    /** Runs a TLS handshake on loopback between the server's context and a client trusting whatever it presents; returns its certificate. */
    private static X509Certificate handshakeWithItself(SSLContext server) throws IOException, GeneralSecurityException {
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            Thread accepting = new Thread(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept(); InputStream in = accepted.getInputStream()) {
                    accepted.startHandshake();
                    in.read();
                } catch (IOException ignored) {
                    // the client's side says what went wrong
                }
            });
            accepting.setDaemon(true);
            accepting.start();
            SSLContext client = SSLContext.getInstance("TLS");
            client.init(null, new TrustManager[] {new TrustAllTrustManager()}, null);
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                    listener.getLocalPort()); OutputStream out = socket.getOutputStream()) {
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                out.write(0);
                return (X509Certificate) socket.getSession().getPeerCertificates()[0];
            }
        }
    }
}
