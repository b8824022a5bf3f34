package org.mailstream.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.mailstream.local.Command;
import org.mailstream.local.Dovecot;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.Postfix;
import org.mailstream.local.ProcessCpu;
import org.mailstream.local.Slapd;

/**
 * What a site buys, measured beside its usual peer on the same machine: Postfix handing mail to
 * Dovecot's LMTP server (a Maildir file written with Dovecot's default fsync), against Postfix
 * handing it to ingest-lmtpd, Kafka, one store-worker and slapd, in log mode and in sync mode.
 * Postfix runs with the same settings in every row (the shipped main-lmtp.cf), smtp-source sends
 * MAILS mails of 4 KB to one mailbox over 20 sessions, and each row runs RUNS times with fresh
 * servers (one Kafka broker for all, run as the compose stack runs it, a fresh topic each run).
 *
 * <p>A row's time runs from the first SMTP connection to the last mail delivered: Postfix's last
 * {@code status=sent} for Dovecot (sent once Dovecot answered 250, after its fsync), the last
 * stored entry's entryCSN for ours. Its CPU is what each process tree used meanwhile (Postfix's
 * master with its children, the broker, ingest-lmtpd, the worker, slapd, Dovecot's master with
 * its children), read from /proc before the first mail and after the last; ours is read once the
 * worker has logged the last mail stored, so it includes up to a fifth of a second of idling.
 */
final class DovecotComparison {

    private static final String MAILBOX = "bob";
    private static final String RECIPIENT = MAILBOX + "@" + Postfix.DOMAIN;
    private static final List<String> PROCESSES = List.of("Postfix", "Dovecot", "Kafka broker", "ingest-lmtpd", "store-worker", "slapd");

    /** One run of a row: its mails/s, and the CPU seconds each process used. */
    private record Run(double seconds, int mails, Map<String, Double> cpu) {
        double rate() {
            return mails / seconds;
        }

        double cpuPerThousand(String process) {
            return cpu.getOrDefault(process, 0.0) * 1000 / mails;
        }
    }

    private DovecotComparison() {
    }

    static void run(Path root, int mails, int runs) throws Exception {
        Map<String, List<Run>> rows = new LinkedHashMap<>();
        try (KafkaCluster kafka = KafkaCluster.startAsDeployed(1)) {
            for (int i = 1; i <= runs; i++) {
                rows.computeIfAbsent("Dovecot LMTP (Maildir, fsync)", row -> new ArrayList<>()).add(dovecot(mails));
                rows.computeIfAbsent("ours, store.durability=log", row -> new ArrayList<>()).add(ours(root, kafka, "log", mails, i));
                rows.computeIfAbsent("ours, store.durability=sync", row -> new ArrayList<>()).add(ours(root, kafka, "sync", mails, i));
            }
        }
        print(rows, mails, runs);
    }

    private static Run dovecot(int mails) throws Exception {
        try (Slapd slapd = Slapd.start(); Dovecot dovecot = Dovecot.startWithLmtp(Map.of(MAILBOX, "unused"))) {
            slapd.addMailbox(MAILBOX);
            try (Postfix postfix = Postfix.startLmtp(slapd, dovecot.lmtpSocket())) {
                Map<String, Long> pids = Map.of("Postfix", postfix.masterPid(), "Dovecot", dovecot.pid(), "slapd", slapd.pid());
                Map<String, Double> before = cpu(pids);
                Instant start = Instant.now();
                inject(postfix, mails, start);
                if (!postfix.awaitLogLines(sentTo(RECIPIENT), mails, Duration.ofMinutes(30))) {
                    throw new IllegalStateException("Dovecot: not every mail was delivered\n" + postfix.diagnostics() + dovecot.log());
                }
                double seconds = Duration.between(start, Instant.now()).toNanos() / 1e9;
                Map<String, Double> used = used(before, cpu(pids));
                if (dovecot.mailCount(MAILBOX) != mails) {
                    throw new IllegalStateException("Dovecot holds " + dovecot.mailCount(MAILBOX) + " files for " + mails + " mails");
                }
                printDelays(postfix);
                return report("Dovecot", new Run(seconds, mails, used));
            }
        }
    }

    private static Run ours(Path root, KafkaCluster kafka, String durability, int mails, int run) throws Exception {
        String topic = "bench-dovecot-" + durability + "-" + run;
        kafka.createTopic(topic, 4, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of());
        try (Slapd slapd = Slapd.start()) {
            if (durability.equals("log")) {
                slapd.applyShipped("mailstore.durability-log.ldif");
            }
            slapd.addMailbox(MAILBOX);
            Path config = StoreBenchmark.workerConfig(kafka, slapd, topic, 8, Map.of("store.durability", durability));
            Path workerLog = config.resolveSibling(StoreBenchmark.WORKER_LOG);
            Process worker = StoreBenchmark.startWorker(root, config);
            Path socket = Postfix.lmtpSocketPath();
            try (LmtpdProcess lmtpd = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", topic,
                    "lmtp.listen", "unix:" + socket, "lmtp.socket.group", "postfix"));
                 Postfix postfix = Postfix.startLmtp(slapd, socket)) {
                awaitLines(workerLog, line -> line.contains("StoreLoop - assigned"), 1, worker);
                Map<String, Long> pids = Map.of("Postfix", postfix.masterPid(), "Kafka broker", kafka.pid(1), "ingest-lmtpd", lmtpd.pid(),
                        "store-worker", worker.pid(), "slapd", slapd.pid());
                Map<String, Double> before = cpu(pids);
                Instant start = Instant.now();
                inject(postfix, mails, start);
                awaitLines(workerLog, line -> line.contains("status=stored"), mails, worker);
                Map<String, Double> used = used(before, cpu(pids));
                List<Instant> writes = StoreBenchmark.writeTimes(slapd);
                if (writes.size() != mails) {
                    throw new IllegalStateException("slapd holds " + writes.size() + " messages for " + mails + " mails");
                }
                double seconds = Duration.between(start, writes.get(writes.size() - 1)).toNanos() / 1e9;
                printDelays(postfix);
                return report("ours, " + durability, new Run(seconds, mails, used));
            } finally {
                worker.destroy();
                worker.waitFor();
            }
        }
    }

    private static void inject(Postfix postfix, int mails, Instant start) {
        Command.Result injected = postfix.smtpSource(RECIPIENT, mails, 4096);
        if (injected.exitCode() != 0) {
            throw new IllegalStateException("smtp-source failed:\n" + injected);
        }
        System.out.printf("smtp-source: %d mails accepted by Postfix in %.1f s%n", mails,
                Duration.between(start, Instant.now()).toNanos() / 1e9);
    }

    /**
     * Where a mail waited inside Postfix, from the {@code delays=a/b/c/d} of its {@code status=sent} line: a before the queue
     * manager (smtpd, cleanup), b in the active queue waiting for a delivery agent, c setting up the connection, d
     * transmitting (for LMTP, until the server's 250). Medians and 90th percentiles, in seconds.
     */
    private static void printDelays(Postfix postfix) {
        List<double[]> delays = postfix.logLines(sentTo(RECIPIENT)).stream()
                .map(line -> line.replaceFirst(".* delays=([0-9./]+),.*", "$1").split("/"))
                .map(parts -> Stream.of(parts).mapToDouble(Double::parseDouble).toArray())
                .toList();
        StringBuilder line = new StringBuilder("Postfix delays, median (p90) s:");
        String[] names = {"before qmgr", "in active queue", "connection", "transmission"};
        for (int i = 0; i < names.length; i++) {
            int field = i;
            List<Double> values = delays.stream().map(d -> d[field]).toList();
            line.append(String.format(" %s %.2f (%.2f);", names[i], Ranks.median(values), Ranks.percentile(values, 90)));
        }
        System.out.println(line);
    }

    private static Predicate<String> sentTo(String recipient) {
        return line -> line.contains("to=<" + recipient + ">") && line.contains("status=sent");
    }

    /** Waits until {@code log} holds {@code count} lines that {@code match}, polling it every 200 ms. */
    private static void awaitLines(Path log, Predicate<String> match, int count, Process worker) throws Exception {
        while (true) {
            long found;
            try (Stream<String> lines = Files.lines(log)) {
                found = lines.filter(match).count();
            }
            if (found >= count) {
                return;
            }
            if (!worker.isAlive()) {
                throw StoreBenchmark.workerDied(log);
            }
            Thread.sleep(200);
        }
    }

    private static Map<String, Double> cpu(Map<String, Long> pids) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        pids.forEach((name, pid) -> seconds.put(name, ProcessCpu.seconds(pid)));
        return seconds;
    }

    private static Map<String, Double> used(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> used = new LinkedHashMap<>();
        after.forEach((name, seconds) -> used.put(name, seconds - before.get(name)));
        return used;
    }

    private static Run report(String row, Run run) {
        System.out.printf("%s: %d mails in %.1f s (%.0f mails/s), CPU s: %s%n", row, run.mails(), run.seconds(), run.rate(), run.cpu());
        return run;
    }

    private static void print(Map<String, List<Run>> rows, int mails, int runs) {
        System.out.printf("%nbeside Dovecot: Postfix -> LMTP, %d mails of 4 KB to one mailbox, 20 SMTP sessions, %d runs each; "
                + "median (min-max); CPU seconds per 1,000 mails%n", mails, runs);
        System.out.printf("%-32s %-22s", "row", "mails/s");
        PROCESSES.forEach(process -> System.out.printf(" %13s", process));
        System.out.printf(" %9s%n", "all");
        Map<String, Double> medianRate = new LinkedHashMap<>();
        Map<String, Map<String, Double>> medianCpu = new LinkedHashMap<>();
        rows.forEach((row, list) -> {
            List<Double> rates = list.stream().map(Run::rate).sorted().toList();
            medianRate.put(row, Ranks.median(rates));
            System.out.printf("%-32s %-22s", row, String.format("%.0f (%.0f-%.0f)", Ranks.median(rates), rates.get(0), rates.get(rates.size() - 1)));
            Map<String, Double> cpu = new LinkedHashMap<>();
            for (String process : PROCESSES) {
                double perThousand = Ranks.median(list.stream().map(r -> r.cpuPerThousand(process)).toList());
                cpu.put(process, perThousand);
                System.out.printf(" %13s", perThousand == 0 ? "-" : String.format("%.2f", perThousand));
            }
            medianCpu.put(row, cpu);
            System.out.printf(" %9.2f%n", cpu.values().stream().mapToDouble(Double::doubleValue).sum());
        });
        List<String> names = List.copyOf(rows.keySet());
        double dovecotRate = medianRate.get(names.get(0));
        Map<String, Double> dovecotCpu = medianCpu.get(names.get(0));
        Map<String, Double> logCpu = medianCpu.get(names.get(1));
        double ours = logCpu.get("Kafka broker") + logCpu.get("ingest-lmtpd") + logCpu.get("store-worker") + logCpu.get("slapd");
        double theirs = dovecotCpu.get("Dovecot") + dovecotCpu.get("slapd") + logCpu.get("Kafka broker");
        System.out.printf("%-58s %8.2fx   (goal: at least 1.25x)%n", "log mode / Dovecot, mails/s", medianRate.get(names.get(1)) / dovecotRate);
        System.out.printf("%-58s %8.2fx   (goal: at least 0.8x)%n", "sync mode / Dovecot, mails/s", medianRate.get(names.get(2)) / dovecotRate);
        System.out.printf("%-58s %8.2f s   against %.2f s: Dovecot's, its row's slapd lookups and our broker's (goal: at most)%n",
                "our CPU per 1,000 mails, log mode (broker+lmtpd+worker+slapd)", ours, theirs);
    }
}
