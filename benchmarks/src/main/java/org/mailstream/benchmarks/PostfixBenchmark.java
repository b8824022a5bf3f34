package org.mailstream.benchmarks;

import com.unboundid.ldap.sdk.Entry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.Postfix;
import org.mailstream.local.Slapd;
import org.mailstream.local.TopicReader;

/**
 * PostfixBenchmark: mails per second through a private Postfix, SMTP in to delivered out, for
 * five delivery agents in one run on the same machine: Postfix's own discard transport (its
 * ceiling here), pipe(8) to kcat -P (the cheapest Kafka producer), LMTP to ingest-lmtpd with the
 * shipped main-lmtp.cf, and pipe(8) to ingest-cli with the shipped master.cf (at most 4
 * processes) and with Postfix's default process limit. smtp-source injects 4 KB mails to one
 * existing mailbox with 20 sessions, so Postfix's default per-destination concurrency (20)
 * applies; the clock runs from the first connection to the last {@code status=sent} in the mail
 * log. For ingest-lmtpd it also reads the server's CPU time from /proc, and runs a second time
 * with metrics.listen set and /metrics scraped every second: the metrics' overhead.
 *
 * <p>Then end to end: Postfix, LMTP, Kafka, one store-worker and a durable slapd, E2E_MAILS mails
 * to 100 mailboxes; the stored rate from the entries' entryCSN, beside slapd's raw add rate for
 * the same entries on a fresh slapd (as bin/bench-store measures it).
 *
 * <p>Last, beside Dovecot ({@link DovecotComparison}): COMPARE_MAILS mails through Postfix to
 * Dovecot's LMTP, and through ingest-lmtpd to slapd in log and in sync mode, COMPARE_RUNS runs each.
 *
 * <p>Usage: {@code PostfixBenchmark ROOT MAILS INGEST_MAILS E2E_MAILS COMPARE_MAILS COMPARE_RUNS}; a
 * count of 0 leaves its part out (MAILS the first table's). Needs bin/install, postfix, postfix-ldap, slapd, kcat and dovecot-lmtpd.
 */
public final class PostfixBenchmark {

    private static final String TOPIC = "bench";
    private static final String RECIPIENT = "bob@" + Postfix.DOMAIN;

    /**
     * One agent's run; {@code serverCpuMs} is the resident server's CPU time, or -1 where there is
     * none; {@code busy} the share of the machine's CPU time that was not idle.
     */
    private record Figure(String name, int mails, double seconds, long serverCpuMs, double busy) {
        double rate() {
            return mails / seconds;
        }
    }

    private PostfixBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int mails = Integer.parseInt(args[1]);
        int ingestMails = Integer.parseInt(args[2]);
        int endToEndMails = Integer.parseInt(args[3]);
        int compareMails = Integer.parseInt(args[4]);
        int compareRuns = Integer.parseInt(args[5]);
        if (mails > 0) {
            agents(mails, ingestMails);
        }
        if (endToEndMails > 0) {
            endToEnd(root, endToEndMails);
        }
        if (compareMails > 0) {
            DovecotComparison.run(root, compareMails, compareRuns);
        }
    }

    /** Postfix's own ceiling (discard), a pipe to kcat, LMTP to ingest-lmtpd and a pipe to ingest-cli, in one table. */
    private static void agents(int mails, int ingestMails) throws Exception {
        try (KafkaCluster kafka = KafkaCluster.start(1); Slapd slapd = Slapd.start()) {
            kafka.createTopic(TOPIC, 4, 1, Map.of("max.message.bytes", "10551296"));
            slapd.addMailbox("bob");
            Map<String, String> ingest = Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC);
            String kcat = "kcat unix - n n - - pipe flags=DRhu user=" + Postfix.PIPE_USER + " argv=/usr/bin/kcat -P -b "
                    + kafka.bootstrapServers() + " -t " + TOPIC + " -k ${recipient} -X acks=all -D \\x01\\x02\\x03\n";
            List<Figure> figures = new ArrayList<>();
            figures.add(measure("discard (Postfix's ceiling)", mails, Postfix.start(slapd, ingest, "discard", ""), null, null));
            figures.add(measure("pipe to kcat -P (acks=all)", mails, Postfix.start(slapd, ingest, "kcat", kcat), null, null));
            long whole = TopicReader.read(kafka.bootstrapServers(), TOPIC, mails, Duration.ofSeconds(60)).stream()
                    .filter(r -> new String(r.value(), StandardCharsets.US_ASCII).startsWith("Return-Path: ")).count();
            if (whole != mails) {
                throw new IllegalStateException("kcat published " + whole + " whole messages for " + mails + " mails");
            }
            figures.add(lmtp("LMTP to ingest-lmtpd", mails, kafka, slapd, Map.of()));
            // The same with /metrics on and scraped every second: the metrics' overhead, by the server's CPU a mail.
            int metricsPort = FreePort.next();
            try (MetricsScraper scraper = new MetricsScraper(metricsPort)) {
                figures.add(lmtp("LMTP to ingest-lmtpd, /metrics scraped", mails, kafka, slapd,
                        Map.of("metrics.listen", "127.0.0.1:" + metricsPort)));
                System.out.println("metrics: " + scraper.scrapes() + " scrapes of /metrics while it delivered");
            }
            peakMemory(kafka);
            figures.add(measure("pipe to ingest-cli, shipped maxproc 4", ingestMails, Postfix.start(slapd, ingest), null, null));
            figures.add(measure("pipe to ingest-cli, default maxproc", ingestMails, Postfix.start(slapd, ingest), "100", null));

            double discardRate = figures.get(0).rate();
            double kcatRate = figures.get(1).rate();
            System.out.printf("%n%-40s %7s %8s %9s %11s %9s %14s %8s%n", "delivery agent (20 SMTP sessions, 4 KB)", "mails", "seconds",
                    "mails/s", "vs discard", "vs kcat", "server CPU ms", "busy");
            for (Figure f : figures) {
                System.out.printf("%-40s %7d %8.1f %9.1f %10.3fx %8.3fx %14s %7.0f%%%n", f.name(), f.mails(), f.seconds(), f.rate(),
                        f.rate() / discardRate, f.rate() / kcatRate,
                        f.serverCpuMs() < 0 ? "-" : String.format("%.2f a mail", (double) f.serverCpuMs() / f.mails()), 100 * f.busy());
            }
        }
    }

    /** Postfix delivering {@code mails} over LMTP to a fresh ingest-lmtpd with {@code settings} added. */
    private static Figure lmtp(String name, int mails, KafkaCluster kafka, Slapd slapd, Map<String, String> settings) throws Exception {
        Path socket = Postfix.lmtpSocketPath();
        Map<String, String> all = new HashMap<>(settings);
        all.putAll(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC, "lmtp.listen", "unix:" + socket,
                "lmtp.socket.group", "postfix"));
        try (LmtpdProcess lmtpd = LmtpdProcess.start(all)) {
            Figure figure = measure(name, mails, Postfix.startLmtp(slapd, socket), null, lmtpd);
            lmtpd.stop();
            System.out.println("ingest-lmtpd: " + lmtpd.log().lines().filter(line -> line.contains(" stopped: ")).findFirst().orElse(""));
            return figure;
        }
    }

    /** Postfix, LMTP, Kafka, one store-worker, durable slapd: stored mails/s beside slapd's raw add rate for the same entries. */
    private static void endToEnd(Path root, int mails) throws Exception {
        String topic = "bench-e2e";
        double storedRate;
        List<Entry> entries;
        try (KafkaCluster kafka = KafkaCluster.start(1); Slapd slapd = Slapd.start()) {
            kafka.createTopic(topic, 32, 1, Map.of("max.message.bytes", "10551296"));
            for (int i = 0; i < 100; i++) {
                slapd.addMailbox("user" + i);
            }
            Path socket = Postfix.lmtpSocketPath();
            Process worker = StoreBenchmark.startWorker(root, kafka, slapd, topic, 8, Map.of());
            try (LmtpdProcess lmtpd = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", topic,
                    "lmtp.listen", "unix:" + socket, "lmtp.socket.group", "postfix"));
                 Postfix postfix = Postfix.startLmtp(slapd, socket)) {
                for (int i = 0; i < 100; i++) {
                    Command.Result injected = postfix.smtpSource("user" + i + "@" + Postfix.DOMAIN, mails / 100, 4096);
                    if (injected.exitCode() != 0) {
                        throw new IllegalStateException("smtp-source failed:\n" + injected);
                    }
                }
                StoreBenchmark.awaitCommitted(kafka, topic, mails / 100 * 100, worker);
            } finally {
                worker.destroy();
                worker.waitFor();
            }
            storedRate = StoreBenchmark.rate(StoreBenchmark.writeTimes(slapd));
            entries = StoreBenchmark.storedEntries(slapd);
        }
        double rawRate;
        try (Slapd fresh = Slapd.start()) {
            rawRate = StoreBenchmark.rawAddRate(fresh, entries);
        }
        System.out.printf("%nend to end: %d mails of 4 KB to 100 mailboxes, Postfix -> LMTP -> Kafka (32 partitions) -> one store-worker "
                + "(8 LDAP connections) -> durable slapd%n", mails / 100 * 100);
        System.out.printf("%-45s %8.0f mails/s%n", "stored (entryCSN, first write to last)", storedRate);
        System.out.printf("%-45s %8.0f adds/s%n", "slapd raw add rate, same entries", rawRate);
        System.out.printf("%-45s %8.2fx   (goal: at least 0.9x)%n", "stored / raw", storedRate / rawRate);
    }

    /**
     * 20 LMTP clients each sending a message of 10,000,000 octets at once to a fresh ingest-lmtpd
     * (the shipped launcher's -Xmx768m): every one must be answered 250, and the server's peak
     * RSS (VmHWM) is what it took.
     */
    private static void peakMemory(KafkaCluster kafka) throws Exception {
        kafka.createTopic("bench-large", 4, 1, Map.of("max.message.bytes", "11000000"));
        byte[] message = org.mailstream.local.MailCorpus.withAttachment(10_000_000, 3);
        try (LmtpdProcess lmtpd = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", "bench-large"))) {
            List<java.util.concurrent.Future<String>> replies = new ArrayList<>();
            java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(20);
            for (int i = 0; i < 20; i++) {
                String recipient = "large" + i + "@" + Postfix.DOMAIN;
                replies.add(clients.submit(() -> sendOverLmtp(lmtpd.port(), recipient, message)));
            }
            for (java.util.concurrent.Future<String> reply : replies) {
                if (!reply.get().startsWith("250 ")) {
                    throw new IllegalStateException("a large message was not delivered: " + reply.get() + "\n" + lmtpd.log());
                }
            }
            clients.shutdown();
            String status = Files.readString(Path.of("/proc", Long.toString(lmtpd.pid()), "status"));
            String peak = status.lines().filter(line -> line.startsWith("VmHWM:")).findFirst().orElse("VmHWM: ?").replaceAll("\\s+", " ");
            System.out.printf("%ningest-lmtpd, 20 connections each sending 10,000,000 octets at once, -Xmx768m: all delivered, peak RSS %s%n",
                    peak.substring("VmHWM: ".length()));
        }
    }

    /** One LMTP transaction over TCP, pipelined as Postfix sends it; returns the reply after DATA. */
    private static String sendOverLmtp(int port, String recipient, byte[] message) throws IOException {
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
            java.io.OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII));
            out.write(("LHLO bench\r\nMAIL FROM:<bench@example.org> SIZE=" + message.length + "\r\nRCPT TO:<" + recipient + ">\r\nDATA\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String line;
            int replies = 0;
            while (replies < 5 && (line = in.readLine()) != null) {
                if (line.length() < 4 || line.charAt(3) != '-') {
                    replies++; // greeting, LHLO, MAIL, RCPT, DATA's 354
                }
            }
            out.write(message);
            out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return in.readLine();
        }
    }

    /**
     * Sends {@code mails} and waits for as many deliveries; {@code processLimit} overrides the ingest
     * transport's maxproc; {@code server}, when given, is the resident server whose CPU time counts.
     */
    private static Figure measure(String name, int mails, Postfix postfix, String processLimit, LmtpdProcess server) throws Exception {
        try (postfix) {
            long cpuBefore = server == null ? 0 : StoreBenchmark.cpuMillis(server.pid());
            long[] ticksBefore = ScalingBenchmark.machineTicks();
            if (processLimit != null) {
                postfix.setProcessLimit("ingest", processLimit);
            }
            Predicate<String> delivered = line -> line.contains("to=<" + RECIPIENT + ">") && line.contains("status=sent");
            long started = System.nanoTime();
            Command.Result injected = postfix.smtpSource(RECIPIENT, mails, 4096);
            if (injected.exitCode() != 0) {
                throw new IllegalStateException("smtp-source failed:\n" + injected);
            }
            if (!postfix.awaitLogLines(delivered, mails, Duration.ofMinutes(30))) {
                throw new IllegalStateException(name + ": not every mail was delivered\n" + postfix.diagnostics());
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("%s: %d mails in %.1f s%n", name, mails, seconds);
            long[] ticksAfter = ScalingBenchmark.machineTicks();
            long all = ticksAfter[0] - ticksBefore[0];
            double busy = 1 - (double) (ticksAfter[1] - ticksBefore[1] + ticksAfter[2] - ticksBefore[2]) / all;
            return new Figure(name, mails, seconds, server == null ? -1 : StoreBenchmark.cpuMillis(server.pid()) - cpuBefore, busy);
        }
    }
}
