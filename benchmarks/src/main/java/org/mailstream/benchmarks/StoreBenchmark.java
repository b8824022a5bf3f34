package org.mailstream.benchmarks;

import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.testsupport.Slapd;
import org.mailstream.testsupport.MailPublisher;

/**
 * StoreBenchmark: how close store-worker comes to what slapd itself can take.
 *
 * <ol>
 * <li>Publishes MAILS mails of 4 KB to 100 mailboxes and lets bin/store-worker store them into a
 *     durable slapd (mdb syncing every write). Its rate comes from the entries' own entryCSN
 *     stamps, first to last, so start-up and the counting do not count.
 * <li>Reads those very entries back and adds them to a second, fresh slapd of the same kind
 *     over the same number of connections, timing the adds: slapd's raw add rate.
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

    private StoreBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int mails = Integer.parseInt(args[1]);
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            double workerRate;
            List<Entry> entries;
            try (Slapd slapd = Slapd.start()) {
                workerRate = workerRate(root, kafka, slapd, "bench-store", mails, 4096);
                entries = storedEntries(slapd);
            }
            double rawRate;
            try (Slapd fresh = Slapd.start()) {
                long slapdBefore = cpuMillis(fresh.pid());
                long selfBefore = cpuMillis(ProcessHandle.current().pid());
                rawRate = rawAddRate(fresh, entries);
                System.out.printf("raw adds: CPU seconds used: slapd %.1f, adding client %.1f%n",
                        (cpuMillis(fresh.pid()) - slapdBefore) / 1e3, (cpuMillis(ProcessHandle.current().pid()) - selfBefore) / 1e3);
            }
            long peakRssKiB;
            try (Slapd slapd = Slapd.start()) {
                peakRssKiB = peakRss(root, kafka, slapd);
            }
            System.out.printf("%n%d mails of 4,096 octets to 100 mailboxes, %d partitions, %d LDAP connections, durable slapd (mdb, syncing)%n",
                    mails, PARTITIONS, CONNECTIONS);
            System.out.printf("%-45s %10.0f mails/s%n", "store-worker (Kafka -> parse -> LDAP add)", workerRate);
            System.out.printf("%-45s %10.0f adds/s%n", "slapd raw add rate, same entries", rawRate);
            System.out.printf("%-45s %9.0f %%   (goal: at least 90 %%)%n", "store-worker / raw", 100 * workerRate / rawRate);
            System.out.printf("%-45s %10.0f MiB (20 mails of 10,000,000 octets, -Xmx512m)%n", "store-worker peak RSS", peakRssKiB / 1024.0);
        }
    }

    private static double workerRate(Path root, KafkaCluster kafka, Slapd slapd, String topic, int mails, int size) throws Exception {
        kafka.createTopic(topic, PARTITIONS, 1, Map.of("max.message.bytes", "11000000"));
        List<Map.Entry<String, byte[]>> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            slapd.addMailbox("user" + i);
        }
        for (int i = 0; i < mails; i++) {
            batch.add(Map.entry("user" + (i % 100) + "@example.com", MailCorpus.ofSize(size, i)));
        }
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            publisher.publish(batch);
        }
        long slapdBefore = cpuMillis(slapd.pid());
        long brokerBefore = cpuMillis(kafka.pid(1));
        Process worker = startWorker(root, kafka, slapd, topic, CONNECTIONS, Map.of());
        awaitCommitted(kafka, topic, mails, worker);
        System.out.printf("store-worker: CPU seconds used: slapd %.1f, store-worker %.1f, kafka broker %.1f%n",
                (cpuMillis(slapd.pid()) - slapdBefore) / 1e3, cpuMillis(worker.pid()) / 1e3, (cpuMillis(kafka.pid(1)) - brokerBefore) / 1e3);
        worker.destroy();
        worker.waitFor();
        List<Instant> stamps = writeTimes(slapd);
        int tenth = stamps.size() / 10;
        System.out.printf("store-worker: %.0f mails/s from the 10th to the 90th percentile of its writes (warm, all partitions busy)%n",
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
        Path config = workerConfig(kafka, slapd, topic, connections, settings);
        return new ProcessBuilder(root.resolve("bin/store-worker").toString(), "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(config.resolveSibling("store-worker.log").toFile()).start();
    }

    /** A store-worker configuration in a directory of its own: group {@code topic} storing {@code topic} into {@code slapd}. */
    static Path workerConfig(KafkaCluster kafka, Slapd slapd, String topic, int connections, Map<String, String> settings)
            throws Exception {
        Path work = Files.createTempDirectory("bench-store");
        Path password = Files.writeString(work.resolve("password"), Slapd.SERVICE_PASSWORD + "\n");
        Map<String, String> all = new TreeMap<>(settings);
        all.putAll(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "kafka.group.id", topic, "topic", topic,
                "ldap.urls", slapd.url(), "ldap.bind.dn", Slapd.SERVICE_DN, "ldap.bind.password.file", password.toString(),
                "ldap.base.dn", Slapd.PEOPLE, "ldap.connections", Integer.toString(connections)));
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
