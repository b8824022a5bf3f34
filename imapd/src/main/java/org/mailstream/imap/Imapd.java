package org.mailstream.imap;

import static org.mailstream.config.CommandDeclaration.option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.ParseException;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.config.MetricsEndpoint;
import org.mailstream.server.Server;
import org.mailstream.server.ServerMetrics;

/**
 * imapd: the IMAP server through which users read their mail. Its manual page, {@code imapd
 * --help}, is made from {@link #COMMAND}; the protocol is {@link ImapSession}, the listeners and
 * connections the server core's {@link Server}, and each session's mail its user's own bound
 * directory connection, {@link Mailstore}.
 */
public final class Imapd {

    private static final System.Logger LOG = System.getLogger(Imapd.class.getName());

    private static final Option CONFIG = option("c", null, "CONFIG", "configuration file (default " + ImapConfig.DEFAULT_PATH + ")");

    /** How imapd ends. */
    enum Exit {
        STOPPED(0, "stopped by SIGTERM or SIGINT, or --help"),
        USAGE(64, "usage error"),
        CONFIG(78, "configuration missing, unreadable or invalid, or a listener that cannot be bound");

        final int code;
        final String meaning;

        Exit(int code, String meaning) {
            this.code = code;
            this.meaning = meaning;
        }
    }

    static final CommandDeclaration COMMAND = exitStatuses(new CommandDeclaration("imapd",
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
            .optional(CONFIG)
            .subcommand(ImapCheck.COMMAND)
            .configuration(ImapConfig.DEFINITION, "Java properties. No key names a credential: there is none to give."));

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
        CommandLine command;
        try {
            command = COMMAND.parse(args);
        } catch (ParseException e) {
            out.println("imapd: " + e.getMessage());
            return Exit.USAGE.code;
        }
        if (command.hasOption("help")) {
            out.print(COMMAND.manual());
            return Exit.STOPPED.code;
        }
        Path file = Path.of(command.getOptionValue(CONFIG, ImapConfig.DEFAULT_PATH.toString()));
        ImapConfig config;
        SSLContext tls;
        MetricsEndpoint endpoint;
        ImapMetrics metrics = new ImapMetrics();
        try {
            config = ImapConfig.load(file);
            tls = config.tlsContext();
            endpoint = MetricsEndpoint.start(config.metricsListen(), metrics.registry());
        } catch (IOException e) {
            out.println("imapd: configuration " + file + ": " + DeclaredConfig.describe(file, e));
            return Exit.CONFIG.code;
        } catch (ConfigException e) {
            out.println("imapd: configuration " + file + ": " + DeclaredConfig.describe(e));
            return Exit.CONFIG.code;
        }
        Server server;
        try {
            server = Server.start(config.server(), new ImapSession.Context(config, metrics, tls), new ServerMetrics(metrics.registry(), "imap"),
                    metrics);
        } catch (IOException | RuntimeException e) {
            if (endpoint != null) {
                endpoint.close();
            }
            out.println("imapd: cannot listen on " + config.server().listeners() + ": " + e);
            return Exit.CONFIG.code;
        }
        LOG.log(System.Logger.Level.INFO, "listening on {0}, reading mail below {1} on {2}", server.addresses(), config.people(),
                config.providers());
        Server.awaitStopSignal();
        server.stop(Duration.ofSeconds(5));
        if (endpoint != null) {
            endpoint.close();
        }
        return Exit.STOPPED.code;
    }

    private static CommandDeclaration exitStatuses(CommandDeclaration command) {
        for (Exit exit : Exit.values()) {
            command.exitStatus(exit.code, exit.meaning);
        }
        return command;
    }
}
