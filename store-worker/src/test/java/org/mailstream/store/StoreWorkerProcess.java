package org.mailstream.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.mailstream.local.Command;
import org.mailstream.local.ManagedProcess;

/** The real bin/store-worker as a separate process, logging to a file that failures show. */
final class StoreWorkerProcess implements AutoCloseable {

    private static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/store-worker");

    private final ManagedProcess process;

    private StoreWorkerProcess(ManagedProcess process) {
        this.process = process;
    }

    static StoreWorkerProcess start(Path config) {
        try {
            Path log = Files.createTempFile("store-worker", ".log");
            return new StoreWorkerProcess(ManagedProcess.start("store-worker", List.of(LAUNCHER.toString(), "-c", config.toString()), log));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGKILL: a crash in the middle of whatever it was doing. */
    void kill() {
        process.kill();
    }

    /** SIGTERM, then waits; returns the exit status. */
    int stop() {
        process.stop(Duration.ofSeconds(90));
        return process.exitStatus();
    }

    /** Waits for the worker to end by itself and returns its exit status; -1 if it is still running after {@code timeout}. */
    int awaitExitStatus(Duration timeout) {
        return process.awaitExit(timeout) ? process.exitStatus() : -1;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Whether the worker's log, from its start, holds {@code text}. */
    boolean logged(String text) {
        return process.logText().contains(text);
    }

    /** How many lines of the worker's log, from its start, hold {@code text}. */
    long logLines(String text) {
        return process.logText().lines().filter(line -> line.contains(text)).count();
    }

    /** What the worker logged, for assertion messages. */
    String log() {
        return process.logTail();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
