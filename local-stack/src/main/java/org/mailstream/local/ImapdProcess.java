package org.mailstream.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The real bin/imapd as a separate process on a free port of 127.0.0.1, logging to a file that failures show. */
public final class ImapdProcess implements AutoCloseable {

    private static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/imapd");

    private final ManagedProcess process;
    private final int port;

    private ImapdProcess(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts it reading the mailboxes of {@code slapd} as its users, with {@code overrides}; returns once it listens. */
    public static ImapdProcess start(Slapd slapd, Map<String, String> overrides) {
        int port = FreePort.next();
        Map<String, String> settings = new HashMap<>(Map.of("imap.listen", "inet:127.0.0.1:" + port, "ldap.urls", slapd.url(),
                "ldap.base.dn", Slapd.PEOPLE, "imap.login.failure.delay.ms", "200"));
        settings.putAll(overrides);
        ManagedProcess process = ManagedProcess.start("imapd", List.of(LAUNCHER.toString(), "-c",
                TempFiles.properties("imapd.properties", settings).toString()), TempFiles.file("imapd", ".log"));
        process.awaitReady(Duration.ofSeconds(30), () -> process.logText().contains(" listening on "));
        return new ImapdProcess(process, port);
    }

    public int port() {
        return port;
    }

    /** The server's pid: its JVM's, as bin/imapd execs it. */
    public long pid() {
        return process.pid();
    }

    /** SIGTERM, then waits; returns the exit status. */
    public int stop() {
        process.stop(Duration.ofSeconds(30));
        return process.exitStatus();
    }

    /** What the server logged, for assertion messages. */
    public String log() {
        return process.logTail();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.kill();
        }
    }
}
