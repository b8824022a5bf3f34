package org.mailstream.benchmarks;

import com.unboundid.ldap.sdk.Entry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;

/**
 * ReplayBenchmark: how fast {@code store-worker replay --mode fill} rebuilds a back end, beside
 * slapd's raw add rate.
 *
 * <ol>
 * <li>Publishes MAILS mails of 4 KB to 100 mailboxes (32 partitions).
 * <li>Replays the topic from the earliest offset into a fresh durable slapd holding only the
 *     mailboxes: every mail is missing and is added.
 * <li>Replays it again: every mail exists and is left untouched.
 * <li>Replays it into a fresh slapd with the shipped log-mode settings, with store.durability=log.
 * <li>Adds the same entries to a second fresh slapd over as many connections (8): the raw rate.
 * </ol>
 *
 * <p>Replay rates are the command's own summary (records over the pass, without JVM start-up);
 * the command's wall-clock time is printed beside them. Usage: {@code ReplayBenchmark REPOSITORY_ROOT MAILS}.
 */
public final class ReplayBenchmark {

    private static final Pattern SUMMARY_RATE = Pattern.compile("\\((\\d+) records/s\\)");

    private ReplayBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int mails = Integer.parseInt(args[1]);
        String topic = "bench-replay";
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            kafka.createTopic(topic, 32, 1, Map.of("max.message.bytes", "11000000", "retention.ms", "-1"));
            kafka.createTopic(topic + ".dlq", 1, 1, Map.of());
            try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
                for (int first = 0; first < mails; first += 10_000) {
                    List<Map.Entry<String, byte[]>> batch = new ArrayList<>();
                    for (int i = first; i < Math.min(mails, first + 10_000); i++) {
                        batch.add(Map.entry("user" + (i % 100) + "@example.com", MailCorpus.ofSize(4096, i)));
                    }
                    publisher.publish(batch);
                }
            }
            String none;
            String all;
            String logFill;
            List<Entry> entries;
            try (Slapd slapd = Slapd.start()) {
                Path config = withMailboxes(slapd, kafka, topic, Map.of());
                none = replay(root, config, "none stored");
                all = replay(root, config, "all stored");
                entries = StoreBenchmark.storedEntries(slapd);
            }
            try (Slapd slapd = Slapd.start()) {
                slapd.applyShipped("mailstore.durability-log.ldif");
                logFill = replay(root, withMailboxes(slapd, kafka, topic, Map.of("store.durability", "log")), "none stored, log mode");
            }
            double raw;
            try (Slapd fresh = Slapd.start()) {
                raw = StoreBenchmark.rawAddRate(fresh, entries);
            }
            System.out.printf("%n%d mails of 4,096 octets to 100 mailboxes, 32 partitions, 8 connections, durable slapd (mdb, syncing) "
                    + "unless log mode (olcDbNoSync, a checkpoint a minute)%n", mails);
            System.out.println(none);
            System.out.println(all);
            System.out.println(logFill);
            System.out.printf("%-44s %8.0f adds/s%n", "slapd raw add rate, same entries, synced", raw);
        }
    }

    /** Adds the 100 mailboxes to {@code slapd}; returns a worker configuration storing {@code topic} into it. */
    private static Path withMailboxes(Slapd slapd, KafkaCluster kafka, String topic, Map<String, String> settings) throws Exception {
        for (int i = 0; i < 100; i++) {
            slapd.addMailbox("user" + i);
        }
        return StoreBenchmark.workerConfig(kafka, slapd, topic, 8, settings);
    }

    /** Runs the replay to completion; returns its line of the table. */
    private static String replay(Path root, Path config, String label) throws Exception {
        long started = System.nanoTime();
        Process replay = new ProcessBuilder(root.resolve("bin/store-worker").toString(), "replay", "-c", config.toString(),
                "--from-earliest", "--execute").redirectErrorStream(true).start();
        String output = new String(replay.getInputStream().readAllBytes());
        if (replay.waitFor() != 0) {
            throw new IllegalStateException("replay failed:\n" + output);
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - started);
        Matcher rate = SUMMARY_RATE.matcher(output);
        if (!rate.find()) {
            throw new IllegalStateException("no summary in:\n" + output);
        }
        String summary = output.lines().filter(l -> l.startsWith("replay: ") && l.contains("records/s):")).findFirst().orElse("");
        System.out.println(label + ": " + summary);
        return String.format("%-44s %8s mails/s   (%.0f s wall-clock with JVM start)", "replay --mode fill, " + label, rate.group(1),
                wall.toMillis() / 1e3);
    }
}
