package org.mailstream.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.mailstream.local.Command;
import org.mailstream.local.Dovecot;
import org.mailstream.local.FreePort;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Mbsync;
import org.mailstream.local.MetricsScrape;
import org.mailstream.local.ProcessCpu;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TempFiles;

/**
 * ImapBenchmark: the real bin/imapd over mail the real worker stored in a real slapd, beside
 * Debian's Dovecot serving the same mails from a Maildir, on this machine, with figures rather
 * than a verdict: mbsync's first pull (imapd gives the UIDs then), a pull into an empty Maildir
 * once they are given, the same after three more (as a server that has run a while: imapd's JIT
 * has compiled what a pull runs; the median of {@value #WARM_PULLS}, alternating), its resync
 * with nothing new (at once, and after 11 s with no change), every message read as mbsync reads
 * it but written nowhere (the server's share of a pull), with the CPU each side's servers spent
 * on the pulls and those reads (imapd's with slapd's), the header fields of every message as a
 * mail client opening the folder asks for them, STORE +FLAGS (\Seen) on every message, and the
 * time from one session's STORE to the FETCH another session idling on the folder gets for it;
 * then, imapd alone (Dovecot is not fed from the topic): the time from publishing a mail to
 * EXISTS in an IDLE session, the heap a session idling on that folder adds beyond the folder's
 * view (which imapd keeps when it leaves) and each of {@value #IDLERS} sessions idling on small
 * ones, the CPU they cost slapd and imapd while no mail comes, and the worker's rate while they idle, beside its rate without them, {@value #ROUNDS}
 * times each in turn after a round of each not counted (the rate alone varied by a third between
 * two runs here), with what each round cost the worker, slapd and imapd a mail.
 *
 * <p>Usage: {@code ImapBenchmark MAILS}; needs bin/install, mbsync, python3 and dovecot.
 */
public final class ImapBenchmark {

    private static final String TOPIC = "bench-imap";
    private static final int IDLE_MAILS = 20;
    private static final int LARGE_MAILS = 100;
    private static final int LARGE_MAIL_BYTES = 1_000_000;
    /** What mutt asks when it opens a folder: each message's flags, size and the header fields a message list shows. */
    private static final String LIST_ITEMS = "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)])";
    private static final int IDLERS = 100;
    private static final int BATCH = 5_000;
    private static final int ROUNDS = 5;
    private static final int WARM_PULLS = 5;
    private static final Duration QUIET = Duration.ofSeconds(30);
    private static final int WORKER_METRICS = FreePort.next();

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
                Dovecot dovecot = Dovecot.start(Map.of("alice", "alice-secret", "bert", "bert-secret"))) {
            kafka.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
            kafka.createTopic(TOPIC + ".dlq", 1, 1, Map.of());
            slapd.addMailbox("alice");
            slapd.addMailbox("bert");
            try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), TOPIC);
                    StoreWorkerProcess worker = StoreWorkerProcess.start(StoreWorkerProcess.config(kafka, TOPIC, slapd,
                            Map.of("metrics.listen", "127.0.0.1:" + WORKER_METRICS)));
                    ImapdProcess imapd = ImapdProcess.start(slapd, Map.of("imap.max.connections", "1000"))) {
                publisher.publish(mails.stream().map(mail -> Map.entry("alice@example.com", mail)).toList());
                Awaitility.await("stored").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> slapd.messages("1.1").size() == count);
                dovecot.deliver("alice", mails);
                System.out.printf("%d mails of 2-30 KB (%.1f MB), one mailbox%n", count,
                        mails.stream().mapToLong(m -> m.length).sum() / 1e6);
                System.out.printf("%-40s %12s %12s %8s   %s%n", "", "imapd", "Dovecot", "ratio", "CPU s, imapd and slapd / Dovecot");
                // The first look gives imapd's UIDs and builds Dovecot's index: both are part of a first pull.
                Mbsync fromImapd = Mbsync.of(imapd.port(), "alice", "alice-secret");
                Mbsync fromDovecot = Mbsync.of(dovecot.port(), "alice", "alice-secret");
                long[] ours = {imapd.pid(), slapd.pid()};
                row("mbsync first pull, UIDs given (s)", run(() -> seconds(fromImapd), ours), run(() -> seconds(fromDovecot), dovecot.pid()));
                row("mbsync pull into an empty Maildir (s)", run(() -> seconds(Mbsync.of(imapd.port(), "alice", "alice-secret")), ours),
                        run(() -> seconds(Mbsync.of(dovecot.port(), "alice", "alice-secret")), dovecot.pid()));
                // As a server that has run a while: imapd's JIT compiles what a pull runs over the first few (Dovecot is C).
                for (int warmUp = 0; warmUp < 3; warmUp++) {
                    seconds(Mbsync.of(imapd.port(), "alice", "alice-secret"));
                    seconds(Mbsync.of(dovecot.port(), "alice", "alice-secret"));
                }
                // A pull's time is mostly mbsync syncing its Maildir, which varies from one pull to the next on either side.
                List<Run> warmImapd = new ArrayList<>();
                List<Run> warmDovecot = new ArrayList<>();
                for (int pull = 0; pull < WARM_PULLS; pull++) {
                    warmImapd.add(run(() -> seconds(Mbsync.of(imapd.port(), "alice", "alice-secret")), ours));
                    warmDovecot.add(run(() -> seconds(Mbsync.of(dovecot.port(), "alice", "alice-secret")), dovecot.pid()));
                }
                row("after three more, median of " + WARM_PULLS + " each (s)", Ranks.median(warmImapd, Comparator.comparingDouble(Run::seconds)),
                        Ranks.median(warmDovecot, Comparator.comparingDouble(Run::seconds)));
                // mbsync's first resync rewrites its own state (a second on either server): not what a resync costs.
                seconds(fromImapd);
                seconds(fromDovecot);
                row("mbsync resync, nothing new (s), median of 3", medianSeconds(fromImapd), medianSeconds(fromDovecot));
                // As mbsync from cron or a mail client's check finds a folder: nothing changed for a while, here for
                // longer than the margin within which imapd reads changes again (10 s).
                Thread.sleep(11_000);
                row("mbsync resync, nothing new for 11 s (s)", medianSeconds(fromImapd), medianSeconds(fromDovecot));
                row("each message, 34 FETCH in flight (s)", run(() -> pipelinedFetches(imapd.port()), ours),
                        run(() -> pipelinedFetches(dovecot.port()), dovecot.pid()));
                row("UID FETCH 1:* list headers (s)", listHeaders(imapd.port(), "alice", LIST_ITEMS), listHeaders(dovecot.port(), "alice", LIST_ITEMS));
                row("UID SEARCH FROM, a sender in none (s)", searchFrom(imapd.port()), searchFrom(dovecot.port()));
                largeMails(slapd, dovecot, imapd, publisher, count);
                row("UID STORE 1:* +FLAGS (\\Seen) (s)", flagAll(imapd.port()), flagAll(dovecot.port()));
                List<Long> ourChanges = flagChangeDelays(imapd.port());
                List<Long> theirChanges = flagChangeDelays(dovecot.port());
                System.out.printf("another session's STORE to FETCH in IDLE, %d changes: imapd p50 %d ms, p95 %d ms; Dovecot p50 %d ms,"
                        + " p95 %d ms%n", ourChanges.size(), Ranks.percentile(ourChanges, 50), Ranks.percentile(ourChanges, 95),
                        Ranks.percentile(theirChanges, 50), Ranks.percentile(theirChanges, 95));
                List<Long> delays = idleDelays(imapd.port(), publisher);
                System.out.printf("publish to EXISTS in IDLE, imapd, %d mails: p50 %d ms, p95 %d ms, max %d ms%n", delays.size(),
                        Ranks.percentile(delays, 50), Ranks.percentile(delays, 95), Ranks.percentile(delays, 100));
                idleSessions(slapd, imapd, worker, publisher, count + IDLE_MAILS);
            }
        }
    }

    /**
     * {@value #IDLERS} users, each with a session idling on its INBOX: the heap they add to imapd,
     * and the worker's rate on {@value #BATCH} mails for them while they idle (each new mail read,
     * given its UID and announced by its owner's session) beside its rate with no session open;
     * and first the heap of one session idling on alice's folder of every mail.
     */
    private static void idleSessions(Slapd slapd, ImapdProcess imapd, StoreWorkerProcess worker, MailPublisher publisher, int mails)
            throws Exception {
        long heapIdling;
        try (Idling alice = Idling.start(imapd.port(), List.of("alice"))) {
            heapIdling = heapAfterGc(imapd.pid());
        }
        System.out.printf("imapd heap a session idling on a folder of %d mails adds beyond the folder's view, which stays kept (jcmd, "
                + "after a full GC, then after it left): %.0f KiB%n",
                mails, (heapIdling - heapAfterSessionsLeft(imapd.pid())) / 1024.0);
        List<String> users = new ArrayList<>();
        for (int i = 0; i < IDLERS; i++) {
            users.add("idler" + i);
            slapd.addMailbox(users.get(i));
        }
        // Their INBOXes made first, so that every round below is the same work.
        Map<String, Long> servers = Map.of("store-worker", worker.pid(), "slapd", slapd.pid(), "imapd", imapd.pid());
        storeFor(publisher, users, IDLERS, 0, servers);
        quietCost(slapd, imapd, users);
        System.out.printf("%-40s %12s %12s %8s   %s%n", "store-worker, " + BATCH + " mails for " + IDLERS + " users", "idling", "no session",
                "ratio", "CPU s per 1,000 mails, idling / no session");
        List<Double> ratios = new ArrayList<>();
        // Round 0 is printed but not counted: as a server that has run a while, the worker's and imapd's JIT have compiled what
        // the rounds run (imapd's idling sessions kept C2 busy for minutes).
        for (int round = 0; round <= ROUNDS; round++) {
            Batch without = storeFor(publisher, users, BATCH, 1 + 2 * round, servers);
            Batch with;
            try (Idling idlers = Idling.start(imapd.port(), users)) {
                heapIdling = heapAfterGc(imapd.pid());
                with = storeFor(publisher, users, BATCH, 2 + 2 * round, servers);
            }
            if (round > 0) {
                ratios.add(with.rate() / without.rate());
            }
            System.out.printf("%-40s %12.0f %12.0f %7.2fx   %s%n", "mails/s, round " + round + (round == 0 ? " (warm-up)" : ""),
                    with.rate(), without.rate(),
                    with.rate() / without.rate(), servers.keySet().stream().sorted()
                            .map(name -> String.format("%s %.2f / %.2f", name, with.cpuPerThousand().get(name), without.cpuPerThousand().get(name)))
                            .collect(Collectors.joining(", ")));
        }
        System.out.printf("%-40s %12s %12s %7.2fx%n", "median of the rounds' ratios", "", "", Ranks.median(ratios));
        System.out.printf("imapd heap %d sessions idling on folders of about %d mails add beyond their folders' views: %.0f KiB a session%n",
                IDLERS, (ROUNDS + 1) * BATCH / IDLERS, (heapIdling - heapAfterSessionsLeft(imapd.pid())) / 1024.0 / IDLERS);
    }

    /** What idling sessions cost while no mail comes: slapd's and imapd's CPU a session-second, each session looking every imap.idle.poll.ms. */
    private static void quietCost(Slapd slapd, ImapdProcess imapd, List<String> users) throws Exception {
        try (Idling idlers = Idling.start(imapd.port(), users)) {
            double slapdBefore = ProcessCpu.seconds(slapd.pid());
            double imapdBefore = ProcessCpu.seconds(imapd.pid());
            Thread.sleep(QUIET.toMillis());
            double sessionSeconds = users.size() * QUIET.toSeconds();
            System.out.printf("%d sessions idling, no mail, %d s: CPU a session-second: slapd %.3f ms, imapd %.3f ms%n", users.size(),
                    QUIET.toSeconds(), (ProcessCpu.seconds(slapd.pid()) - slapdBefore) * 1000 / sessionSeconds,
                    (ProcessCpu.seconds(imapd.pid()) - imapdBefore) * 1000 / sessionSeconds);
        }
    }

    /** Python's imaplib holding one session in IDLE on INBOX for each of some users (password NAME-secret), reading what comes. */
    private static final class Idling implements AutoCloseable {
        private final Path stop;
        private final CompletableFuture<Command.Result> sessions;

        private Idling(Path stop, CompletableFuture<Command.Result> sessions) {
            this.stop = stop;
            this.sessions = sessions;
        }

        /** Returns once every session idles, and 3 s more, so that what they read at first is read. */
        static Idling start(int port, List<String> users) throws Exception {
            Path ready = TempFiles.write("bench-imap-idlers.txt", "");
            Path stop = ready.resolveSibling(ready.getFileName() + ".stop");
            stop.toFile().deleteOnExit();
            Command idlers = Command.of(List.of("python3", "-c", """
                    import imaplib, os, threading, time
                    def idle(user):
                        box = imaplib.IMAP4('127.0.0.1', %d)
                        box.login(user, user + '-secret')
                        box.select('INBOX')
                        box.send(b'i IDLE\\r\\n')
                        box.readline()
                        with lock:
                            ready.append(user)
                            if len(ready) == %d:
                                open('%s', 'w').write('ready\\n')
                        while box.readline():
                            pass
                    lock = threading.Lock()
                    ready = []
                    for user in %s:
                        threading.Thread(target=idle, args=(user,), daemon=True).start()
                    while not os.path.exists('%s'):
                        time.sleep(0.2)
                    """.formatted(port, users.size(), ready, users.stream().map(u -> "'" + u + "'").toList(), stop)));
            CompletableFuture<Command.Result> sessions = CompletableFuture.supplyAsync(() -> idlers.run(new byte[0], Duration.ofMinutes(30)));
            Awaitility.await("sessions idling").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.readString(ready).startsWith("ready") || sessions.isDone());
            if (sessions.isDone()) {
                throw new IllegalStateException("the idling sessions ended: " + sessions.get());
            }
            Thread.sleep(3_000);
            return new Idling(stop, sessions);
        }

        @Override
        public void close() throws Exception {
            Files.writeString(stop, "stop\n");
            sessions.get(1, TimeUnit.MINUTES);
        }
    }

    /** A batch stored: mails a second, and each server's CPU seconds per 1,000 of them. */
    private record Batch(double rate, Map<String, Double> cpuPerThousand) {
    }

    /**
     * The worker storing {@code count} mails of 4 KB for {@code users} in turn, timed as its
     * /metrics counts them, and what it cost {@code servers} (name to pid).
     */
    private static Batch storeFor(MailPublisher publisher, List<String> users, int count, int round, Map<String, Long> servers) throws IOException {
        double stored = storedSoFar();
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            mails.add(Map.entry(users.get(i % users.size()) + "@example.com", MailCorpus.ofSize(4_096, round * 1_000_000 + i)));
        }
        Map<String, Double> cpuBefore = cpu(servers);
        long start = System.nanoTime();
        publisher.publish(mails);
        Awaitility.await("stored").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> storedSoFar() >= stored + count);
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Double> cpuAfter = cpu(servers);
        return new Batch(count / seconds, cpuAfter.keySet().stream()
                .collect(Collectors.toMap(name -> name, name -> (cpuAfter.get(name) - cpuBefore.get(name)) * 1000 / count)));
    }

    /** CPU seconds each of {@code servers} (name to pid) has used so far. */
    private static Map<String, Double> cpu(Map<String, Long> servers) {
        return servers.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, server -> ProcessCpu.seconds(server.getValue())));
    }

    private static double storedSoFar() throws IOException {
        return MetricsScrape.of(WORKER_METRICS).sum("mailstream_records_total", Map.of("outcome", "stored"));
    }

    /** {@link #heapAfterGc} once the server has seen the sessions' connections close. */
    private static long heapAfterSessionsLeft(long pid) throws InterruptedException {
        Thread.sleep(2_000);
        return heapAfterGc(pid);
    }

    /** The heap {@code pid}'s JVM uses after a full collection, in octets (jcmd's GC.heap_info, the serial collector's generations). */
    private static long heapAfterGc(long pid) {
        Command.of(List.of("jcmd", Long.toString(pid), "GC.run")).run(new byte[0], Duration.ofMinutes(1));
        Command.Result info = Command.of(List.of("jcmd", Long.toString(pid), "GC.heap_info")).run(new byte[0], Duration.ofMinutes(1));
        Matcher used = Pattern.compile("generation\\s+total \\d+K, used (\\d+)K").matcher(info.stdout());
        long kib = 0;
        while (used.find()) {
            kib += Long.parseLong(used.group(1));
        }
        if (kib == 0) {
            throw new IllegalStateException(info.toString());
        }
        return kib * 1024;
    }

    private static void row(String what, double ours, double theirs) {
        System.out.printf("%-40s %12.2f %12.2f %7.2fx%n", what, ours, theirs, ours / theirs);
    }

    /** A client's run against one side: its seconds, and the CPU seconds of the servers that answered it (imapd with slapd). */
    private record Run(double seconds, double cpu) {
    }

    /** {@code client}'s run, with the CPU that {@code servers} (pids) spent meanwhile. */
    private static Run run(DoubleSupplier client, long... servers) {
        double before = Arrays.stream(servers).mapToDouble(ProcessCpu::seconds).sum();
        double seconds = client.getAsDouble();
        return new Run(seconds, Arrays.stream(servers).mapToDouble(ProcessCpu::seconds).sum() - before);
    }

    private static void row(String what, Run ours, Run theirs) {
        System.out.printf("%-40s %12.2f %12.2f %7.2fx   %.2f / %.2f%n", what, ours.seconds(), theirs.seconds(), ours.seconds() / theirs.seconds(),
                ours.cpu(), theirs.cpu());
    }

    /** Seconds {@code mbsync}'s pull takes. */
    private static double seconds(Mbsync mbsync) {
        Command.Result run = mbsync.pull();
        if (run.exitCode() != 0) {
            throw new IllegalStateException(run.toString());
        }
        return run.elapsed().toMillis() / 1000.0;
    }

    /** The median of three pulls' seconds. */
    private static double medianSeconds(Mbsync mbsync) {
        return Ranks.median(List.of(seconds(mbsync), seconds(mbsync), seconds(mbsync)));
    }

    /**
     * Seconds a client takes to read every message whole with one UID FETCH each, keeping 34 of
     * them sent ahead of their answers as mbsync does, but writing nothing: the server's share of
     * a pull, without mbsync's own (a Maildir file and its fsync a message).
     */
    private static double pipelinedFetches(int port) {
        return python("""
                import re, socket
                connection = socket.create_connection(('127.0.0.1', %d))
                replies = connection.makefile('rb')
                replies.readline()
                connection.sendall(b'a LOGIN alice alice-secret\\r\\nb EXAMINE INBOX\\r\\nc UID SEARCH ALL\\r\\n')
                uids = []
                while True:
                    line = replies.readline()
                    if line.startswith(b'* SEARCH'):
                        uids = line.split()[2:]
                    if line.startswith(b'c '):
                        break
                start = time.time()
                sent = answered = 0
                while answered < len(uids):
                    while sent < len(uids) and sent - answered < 34:
                        connection.sendall(b'f UID FETCH ' + uids[sent] + b' (BODY.PEEK[])\\r\\n')
                        sent += 1
                    line = replies.readline()
                    literal = re.search(rb'\\{(\\d+)\\}\\r\\n$', line)
                    if literal:
                        replies.read(int(literal.group(1)))
                    elif line.startswith(b'f OK'):
                        answered += 1
                    elif line.startswith(b'f '):
                        raise SystemExit(line)
                print(time.time() - start)
                """.formatted(port));
    }

    /**
     * Listing a folder of {@value #LARGE_MAILS} mails of {@value #LARGE_MAIL_BYTES} octets, mostly
     * attachment, whose header sections imapd reads apart from the messages; and, to show what that
     * saves, imapd listing them with an item that makes it read each message whole, as every
     * listing did before.
     */
    private static void largeMails(Slapd slapd, Dovecot dovecot, ImapdProcess imapd, MailPublisher publisher, int stored) {
        List<byte[]> mails = new ArrayList<>();
        for (int i = 0; i < LARGE_MAILS; i++) {
            mails.add(MailCorpus.withAttachment(LARGE_MAIL_BYTES, i));
        }
        publisher.publish(mails.stream().map(mail -> Map.entry("bert@example.com", mail)).toList());
        Awaitility.await("stored").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1))
                .until(() -> slapd.messages("1.1").size() == stored + LARGE_MAILS);
        dovecot.deliver("bert", mails);
        // The first listing gives imapd's UIDs and builds Dovecot's index and cache: the second is what a client then meets.
        listHeaders(imapd.port(), "bert", LIST_ITEMS);
        listHeaders(dovecot.port(), "bert", LIST_ITEMS);
        row("list headers, " + LARGE_MAILS + " mails of 1 MB (s)", listHeaders(imapd.port(), "bert", LIST_ITEMS),
                listHeaders(dovecot.port(), "bert", LIST_ITEMS));
        String readingWhole = LIST_ITEMS.replace(")])", ")] BODY.PEEK[TEXT]<0.1>)");
        System.out.printf("imapd, the same list reading each message whole, as before headers were kept apart: %.2f s%n",
                listHeaders(imapd.port(), "bert", readingWhole));
    }

    /** Seconds one UID SEARCH of a sender no message has takes: every message's From: field looked at. */
    private static double searchFrom(int port) {
        return timed(port, "alice", true, "box.uid('SEARCH', 'FROM', 'nobody-here')");
    }

    /** Seconds one UID FETCH of {@code items} of every message of {@code user}'s INBOX takes. */
    private static double listHeaders(int port, String user, String items) {
        return timed(port, user, true, "box.uid('FETCH', '1:*', '" + items + "')");
    }

    /** Seconds one UID STORE of \Seen on every message takes. */
    private static double flagAll(int port) {
        return timed(port, "alice", false, "box.uid('STORE', '1:*', '+FLAGS.SILENT', '(\\\\Seen)')");
    }

    /** Seconds one command ({@code call}, written as imaplib's) takes in {@code user}'s INBOX, selected or examined, to its OK. */
    private static double timed(int port, String user, boolean examined, String call) {
        return python("""
                box = imaplib.IMAP4('127.0.0.1', %d)
                box.login('%s', '%s-secret')
                box.select('INBOX', readonly=%s)
                start = time.time()
                typ, data = %s
                assert typ == 'OK', data
                print(time.time() - start)
                """.formatted(port, user, user, examined ? "True" : "False", call));
    }

    /** Milliseconds from each of {@link #IDLE_MAILS} mails' publishing to its EXISTS in an IDLE session. */
    private static List<Long> idleDelays(int port, MailPublisher publisher) throws Exception {
        Path seen = TempFiles.write("bench-imap-idle.txt", "");
        // Each EXISTS with the time it came: two mails can come in one, so the count, not the line, says which mail it announced.
        Command idler = Command.of(List.of("python3", "-c", """
                import imaplib, re, time, sys
                box = imaplib.IMAP4('127.0.0.1', %d)
                box.login('alice', 'alice-secret')
                typ, data = box.select('INBOX')
                first = int(data[0])
                box.send(b'i IDLE\\r\\n')
                box.readline()
                out = open('%s', 'w')
                out.write('%%d\\n' %% first)
                out.flush()
                count = first
                while count < first + %d:
                    exists = re.match(rb'\\* (\\d+) EXISTS', box.readline())
                    if exists:
                        count = int(exists.group(1))
                        out.write('%%d %%f\\n' %% (count, time.time()))
                        out.flush()
                """.formatted(port, seen, IDLE_MAILS)));
        Thread idling = new Thread(() -> idler.run(new byte[0], Duration.ofMinutes(5)));
        idling.start();
        Thread.sleep(3_000);
        List<Long> published = new ArrayList<>();
        // Spaced at random, so that the mails meet IDLE's polls at every point of their interval.
        Random spacing = new Random(7);
        for (int i = 0; i < IDLE_MAILS; i++) {
            publisher.publish(List.of(Map.entry("alice@example.com", MailCorpus.message("idle " + i, "new\r\n"))));
            published.add(System.currentTimeMillis());
            Thread.sleep(1_000 + spacing.nextInt(2_000));
        }
        idling.join(Duration.ofMinutes(2).toMillis());
        List<String> lines = Files.readAllLines(seen, StandardCharsets.UTF_8);
        long first = Long.parseLong(lines.get(0).strip());
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < published.size(); i++) {
            long mail = first + i + 1;
            for (String line : lines.subList(1, lines.size())) {
                String[] countAndTime = line.split(" ");
                if (Long.parseLong(countAndTime[0]) >= mail) {
                    delays.add((long) (Double.parseDouble(countAndTime[1]) * 1000) - published.get(i));
                    break;
                }
            }
        }
        return delays;
    }

    /**
     * Milliseconds from each of {@link #IDLE_MAILS} flag changes one session of alice's makes to
     * the FETCH another, idling on the same folder, gets for it; spaced at random like the mails
     * of {@link #idleDelays}.
     */
    private static List<Long> flagChangeDelays(int port) {
        return Arrays.stream(pythonOutput("""
                import random
                random.seed(7)
                def session():
                    box = imaplib.IMAP4('127.0.0.1', %d)
                    box.login('alice', 'alice-secret')
                    box.select('INBOX')
                    return box
                watcher = session()
                writer = session()
                watcher.send(b'w IDLE\\r\\n')
                watcher.readline()
                watcher.sock.settimeout(60)
                delays = []
                for uid in range(1, %d + 1):
                    time.sleep(1 + random.random() * 2)
                    began = time.time()
                    typ, data = writer.uid('STORE', str(uid), '+FLAGS.SILENT', '(\\\\Flagged)')
                    assert typ == 'OK', data
                    while b'FETCH' not in watcher.readline():
                        pass
                    delays.append(str(round((time.time() - began) * 1000)))
                print(' '.join(delays))
                """.formatted(port, IDLE_MAILS)).strip().split(" ")).map(Long::valueOf).toList();
    }

    private static double python(String program) {
        return Double.parseDouble(pythonOutput(program).strip());
    }

    /** What {@code program} printed, run by python3 with imaplib and time imported. */
    private static String pythonOutput(String program) {
        Command.Result run = Command.of(List.of("python3", "-")).run(("import imaplib, time\n" + program)
                .getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(10));
        if (run.exitCode() != 0) {
            throw new IllegalStateException(run.toString());
        }
        return run.stdout();
    }
}
