package org.mailstream.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;

/**
 * ScalingBenchmark: store-worker's mails/s as back ends and workers are added.
 *
 * <p>For 1 and 2 back ends (one durable slapd each) and 1 and 2 bin/store-worker processes per
 * back end, each worker with its default 8 LDAP connections: publishes MAILS mails of 4 KB to
 * 100 mailboxes on a fresh topic of 32 partitions, waits until every back end's group has
 * committed the whole topic, and prints the rate from the entries' entryCSN stamps (the first
 * write on any back end to the last) and what says what bounds it: the CPU seconds of each kind
 * of process, so CPU per mail and the rate at which that CPU would fill every core, and the
 * machine's busy and I/O-wait shares from the workers' start to the last commit.
 *
 * <p>Every mailbox exists on every back end: the routing rule, not the directory, decides which
 * back end stores a mail, as in production where a mailbox lives on its owner only.
 *
 * <p>Usage: {@code ScalingBenchmark REPOSITORY_ROOT MAILS}.
 */
public final class ScalingBenchmark {

    private static final int PARTITIONS = 32;
    private static final int WORKER_CONNECTIONS = 8;
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    private ScalingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int mails = Integer.parseInt(args[1]);
        List<String> rows = new ArrayList<>();
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            for (int backends = 1; backends <= 2; backends++) {
                for (int workers = 1; workers <= 2; workers++) {
                    rows.add(run(root, kafka, backends, workers, mails));
                }
            }
        }
        System.out.printf("%n%d mails of 4,096 octets to 100 mailboxes, %d partitions, durable slapd (mdb, syncing), 2 cores%n",
                mails, PARTITIONS);
        System.out.printf("%-9s %-8s %9s   %-36s %-14s %-16s %s%n", "back ends", "workers", "mails/s", "CPU s: slapd / workers / broker",
                "CPU ms a mail", "CPU ceiling /s", "machine busy, I/O wait");
        rows.forEach(System.out::println);
    }

    private static String run(Path root, KafkaCluster kafka, int backendCount, int workersPerBackend, int mails) throws Exception {
        String topic = "bench-scaling-" + backendCount + "x" + workersPerBackend;
        kafka.createTopic(topic, PARTITIONS, 1, Map.of("max.message.bytes", "11000000"));
        List<String> names = List.of("a", "b").subList(0, backendCount);
        List<Slapd> backends = new ArrayList<>();
        List<Process> workers = new ArrayList<>();
        try {
            for (int b = 0; b < backendCount; b++) {
                Slapd slapd = Slapd.start();
                backends.add(slapd);
                for (int i = 0; i < 100; i++) {
                    slapd.addMailbox("user" + i);
                }
            }
            List<Map.Entry<String, byte[]>> batch = new ArrayList<>();
            for (int i = 0; i < mails; i++) {
                batch.add(Map.entry("user" + (i % 100) + "@example.com", MailCorpus.ofSize(4096, i)));
            }
            try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
                publisher.publish(batch);
            }
            long slapdBefore = cpuMillis(backends);
            long brokerBefore = StoreBenchmark.cpuMillis(kafka.pid(1));
            long[] machineBefore = machineTicks();
            for (int b = 0; b < backendCount; b++) {
                for (int w = 0; w < workersPerBackend; w++) {
                    workers.add(StoreBenchmark.startWorker(root, kafka, backends.get(b), topic, WORKER_CONNECTIONS,
                            Map.of("backend", names.get(b), "routing.backends", String.join(",", names))));
                }
            }
            for (String name : names) {
                // Each back end's group reads the whole topic and commits past the records it does not own.
                StoreBenchmark.awaitCommitted(kafka, topic + "-" + name, mails, workers.toArray(new Process[0]));
            }
            long[] machineAfter = machineTicks();
            long workerMillis = 0;
            for (Process worker : workers) {
                workerMillis += StoreBenchmark.cpuMillis(worker.pid());
            }
            List<Instant> writes = new ArrayList<>();
            for (Slapd slapd : backends) {
                writes.addAll(StoreBenchmark.writeTimes(slapd));
            }
            writes.sort(null);
            if (writes.size() != mails) {
                throw new IllegalStateException("stored " + writes.size() + " of " + mails + " mails");
            }
            double total = machineAfter[0] - machineBefore[0];
            double slapdSeconds = (cpuMillis(backends) - slapdBefore) / 1e3;
            double brokerSeconds = (StoreBenchmark.cpuMillis(kafka.pid(1)) - brokerBefore) / 1e3;
            double cpuMillisPerMail = (slapdSeconds + workerMillis / 1e3 + brokerSeconds) * 1e3 / mails;
            // What the mail's own CPU would allow if nothing else held it back: both cores busy.
            double cpuCeiling = CORES * 1e3 / cpuMillisPerMail;
            return String.format("%-9d %-8d %9.0f   %-36s %-14.2f %-16.0f %.0f %%, %.0f %%", backendCount, workersPerBackend,
                    StoreBenchmark.rate(writes), String.format("%.1f / %.1f / %.1f", slapdSeconds, workerMillis / 1e3, brokerSeconds),
                    cpuMillisPerMail, cpuCeiling,
                    100 * (total - (machineAfter[1] - machineBefore[1]) - (machineAfter[2] - machineBefore[2])) / total,
                    100 * (machineAfter[2] - machineBefore[2]) / total);
        } finally {
            for (Process worker : workers) {
                worker.destroy();
                worker.waitFor();
            }
            backends.forEach(Slapd::close);
        }
    }

    private static long cpuMillis(List<Slapd> slapds) throws Exception {
        long sum = 0;
        for (Slapd slapd : slapds) {
            sum += StoreBenchmark.cpuMillis(slapd.pid());
        }
        return sum;
    }

    /** The machine's clock ticks so far from /proc/stat: all, idle, I/O wait. */
    static long[] machineTicks() throws Exception {
        String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < fields.length; i++) {
            all += Long.parseLong(fields[i]);
        }
        return new long[] {all, Long.parseLong(fields[4]), Long.parseLong(fields[5])};
    }
}
