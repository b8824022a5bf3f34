package org.mailstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A private Postfix (the Debian package) in a temporary directory: its own main.cf, master.cf,
 * queue and log, an SMTP server on a free loopback port, and no change outside the directory.
 *
 * <p>It delivers {@value #DOMAIN} through the very lines the project ships for operators
 * ({@code ingest-cli/src/dist/postfix}: main.cf, master.cf and the ldap: table), with only the
 * site-specific values replaced: the install prefix (ingest-cli is copied there by
 * bin/install-ingest-cli, as an operator would), the pipe user ({@value #PIPE_USER}, unprivileged),
 * the file paths, and the directory's address and password. Every replaced value must still be
 * in the shipped file, so an edit there cannot silently leave the tests behind.
 *
 * <p>The instance is stopped by the pid of its master process.
 */
public final class Postfix implements AutoCloseable {

    public static final String DOMAIN = "example.com";
    public static final String PIPE_USER = "nobody";
    private static final Path SHIPPED = Command.repositoryRoot().resolve("ingest-cli/src/dist/postfix");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private final Path directory;
    /** Apart from the queue and the install, so that postfix-script's ownership checks see only configuration. */
    private final Path config;
    private final int port;
    /** The master process, adopted from its pid file once "postfix start" has daemonized it. */
    private ManagedProcess master;

    private Postfix(Path directory) {
        this.directory = directory;
        this.config = directory.resolve("etc");
        this.port = FreePort.next();
    }

    /**
     * Where ingest-lmtpd can listen for this Postfix: a socket path in a new temporary directory
     * that lmtp(8), running as the postfix user, can reach (not the 0700 of a temporary directory),
     * removed when the JVM ends.
     */
    public static Path lmtpSocketPath() {
        Path directory = TempFiles.directory("lmtp");
        try {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return directory.resolve("mailstream-lmtp");
    }

    /**
     * Starts Postfix delivering through {@code transport}: "ingest" for the shipped pipe to
     * ingest-cli, whose properties are {@code ingestSettings}, or another master.cf service that
     * {@code extraServices} defines (for the benchmark's comparisons).
     */
    public static Postfix start(Slapd directory, Map<String, String> ingestSettings, String transport, String extraServices) {
        return start(List.of(directory), ingestSettings, transport, extraServices, null);
    }

    /**
     * Starts Postfix with the shipped LMTP configuration (main-lmtp.cf), delivering to the
     * ingest-lmtpd that listens on the unix socket {@code lmtpSocket}.
     */
    public static Postfix startLmtp(Slapd directory, Path lmtpSocket) {
        return startLmtp(List.of(directory), lmtpSocket);
    }

    /** As {@link #startLmtp(Slapd, Path)}, its ldap: table asking the providers of {@code directory} in turn. */
    public static Postfix startLmtp(List<Slapd> directory, Path lmtpSocket) {
        return start(directory, Map.of(), "ingest", "", lmtpSocket);
    }

    private static Postfix start(List<Slapd> directory, Map<String, String> ingestSettings, String transport, String extraServices,
            Path lmtpSocket) {
        try {
            Path home = Files.createTempDirectory("postfix");
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
            Postfix postfix = new Postfix(home);
            postfix.configure(directory, ingestSettings, transport, extraServices, lmtpSocket);
            postfix.postfix("start");
            postfix.adoptMaster();
            return postfix;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts Postfix delivering {@value #DOMAIN} through the shipped ingest transport. */
    public static Postfix start(Slapd directory, Map<String, String> ingestSettings) {
        return start(directory, ingestSettings, "ingest", "");
    }

    public int port() {
        return port;
    }

    public String smtpAddress() {
        return "127.0.0.1:" + port;
    }

    /** This instance's sendmail, as store-worker's bounce.command: what it is given lands in this instance's queue. */
    public String sendmailCommand() {
        return "/usr/sbin/sendmail -C " + config + " -i -f <> --";
    }

    /** Rewrites the ingest-cli properties file; ingest-cli reads it afresh for every delivery. */
    public void writeIngestConfig(Map<String, String> settings) {
        String text = new TreeMap<>(settings).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n"));
        writeReadable(directory.resolve("ingest.properties"), text);
    }

    /** One SMTP transaction with swaks, the message sent as given; the result shows the dialogue. */
    public Command.Result send(String sender, String recipient, byte[] message) {
        return Command.of(Command.argv("swaks", "--server", "127.0.0.1", "--port", port, "--from", sender, "--to", recipient,
                "--data", "-", "--suppress-data")).run(message, COMMAND_TIMEOUT);
    }

    /** The SMTP dialogue up to the server's answer to RCPT TO. */
    public Command.Result tryRecipient(String recipient) {
        return Command.of(Command.argv("swaks", "--server", "127.0.0.1", "--port", port, "--from", "probe@" + DOMAIN,
                "--to", recipient, "--quit-after", "RCPT")).run(new byte[0], COMMAND_TIMEOUT);
    }

    /** Postfix's own load generator: {@code count} mails of about {@code size} bytes, 20 sessions at a time. */
    public Command.Result smtpSource(String recipient, int count, int size) {
        return Command.of(Command.argv("/usr/sbin/smtp-source", "-s", 20, "-m", count, "-l", size, "-f", "source@" + DOMAIN,
                "-t", recipient, smtpAddress())).run(new byte[0], COMMAND_TIMEOUT.multipliedBy(5));
    }

    /** Sets the maxproc column of master.cf service {@code service}, and reloads Postfix. */
    public void setProcessLimit(String service, String limit) {
        postCommandOrFail("postconf", "-c", config.toString(), "-F", service + "/unix/process_limit=" + limit);
        postfix("reload");
        if (!awaitLogLines(line -> line.contains("postfix/master") && line.contains("reload --"), 1, COMMAND_TIMEOUT)) {
            throw new IllegalStateException("Postfix did not reload\n" + diagnostics());
        }
    }

    /** The mail log so far. */
    public String log() {
        try {
            Path log = directory.resolve("maillog");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Log lines that match {@code filter}. */
    public List<String> logLines(Predicate<String> filter) {
        return log().lines().filter(filter).toList();
    }

    /** Waits until {@code count} log lines match {@code filter}; false if they did not in time. */
    public boolean awaitLogLines(Predicate<String> filter, int count, Duration timeout) {
        return within(timeout, Duration.ofMillis(50), () -> logLines(filter).size() >= count);
    }

    /** What postqueue -p shows: "Mail queue is empty" or one entry per queued mail with its reason. */
    public String queue() {
        return postCommand("postqueue", "-p").stdout();
    }

    public boolean queueIsEmpty() {
        return queue().contains("Mail queue is empty");
    }

    /** Waits until the queue is empty; false if it was not in time. */
    public boolean awaitEmptyQueue(Duration timeout) {
        return within(timeout, Duration.ofMillis(500), this::queueIsEmpty);
    }

    private static boolean within(Duration timeout, Duration interval, java.util.concurrent.Callable<Boolean> condition) {
        try {
            Awaitility.await().atMost(timeout).pollInterval(interval).until(condition);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** Asks Postfix to try every deferred mail now. */
    public void flush() {
        postCommand("postqueue", "-f");
    }

    /** The log and the queue, for assertion messages. */
    public String diagnostics() {
        String log = log();
        return "--- postfix queue ---\n" + queue() + "--- maillog (end) ---\n" + (log.length() > 8000 ? "..." + log.substring(log.length() - 8000) : log);
    }

    @Override
    public void close() {
        stopMaster();
        Chores.deleteRecursively(directory);
    }

    private void configure(List<Slapd> ldapServers, Map<String, String> ingestSettings, String transport, String extraServices,
            Path lmtpSocket) throws IOException {
        Files.createDirectories(config);
        Path prefix = directory.resolve("opt-mailstream");
        Command.Result installed = Command.of(Command.argv(Command.repositoryRoot().resolve("bin/install-ingest-cli"), prefix))
                .run(new byte[0], COMMAND_TIMEOUT);
        if (installed.exitCode() != 0) {
            throw new IllegalStateException("cannot install ingest-cli for Postfix:\n" + installed);
        }
        writeIngestConfig(ingestSettings);
        Path table = ldapTable("mailstream-mailboxes.cf", ldapServers);
        Path quota = ldapTable("mailstream-quota.cf", ldapServers);
        Path data = Files.createDirectories(directory.resolve("data"));
        postCommandOrFail("chown", "postfix:postfix", data.toString());
        postCommandOrFail("chgrp", "postfix", table.toString(), quota.toString());

        String mainCf = """
                # A private test instance; the shipped lines follow.
                compatibility_level = 3.6
                queue_directory = %1$s/spool
                data_directory = %1$s/data
                maillog_file = %1$s/maillog
                maillog_file_prefixes = %1$s
                myhostname = mailstream.test
                # As Debian's main.cf sets it.
                recipient_delimiter = +
                mydestination =
                inet_interfaces = 127.0.0.1
                inet_protocols = ipv4
                mynetworks = 127.0.0.0/8
                local_recipient_maps =
                alias_maps =
                alias_database =
                queue_run_delay = 1s
                minimal_backoff_time = 1s
                maximal_backoff_time = 5s
                """.formatted(directory)
                + (lmtpSocket == null ? shipped("main.cf", Map.of("ldap:/etc/postfix/mailstream-mailboxes.cf", "ldap:" + table,
                                "ldap:/etc/postfix/mailstream-quota.cf", "ldap:" + quota))
                        : shipped("main-lmtp.cf", Map.of("ldap:/etc/postfix/mailstream-mailboxes.cf", "ldap:" + table,
                                "ldap:/etc/postfix/mailstream-quota.cf", "ldap:" + quota, "mailstream:unix:mailstream/lmtp", "mailstream:unix:" + lmtpSocket)))
                + (transport.equals("ingest") ? "" : "virtual_transport = " + transport + "\n");
        Files.writeString(config.resolve("main.cf"), mainCf);

        String masterCf = """
                %s inet n - n - - smtpd
                pickup    unix  n       -       n       60      1       pickup
                cleanup   unix  n       -       n       -       0       cleanup
                qmgr      unix  n       -       n       300     1       qmgr
                rewrite   unix  -       -       n       -       -       trivial-rewrite
                bounce    unix  -       -       n       -       0       bounce
                defer     unix  -       -       n       -       0       bounce
                trace     unix  -       -       n       -       0       bounce
                verify    unix  -       -       n       -       1       verify
                flush     unix  n       -       n       1000?   0       flush
                proxymap  unix  -       -       n       -       -       proxymap
                smtp      unix  -       -       n       -       -       smtp
                lmtp      unix  -       -       n       -       -       lmtp
                showq     unix  n       -       n       -       -       showq
                error     unix  -       -       n       -       -       error
                retry     unix  -       -       n       -       -       error
                discard   unix  -       -       n       -       -       discard
                anvil     unix  -       -       n       -       1       anvil
                scache    unix  -       -       n       -       1       scache
                postlog   unix-dgram n  -       n       -       1       postlogd
                """.formatted(smtpAddress())
                + shipped("master.cf", Map.of(
                        "user=mailstream-ingest", "user=" + PIPE_USER,
                        "/opt/mailstream/", prefix + "/",
                        "/etc/mailstream/ingest.properties", directory.resolve("ingest.properties").toString()))
                + shipped("master-lmtp.cf", Map.of())
                + extraServices;
        Files.writeString(config.resolve("master.cf"), masterCf);
        Files.createDirectories(directory.resolve("spool"));
    }

    /** The shipped ldap: table {@code name}, asking {@code ldapServers} as the lookup account, readable by root and postfix. */
    private Path ldapTable(String name, List<Slapd> ldapServers) throws IOException {
        Path table = config.resolve(name);
        Files.writeString(table, shipped(name, Map.of(
                "ldap://ldap1.example.com/ ldap://ldap2.example.com/", ldapServers.stream().map(Slapd::url).collect(Collectors.joining(" ")),
                "bind_dn = cn=postfix,dc=example,dc=com", "bind_dn = " + Slapd.LOOKUP_DN,
                "bind_pw = change-me", "bind_pw = " + Slapd.LOOKUP_PASSWORD,
                "search_base = ou=people,dc=example,dc=com", "search_base = " + Slapd.PEOPLE)));
        Files.setPosixFilePermissions(table, PosixFilePermissions.fromString("rw-r-----"));
        return table;
    }

    /** A shipped example file with each operator's value replaced by this instance's. */
    private static String shipped(String name, Map<String, String> replacements) throws IOException {
        String text = Files.readString(SHIPPED.resolve(name));
        for (Map.Entry<String, String> replacement : replacements.entrySet()) {
            if (!text.contains(replacement.getKey())) {
                throw new IllegalStateException(SHIPPED.resolve(name) + " no longer contains " + replacement.getKey()
                        + ": update the Postfix test fixture with it");
            }
            text = text.replace(replacement.getKey(), replacement.getValue());
        }
        return text;
    }

    private void adoptMaster() throws IOException {
        Path pidFile = directory.resolve("spool/pid/master.pid");
        Awaitility.await("Postfix's master.pid").atMost(COMMAND_TIMEOUT).pollInterval(Duration.ofMillis(20))
                .until(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        master = ManagedProcess.adopt("postfix master", pid, directory.resolve("maillog"));
        master.awaitReady(COMMAND_TIMEOUT, () -> FreePort.isListening(port));
    }

    /** The master process's pid: with its children, the whole of this Postfix. */
    public long masterPid() {
        return master.pid();
    }

    /** postfix stop, then postfix start: its queue kept, its deliveries in flight cut off. */
    public void restart() throws IOException {
        stopMaster();
        postfix("start");
        adoptMaster();
    }

    /** SIGTERM to the master's pid, which stops its children, then waits for it to be gone. */
    private void stopMaster() {
        if (master != null) {
            master.stop(Duration.ofSeconds(30));
        }
    }

    private void postfix(String action) {
        postCommandOrFail("postfix", action);
    }

    /**
     * A Postfix command on this instance. The postfix command itself reports only to syslog,
     * which is absent here, so it runs under script(1) to have its complaints in the result.
     */
    private Command.Result postCommand(String command, String... arguments) {
        List<String> argv = switch (command) {
            case "postfix" -> List.of("script", "-qec", "postfix -c " + config + " " + String.join(" ", arguments), "/dev/null");
            case "postqueue" -> Command.argv(command, "-c", config, List.of(arguments));
            default -> Command.argv(command, List.of(arguments));
        };
        return Command.of(argv).run(new byte[0], COMMAND_TIMEOUT);
    }

    private void postCommandOrFail(String command, String... arguments) {
        Command.Result result = postCommand(command, arguments);
        if (result.exitCode() != 0) {
            throw new IllegalStateException("Postfix set-up failed:\n" + result);
        }
    }

    private static void writeReadable(Path file, String text) {
        try {
            Files.writeString(file, text);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
