package org.mailstream.imap;

import static org.mailstream.config.CommandDeclaration.EX_CONFIG;
import static org.mailstream.config.CommandDeclaration.EX_OK;
import static org.mailstream.config.CommandDeclaration.EX_SOFTWARE;
import static org.mailstream.config.CommandDeclaration.EX_USAGE;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.config.MetricsEndpoint;
import org.mailstream.server.Server;
import org.mailstream.server.ServerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * imapd: the IMAP server through which users read their mail. Its manual page, {@code imapd
 * --help}, is made from {@link #COMMAND}; the protocol is {@link ImapSession}, the listeners and
 * connections the server core's {@link Server}, and each session's mail its user's own bound
 * directory connection, {@link Mailstore}.
 */
public final class Imapd {

    private static final Logger LOG = LoggerFactory.getLogger(Imapd.class);

    public static final CommandDeclaration COMMAND = new CommandDeclaration("imapd",
            "the IMAP server over the directory, bound as each user", """
            Serves IMAP4rev1 (RFC 3501) to mail clients. A user logs in with their uid and
            password (LOGIN, or AUTHENTICATE PLAIN); the session binds to LDAP as
            uid=NAME below ldap.base.dn and does everything on that connection, so the
            directory's access rules decide what it may read and change: the server holds no
            credential of its own. A wrong password and an unknown user get the same answer
            after the same pause. A password is taken only over TLS (STARTTLS, or a listener of
            imap.tls.listen) or from loopback and unix-socket clients: elsewhere LOGINDISABLED.

            Folders are the user's mailStoreFolder entries; a message is its entry, as
            store-worker wrote it, and its state entry (UID, flags), which the first session to
            look adds: new mail gets the next UIDs in the order it was received. Served:
            IMAP4rev1's commands but STARTTLS; FETCH and SEARCH answered as Dovecot 2.3 answers
            them; UIDPLUS, MOVE, IDLE, LITERAL+, NAMESPACE, SPECIAL-USE (Sent, Drafts, Trash and
            Junk by name), ID, ENABLE, UNSELECT, STARTTLS and implicit TLS (imap.tls.*).

            SIGTERM or SIGINT: say BYE to every session, exit 0. Logs go to standard error,
            with the counts every minute.
            """)
            .configurationFile(ImapConfig.DEFAULT_PATH)
            .subcommand(ImapCheck.COMMAND)
            .exitStatus(EX_OK, "stopped by SIGTERM or SIGINT, or --help")
            .exitStatus(EX_USAGE, "usage error")
            .exitStatus(EX_SOFTWARE, "internal error")
            .exitStatus(EX_CONFIG, "configuration missing, unreadable or invalid, or a listener that cannot be bound")
            .configuration(ImapConfig.DEFINITION, "Java properties. No key names a credential: there is none to give.");

    private Imapd() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    /** Serves until SIGTERM or SIGINT; returns the exit status of a start that failed, or of --help. */
    static int run(String[] args, PrintStream out) {
        if (args.length > 0 && args[0].equals("check")) {
            return ImapCheck.run(Arrays.copyOfRange(args, 1, args.length), out);
        }
        return COMMAND.run(args, COMMAND.sysexits(out), ImapConfig::load, (command, config) -> serve(config));
    }

    private static int serve(ImapConfig config) {
        SSLContext tls = config.tlsContext();
        ImapMetrics metrics = new ImapMetrics();
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(config.metricsListen(), metrics.registry())) {
            Server server = Server.start(config.server(), new ImapSession.Context(config, metrics, tls),
                    new ServerMetrics(metrics.registry(), "imap"), metrics);
            LOG.info("listening on {}, reading mail below {} on {}", server.addresses(), config.people(),
                    config.providers());
            Server.awaitStopSignal();
            server.stop(Duration.ofSeconds(5));
        }
        return EX_OK;
    }
}
