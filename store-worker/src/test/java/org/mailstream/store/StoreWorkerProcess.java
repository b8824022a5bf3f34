package org.mailstream.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.mailstream.testsupport.Command;

/** The real bin/store-worker as a separate process, logging to a file that failures show. */
final class StoreWorkerProcess implements AutoCloseable {

    private static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/store-worker");

    private final Process process;
    private final Path log;

    private StoreWorkerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static StoreWorkerProcess start(Path config) {
        try {
            Path log = Files.createTempFile("store-worker", ".log");
            Process process = new ProcessBuilder(LAUNCHER.toString(), "-c", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new StoreWorkerProcess(process, log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGKILL: a crash in the middle of whatever it was doing. */
    void kill() {
        process.destroyForcibly();
        awaitExit();
    }

    /** SIGTERM, then waits; returns the exit status. */
    int stop() {
        process.destroy();
        return awaitExit();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** What the worker logged, for assertion messages. */
    String log() {
        try {
            String text = Files.readString(log);
            return "--- store-worker log ---\n" + (text.length() > 6000 ? "..." + text.substring(text.length() - 6000) : text);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }

    private int awaitExit() {
        try {
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
