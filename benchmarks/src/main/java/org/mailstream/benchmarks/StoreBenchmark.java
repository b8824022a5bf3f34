package org.mailstream.benchmarks;

import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.mailstream.local.FreePort;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.ManagedProcess;
import org.mailstream.local.Slapd;
import org.mailstream.local.TempFiles;

/**
 * StoreBenchmark: how close store-worker comes to what slapd itself can take.
 *
 * <ol>
 * <li>Publishes MAILS mails of 4 KB to 100 mailboxes and lets bin/store-worker store them into a
 *     durable slapd (mdb syncing every write), then the same into a slapd with the shipped
 *     log-mode settings (no sync per add, a checkpoint a minute) with store.durability=log. Each
 *     rate comes from the entries' own entryCSN stamps, first to last, so start-up and the
 *     counting do not count.
 * <li>Reads those very entries back and adds them to a fresh slapd of each kind over the same
 *     number of connections, timing the adds: slapd's raw add rates, synced and unsynced.
 * <li>Stores the same again in log mode with metrics.listen set and /metrics scraped every second:
 *     the metrics' overhead.
 * <li>Stores the same again in log mode to addresses with extensions (user7+tag3@, no such
 *     folder: INBOX) with recipient.delimiter=+, then with a quota on every owner (never reached),
 *     then with both: the cost of the delivery features beside the plain log-mode run.
 * <li>Stores 20 mails of 10,000,000 octets and reads the worker's peak RSS (VmHWM).
 * </ol>
 *
 * <p>Usage: {@code StoreBenchmark REPOSITORY_ROOT MAILS}; {@code -Dconnections=N} (default 8) and
 * {@code -Dpartitions=N} (default 32) vary the LDAP connections of both sides and the topic's
 * partitions. JAVA_OPTS in the environment reaches the worker's JVM through bin/store-worker.
 */
public final class StoreBenchmark {

    private static final int CONNECTIONS = Integer.getInteger("connections", 8);
    /** Several partitions a connection, as a production topic would have, so that writers stay busy. */
    private static final int PARTITIONS = Integer.getInteger("partitions", 32);
    private static final String LOG_SETTINGS = "mailstore.durability-log.ldif";
    static final String WORKER_LOG = "store-worker.log";
    private static final Pattern STORED_REPORT = Pattern.compile("INFO StoreLoop - stored (\\d+),");

    private StoreBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int mails = Integer.parseInt(args[1]);
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            double syncRate;
            double logRate;
            List<Entry> entries;
            try (Slapd slapd = Slapd.start()) {
                syncRate = workerRate(root, kafka, slapd, "bench-store", mails, Map.of(), false);
                entries = storedEntries(slapd);
            }
            try (Slapd slapd = Slapd.start()) {
                slapd.applyShipped(LOG_SETTINGS);
                logRate = workerRate(root, kafka, slapd, "bench-store-log", mails, Map.of("store.durability", "log"), false);
            }
            double meteredRate;
            int metricsPort = FreePort.next();
            try (Slapd slapd = Slapd.start(); MetricsScraper scraper = new MetricsScraper(metricsPort)) {
                slapd.applyShipped(LOG_SETTINGS);
                meteredRate = workerRate(root, kafka, slapd, "bench-store-metrics", mails, Map.of("store.durability", "log",
                        "metrics.listen", "127.0.0.1:" + metricsPort), false);
                System.out.printf("metrics: %d scrapes of /metrics while it stored%n", scraper.scrapes());
            }
            // The delivery features one at a time, then together, each beside the plain log-mode run.
            Map<String, Double> featureRates = new LinkedHashMap<>();
            featureRates.put("+extensions", featureRate(root, kafka, mails, "ext",
                    Map.of("recipient.delimiter", "+"), true));
            featureRates.put("quota counted", featureRate(root, kafka, mails, "quota",
                    Map.of("quota.messages", "1000000000"), false));
            featureRates.put("+extensions, quota counted", featureRate(root, kafka, mails, "both",
                    Map.of("recipient.delimiter", "+", "quota.messages", "1000000000"), true));
            double rawSynced = rawAddRate(entries, false);
            double rawUnsynced = rawAddRate(entries, true);
            long peakRssKiB;
            try (Slapd slapd = Slapd.start()) {
                peakRssKiB = peakRss(root, kafka, slapd);
            }
            System.out.printf("%n%d mails of 4,096 octets to 100 mailboxes, %d partitions, %d LDAP connections%n",
                    mails, PARTITIONS, CONNECTIONS);
            System.out.printf("%-58s %8.0f mails/s%n", "store-worker, store.durability=sync (slapd syncs each add)", syncRate);
            System.out.printf("%-58s %8.0f mails/s%n", "store-worker, store.durability=log (olcDbNoSync, checkpoint)", logRate);
            System.out.printf("%-58s %8.0f adds/s%n", "slapd raw add rate, same entries, synced", rawSynced);
            System.out.printf("%-58s %8.0f adds/s%n", "slapd raw add rate, same entries, unsynced", rawUnsynced);
            System.out.printf("%-58s %8.2fx   (goal: at least 0.9x)%n", "sync mode / raw synced", syncRate / rawSynced);
            System.out.printf("%-58s %8.2fx   (goal: at least 3x)%n", "log mode / raw synced", logRate / rawSynced);
            System.out.printf("%-58s %8.2fx   (goal: at least 0.8x)%n", "log mode / raw unsynced", logRate / rawUnsynced);
            System.out.printf("%-58s %8.0f mails/s%n", "store-worker, log mode, /metrics scraped every second", meteredRate);
            System.out.printf("%-58s %+7.1f %%   (goal: within 3 %%)%n", "with metrics / without", 100 * (meteredRate / logRate - 1));
            featureRates.forEach((feature, rate) -> System.out.printf("%-58s %8.0f mails/s %6.2fx   (goal: at least 0.95x)%n",
                    "store-worker, log mode, " + feature, rate, rate / logRate));
            System.out.printf("%-58s %8.0f MiB (20 mails of 10,000,000 octets, -Xmx512m)%n", "store-worker peak RSS", peakRssKiB / 1024.0);
        }
    }

    /** slapd's raw add rate for {@code entries} into a fresh slapd, synced or with the shipped log-mode settings. */
    private static double rawAddRate(List<Entry> entries, boolean unsynced) throws Exception {
        try (Slapd fresh = Slapd.start()) {
            if (unsynced) {
                fresh.applyShipped(LOG_SETTINGS);
            }
            long slapdBefore = cpuMillis(fresh.pid());
            long selfBefore = cpuMillis(ProcessHandle.current().pid());
            double rate = rawAddRate(fresh, entries);
            System.out.printf("raw adds%s: CPU seconds used: slapd %.1f, adding client %.1f%n", unsynced ? ", unsynced" : "",
                    (cpuMillis(fresh.pid()) - slapdBefore) / 1e3, (cpuMillis(ProcessHandle.current().pid()) - selfBefore) / 1e3);
            return rate;
        }
    }

    /** The log-mode rate with {@code features} set, into a slapd of its own, to addresses with extensions when {@code extended}. */
    private static double featureRate(Path root, KafkaCluster kafka, int mails, String name, Map<String, String> features,
            boolean extended) throws Exception {
        try (Slapd slapd = Slapd.start()) {
            slapd.applyShipped(LOG_SETTINGS);
            Map<String, String> settings = new TreeMap<>(features);
            settings.put("store.durability", "log");
            return workerRate(root, kafka, slapd, "bench-store-" + name, mails, settings, extended);
        }
    }

    /** The rate of {@code mails} stored by the worker with {@code settings}, to {@code user7+tag3@}-like addresses when {@code extended}. */
    private static double workerRate(Path root, KafkaCluster kafka, Slapd slapd, String topic, int mails, Map<String, String> settings,
            boolean extended) throws Exception {
        kafka.createTopic(topic, PARTITIONS, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of());
        List<ProducerRecord<byte[], byte[]>> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            slapd.addMailbox("user" + i);
        }
        for (int i = 0; i < mails; i++) {
            String mailbox = "user" + (i % 100) + "@example.com";
            ProducerRecord<byte[], byte[]> record = MailPublisher.record(topic,
                    extended ? mailbox.replace("@", "+tag" + (i % 7) + "@") : mailbox, MailCorpus.ofSize(4096, i));
            // Keyed by the mailbox, as ingest keys a recipient with an extension; the envelope keeps the whole address.
            batch.add(new ProducerRecord<>(topic, null, mailbox.getBytes(StandardCharsets.UTF_8), record.value(), record.headers()));
        }
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            publisher.send(batch);
        }
        long slapdBefore = cpuMillis(slapd.pid());
        long brokerBefore = cpuMillis(kafka.pid(1));
        Path config = workerConfig(kafka, slapd, topic, CONNECTIONS, settings);
        Process worker = startWorker(root, config);
        awaitReportedStored(worker, config.resolveSibling(WORKER_LOG), mails);
        String label = "store-worker" + (settings.isEmpty() ? "" : " " + settings);
        System.out.printf("%s: CPU seconds used: slapd %.1f, store-worker %.1f, kafka broker %.1f%n", label,
                (cpuMillis(slapd.pid()) - slapdBefore) / 1e3, cpuMillis(worker.pid()) / 1e3, (cpuMillis(kafka.pid(1)) - brokerBefore) / 1e3);
        worker.destroy();
        worker.waitFor();
        List<Instant> stamps = writeTimes(slapd);
        int tenth = stamps.size() / 10;
        System.out.printf("%s: %.0f mails/s from the 10th to the 90th percentile of its writes (warm, all partitions busy)%n", label,
                (stamps.size() - 2 * tenth) / (Duration.between(stamps.get(tenth), stamps.get(stamps.size() - tenth - 1)).toNanos() / 1e9));
        return rate(stamps);
    }

    /** When each stored message was written, from its entryCSN, in order. */
    static List<Instant> writeTimes(Slapd slapd) {
        return slapd.messages("entryCSN").stream().map(e -> Slapd.csnTime(e.getAttributeValue("entryCSN"))).sorted().toList();
    }

    /** Writes per second, first write to last, so that start-up and the counting do not count. */
    static double rate(List<Instant> sortedWriteTimes) {
        return (sortedWriteTimes.size() - 1)
                / (Duration.between(sortedWriteTimes.get(0), sortedWriteTimes.get(sortedWriteTimes.size() - 1)).toNanos() / 1e9);
    }

    static List<Entry> storedEntries(Slapd slapd) throws Exception {
        List<Entry> entries = new ArrayList<>();
        try (LDAPConnection connection = slapd.rootConnection()) {
            for (SearchResultEntry entry : connection.search(new SearchRequest(Slapd.PEOPLE, SearchScope.SUB,
                    "(|(objectClass=mailStoreFolder)(objectClass=mailStoreMessage))", "*")).getSearchEntries()) {
                entries.add(new Entry(entry.getDN(), entry.getAttributes().toArray(new Attribute[0])));
            }
        }
        entries.sort((a, b) -> Integer.compare(a.getDN().length(), b.getDN().length()));
        return entries;
    }

    /** Folders first, then the messages spread over {@value #CONNECTIONS} connections, each bound as the service account. */
    static double rawAddRate(Slapd slapd, List<Entry> entries) throws Exception {
        for (int i = 0; i < 100; i++) {
            slapd.addMailbox("user" + i);
        }
        List<Entry> folders = entries.stream().filter(e -> e.hasObjectClass("mailStoreFolder")).toList();
        List<Entry> messages = entries.stream().filter(e -> e.hasObjectClass("mailStoreMessage")).toList();
        try (LDAPConnection connection = slapd.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
            for (Entry folder : folders) {
                connection.add(folder);
            }
        }
        ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
        List<Future<?>> done = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < CONNECTIONS; c++) {
            int first = c;
            done.add(clients.submit(() -> {
                try (LDAPConnection connection = slapd.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
                    for (int i = first; i < messages.size(); i += CONNECTIONS) {
                        connection.add(messages.get(i));
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        clients.shutdown();
        return messages.size() / seconds;
    }

    private static long peakRss(Path root, KafkaCluster kafka, Slapd slapd) throws Exception {
        String topic = "bench-store-large";
        kafka.createTopic(topic, CONNECTIONS, 1, Map.of("max.message.bytes", "11000000"));
        slapd.addMailbox("big");
        List<Map.Entry<String, byte[]>> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            batch.add(Map.entry("big@example.com", MailCorpus.withAttachment(10_000_000, i)));
        }
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            publisher.publish(batch);
        }
        Process worker = startWorker(root, kafka, slapd, topic, CONNECTIONS, Map.of());
        awaitCommitted(kafka, topic, 20, worker);
        long peak = Files.readAllLines(Path.of("/proc", Long.toString(worker.pid()), "status")).stream()
                .filter(l -> l.startsWith("VmHWM:")).mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
        worker.destroy();
        worker.waitFor();
        return peak;
    }

    /** User and system CPU time of process {@code pid} so far, from /proc (clock ticks of 10 ms). */
    static long cpuMillis(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    }

    /** bin/store-worker of group {@code topic} storing {@code topic} into {@code slapd}, with {@code settings} added. */
    static Process startWorker(Path root, KafkaCluster kafka, Slapd slapd, String topic, int connections, Map<String, String> settings)
            throws Exception {
        return startWorker(root, workerConfig(kafka, slapd, topic, connections, settings));
    }

    /**
     * bin/store-worker with {@code config}, logging to {@value #WORKER_LOG} beside it; stopped
     * with the other managed processes if the benchmark ends before it stops it.
     */
    static Process startWorker(Path root, Path config) throws Exception {
        Path log = config.resolveSibling(WORKER_LOG);
        Process worker = new ProcessBuilder(root.resolve("bin/store-worker").toString(), "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ManagedProcess.adopt("store-worker", worker.pid(), log);
        return worker;
    }

    /**
     * Waits until the worker's own report (a log line every 10 s) counts {@code count} records
     * stored: neither a search (which would compete with the adds being measured) nor the
     * committed offsets (which log mode commits minutes after the write, by design).
     */
    private static void awaitReportedStored(Process worker, Path log, int count) throws Exception {
        while (Files.readAllLines(log).stream().map(STORED_REPORT::matcher).filter(Matcher::find)
                .mapToLong(m -> Long.parseLong(m.group(1))).max().orElse(0) < count) {
            if (!worker.isAlive()) {
                throw workerDied(log);
            }
            Thread.sleep(1000);
        }
    }

    /** The failure of a worker that died, with the end of its log: the log's directory goes when the benchmark ends. */
    static IllegalStateException workerDied(Path log) {
        return new IllegalStateException("store-worker died\n" + ManagedProcess.logTail("store-worker", log));
    }

    /** A store-worker configuration in a directory of its own: group {@code topic} storing {@code topic} into {@code slapd}. */
    static Path workerConfig(KafkaCluster kafka, Slapd slapd, String topic, int connections, Map<String, String> settings)
            throws Exception {
        Path work = TempFiles.directory("bench-store");
        Path password = Files.writeString(work.resolve("password"), Slapd.SERVICE_PASSWORD + "\n");
        Map<String, String> all = new TreeMap<>(settings);
        all.putAll(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "kafka.group.id", topic, "topic", topic,
                "ldap.urls", slapd.url(), "ldap.bind.dn", Slapd.SERVICE_DN, "ldap.bind.password.file", password.toString(),
                "ldap.base.dn", Slapd.PEOPLE, "ldap.connections", Integer.toString(connections), "bounce.command", ""));
        return Files.writeString(work.resolve("store-worker.properties"), all.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue() + "\n").collect(Collectors.joining()));
    }

    /** Waits until consumer group {@code group} has committed {@code count} records: cheap for slapd, unlike counting entries. */
    static void awaitCommitted(KafkaCluster kafka, String group, int count, Process... workers) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = kafka.admin()) {
            while (admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().values().stream()
                    .mapToLong(o -> o.offset()).sum() < count) {
                for (Process worker : workers) {
                    if (!worker.isAlive()) {
                        throw new IllegalStateException("a store-worker died");
                    }
                }
                Thread.sleep(500);
            }
        }
    }
}
