package org.mailstream.benchmarks;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.awaitility.Awaitility;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.testsupport.Dovecot;
import org.mailstream.testsupport.ImapdProcess;
import org.mailstream.testsupport.MailPublisher;
import org.mailstream.testsupport.Mbsync;
import org.mailstream.testsupport.Slapd;
import org.mailstream.testsupport.StoreWorkerProcess;

/**
 * ImapBenchmark: the real bin/imapd over mail the real worker stored in a real slapd, beside
 * Debian's Dovecot serving the same mails from a Maildir, on this machine, with figures rather
 * than a verdict: mbsync's full pull and its resync with nothing new, STORE +FLAGS (\Seen) on
 * every message, and the time from publishing a mail to EXISTS in an IDLE session (imapd only:
 * Dovecot is not fed from the topic).
 *
 * <p>Usage: {@code ImapBenchmark MAILS}; needs bin/install, mbsync, python3 and dovecot.
 */
public final class ImapBenchmark {

    private static final String TOPIC = "bench-imap";
    private static final int IDLE_MAILS = 20;

    private ImapBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[0]);
        Random random = new Random(42);
        List<byte[]> mails = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            mails.add(MailCorpus.ofSize(2_048 + random.nextInt(28 * 1024), i));
        }
        try (KafkaCluster kafka = KafkaCluster.start(1); Slapd slapd = Slapd.start();
                Dovecot dovecot = Dovecot.start(Map.of("alice", "alice-secret"))) {
            kafka.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
            kafka.createTopic(TOPIC + ".dlq", 1, 1, Map.of());
            slapd.addMailbox("alice");
            try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), TOPIC);
                    StoreWorkerProcess worker = StoreWorkerProcess.start(StoreWorkerProcess.config(kafka, TOPIC, slapd, Map.of()));
                    ImapdProcess imapd = ImapdProcess.start(slapd, Map.of())) {
                publisher.publish(mails.stream().map(mail -> Map.entry("alice@example.com", mail)).toList());
                Awaitility.await("stored").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> slapd.messages("1.1").size() == count);
                dovecot.deliver("alice", mails);
                System.out.printf("%d mails of 2-30 KB (%.1f MB), one mailbox%n", count,
                        mails.stream().mapToLong(m -> m.length).sum() / 1e6);
                System.out.printf("%-40s %12s %12s %8s%n", "", "imapd", "Dovecot", "ratio");
                // The first look gives imapd's UIDs and builds Dovecot's index: both are part of a first pull.
                Mbsync fromImapd = Mbsync.of(imapd.port(), "alice", "alice-secret");
                Mbsync fromDovecot = Mbsync.of(dovecot.port(), "alice", "alice-secret");
                row("mbsync full pull (s)", seconds(fromImapd), seconds(fromDovecot));
                row("mbsync resync, nothing new (s)", seconds(fromImapd), seconds(fromDovecot));
                row("UID STORE 1:* +FLAGS (\\Seen) (s)", flagAll(imapd.port()), flagAll(dovecot.port()));
                List<Long> delays = idleDelays(imapd.port(), publisher);
                Collections.sort(delays);
                System.out.printf("publish to EXISTS in IDLE, imapd, %d mails: p50 %d ms, p95 %d ms, max %d ms%n", delays.size(),
                        delays.get(delays.size() / 2), delays.get((int) Math.ceil(delays.size() * 0.95) - 1), delays.get(delays.size() - 1));
            }
        }
    }

    private static void row(String what, double ours, double theirs) {
        System.out.printf("%-40s %12.2f %12.2f %7.2fx%n", what, ours, theirs, ours / theirs);
    }

    /** Seconds {@code mbsync}'s pull takes. */
    private static double seconds(Mbsync mbsync) {
        Command.Result run = mbsync.pull();
        if (run.exitCode() != 0) {
            throw new IllegalStateException(run.toString());
        }
        return run.elapsed().toMillis() / 1000.0;
    }

    /** Seconds one UID STORE of \Seen on every message takes, from log in to its answer. */
    private static double flagAll(int port) {
        return python("""
                box = imaplib.IMAP4('127.0.0.1', %d)
                box.login('alice', 'alice-secret')
                box.select('INBOX')
                start = time.time()
                typ, data = box.uid('STORE', '1:*', '+FLAGS.SILENT', '(\\\\Seen)')
                assert typ == 'OK', data
                print(time.time() - start)
                """.formatted(port));
    }

    /** Milliseconds from each of {@link #IDLE_MAILS} mails' publishing to its EXISTS in an IDLE session. */
    private static List<Long> idleDelays(int port, MailPublisher publisher) throws Exception {
        Path seen = Files.createTempFile("bench-imap-idle", ".txt");
        Command idler = Command.of(List.of("python3", "-c", """
                import imaplib, time, sys
                box = imaplib.IMAP4('127.0.0.1', %d)
                box.login('alice', 'alice-secret')
                box.select('INBOX')
                box.send(b'i IDLE\\r\\n')
                box.readline()
                out = open('%s', 'w')
                for _ in range(%d):
                    while b'EXISTS' not in box.readline():
                        pass
                    out.write('%%f\\n' %% time.time())
                    out.flush()
                """.formatted(port, seen, IDLE_MAILS)));
        Thread idling = new Thread(() -> idler.run(new byte[0], Duration.ofMinutes(5)));
        idling.start();
        Thread.sleep(3_000);
        List<Long> published = new ArrayList<>();
        for (int i = 0; i < IDLE_MAILS; i++) {
            publisher.publish(List.of(Map.entry("alice@example.com", MailCorpus.message("idle " + i, "new\r\n"))));
            published.add(System.currentTimeMillis());
            Thread.sleep(2_000);
        }
        idling.join(Duration.ofMinutes(2).toMillis());
        List<String> times = Files.readAllLines(seen, StandardCharsets.UTF_8);
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < Math.min(times.size(), published.size()); i++) {
            delays.add((long) (Double.parseDouble(times.get(i)) * 1000) - published.get(i));
        }
        return delays;
    }

    private static double python(String program) {
        Command.Result run = Command.of(List.of("python3", "-")).run(("import imaplib, time\n" + program)
                .getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(10));
        if (run.exitCode() != 0) {
            throw new IllegalStateException(run.toString());
        }
        return Double.parseDouble(run.stdout().strip());
    }
}
