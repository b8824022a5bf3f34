package org.mailstream.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The real bin/ingest-lmtpd as a separate process, on a free loopback port, logging to a file that failures show. */
public final class LmtpdProcess implements AutoCloseable {

    public static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/ingest-lmtpd");

    private final Path config;
    private final Path log;
    private final int port;
    private final String javaOptions;
    private ManagedProcess process;

    private LmtpdProcess(Path config, Path log, int port, String javaOptions) {
        this.config = config;
        this.log = log;
        this.port = port;
        this.javaOptions = javaOptions;
        launch();
    }

    /**
     * Starts it with {@code settings}, listening on a free port of 127.0.0.1 besides any listener
     * they name, and waits until it says it listens: a probing connection would take one of its slots.
     */
    public static LmtpdProcess start(Map<String, String> settings) {
        return start(settings, "");
    }

    /** As {@link #start(Map)}, with {@code javaOptions} in the launcher's JAVA_OPTS (a smaller heap, say). */
    public static LmtpdProcess start(Map<String, String> settings, String javaOptions) {
        int port = FreePort.next();
        Map<String, String> all = new HashMap<>(settings);
        all.merge("lmtp.listen", "inet:127.0.0.1:" + port, (given, inet) -> given + "," + inet);
        return new LmtpdProcess(TempFiles.properties("ingest-lmtpd.properties", all), TempFiles.file("ingest-lmtpd", ".log"), port, javaOptions);
    }

    /** Starts it again with the same configuration, after a stop or a kill. */
    public void restart() {
        launch();
    }

    private void launch() {
        long listeningBefore = readQuietly(log).split(" listening on ", -1).length;
        // env execs the launcher, which execs java: the pid stays the server's.
        process = ManagedProcess.start("ingest-lmtpd", List.of("env", "JAVA_OPTS=" + javaOptions, LAUNCHER.toString(), "-c",
                config.toString()), log);
        process.awaitReady(Duration.ofSeconds(30), () -> readQuietly(log).split(" listening on ", -1).length > listeningBefore);
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    /** SIGTERM, then waits; returns the exit status. */
    public int stop() {
        process.stop(Duration.ofSeconds(90));
        return process.exitStatus();
    }

    public void kill() {
        process.kill();
    }

    /** Waits up to {@code timeout} for the server to end by itself; its exit status, or -1 if it is still running. */
    public int awaitExit(Duration timeout) {
        return process.awaitExit(timeout) ? process.exitStatus() : -1;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

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
