package org.mailstream.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.ManagedProcess;

/** The real bin/store-worker as a separate process, logging to a file that failures show. */
public final class StoreWorkerProcess implements AutoCloseable {

    private static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/store-worker");

    private final ManagedProcess process;

    private StoreWorkerProcess(ManagedProcess process) {
        this.process = process;
    }

    /**
     * A configuration storing {@code topic} of {@code kafka} into {@code slapd} as the service
     * account, in a consumer group of the topic's own, with {@code overrides}.
     */
    public static Path config(KafkaCluster kafka, String topic, Slapd slapd, Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.group.id", topic + "-store",
                "topic", topic,
                "ldap.urls", slapd.url(),
                "ldap.bind.dn", Slapd.SERVICE_DN,
                "ldap.bind.password.file", TempFiles.write("password", Slapd.SERVICE_PASSWORD + "\n").toString(),
                "ldap.base.dn", Slapd.PEOPLE,
                "retry.backoff.max.ms", "2000"));
        settings.putAll(overrides);
        return TempFiles.properties("store-worker.properties", settings);
    }

    public static StoreWorkerProcess start(Path config) {
        try {
            Path log = Files.createTempFile("store-worker", ".log");
            return new StoreWorkerProcess(ManagedProcess.start("store-worker", List.of(LAUNCHER.toString(), "-c", config.toString()), log));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGKILL: a crash in the middle of whatever it was doing. */
    public void kill() {
        process.kill();
    }

    /** SIGTERM, then waits; returns the exit status. */
    public int stop() {
        process.stop(Duration.ofSeconds(90));
        return process.exitStatus();
    }

    /** Waits for the worker to end by itself and returns its exit status; -1 if it is still running after {@code timeout}. */
    public int awaitExitStatus(Duration timeout) {
        return process.awaitExit(timeout) ? process.exitStatus() : -1;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Whether the worker's log, from its start, holds {@code text}. */
    public boolean logged(String text) {
        return process.logText().contains(text);
    }

    /** How many lines of the worker's log, from its start, hold {@code text}. */
    public long logLines(String text) {
        return process.logText().lines().filter(line -> line.contains(text)).count();
    }

    /** What the worker logged, for assertion messages. */
    public String log() {
        return process.logTail();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
