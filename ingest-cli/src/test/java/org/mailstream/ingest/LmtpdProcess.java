package org.mailstream.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.ManagedProcess;

/** The real bin/ingest-lmtpd as a separate process, on a free loopback port, logging to a file that failures show. */
final class LmtpdProcess implements AutoCloseable {

    static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/ingest-lmtpd");

    private final ManagedProcess process;
    private final int port;

    private LmtpdProcess(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts it with {@code settings}, listening on a free port of 127.0.0.1 besides any listener
     * they name, and waits until it says it listens: a probing connection would take one of its slots.
     */
    static LmtpdProcess start(Map<String, String> settings) {
        int port = FreePort.next();
        Map<String, String> all = new HashMap<>(settings);
        all.merge("lmtp.listen", "inet:127.0.0.1:" + port, (given, inet) -> given + "," + inet);
        try {
            Path log = Files.createTempFile("ingest-lmtpd", ".log");
            ManagedProcess process = ManagedProcess.start("ingest-lmtpd",
                    List.of(LAUNCHER.toString(), "-c", IngestCliProcess.config(all).toString()), log);
            process.awaitReady(Duration.ofSeconds(30), () -> readQuietly(log).contains(" listening on "));
            return new LmtpdProcess(process, port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    int port() {
        return port;
    }

    /** SIGTERM, then waits; returns the exit status. */
    int stop() {
        process.stop(Duration.ofSeconds(90));
        return process.exitStatus();
    }

    void kill() {
        process.kill();
    }

    String log() {
        return process.logTail();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.kill();
        }
    }
}
