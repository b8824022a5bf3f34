package org.mailstream.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/** The real bin/store-worker as a separate process, logging to a file that failures show. */
public final class StoreWorkerProcess implements AutoCloseable {

    private static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/store-worker");

    private static final Pattern STORED_LINE = Pattern.compile("RecordStorer - .*, status=(stored|already-stored)$");
    private static final int LOG_LINES = 60;

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
                "retry.backoff.max.ms", "2000",
                // A test that wants bounces names its own command: none may reach this host's mail system.
                "bounce.command", ""));
        settings.putAll(overrides);
        return TempFiles.properties("store-worker.properties", settings);
    }

    /**
     * Stores {@code mails} (recipient to message, each published after the one before, so that
     * they are received in that order) into {@code slapd} through a topic of their own and the
     * real worker, and returns once {@code replica} (slapd itself, or a provider replicating it)
     * holds every one of them; the worker is stopped.
     */
    public static void storeAll(String topic, Slapd slapd, Slapd replica, List<Map.Entry<String, byte[]>> mails) {
        KafkaCluster kafka = KafkaCluster.shared();
        kafka.createTopic(topic, 1, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of("max.message.bytes", "17000000"));
        int before = replica.messages("1.1").size();
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic);
                StoreWorkerProcess worker = start(config(kafka, topic, slapd, Map.of()))) {
            mails.forEach(mail -> publisher.publish(List.of(mail)));
            try {
                Awaitility.await("the mails stored").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                        .failFast(() -> !worker.isAlive()).until(() -> replica.messages("1.1").size() >= before + mails.size());
            } catch (ConditionTimeoutException | TerminalFailureException e) {
                throw new AssertionError(e.getMessage() + "\n" + worker.log(), e);
            }
        }
    }

    public static StoreWorkerProcess start(Path config) {
        return new StoreWorkerProcess(ManagedProcess.start("store-worker", List.of(LAUNCHER.toString(), "-c", config.toString()),
                TempFiles.file("store-worker", ".log")));
    }

    public long pid() {
        return process.pid();
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

    /**
     * What the worker logged, for assertion messages: its last lines, without the one line of each
     * mail stored, which would leave no room for what went wrong.
     */
    public String log() {
        List<String> lines = process.logText().lines().filter(line -> !STORED_LINE.matcher(line).find()).toList();
        List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_LINES), lines.size());
        return "--- store-worker log, without the lines of mail stored ---\n" + String.join("\n", tail);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
