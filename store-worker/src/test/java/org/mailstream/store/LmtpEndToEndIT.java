package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.Postfix;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TopicReader;
import org.mailstream.schemas.MessageIdentity;

/**
 * The throughput path with real components: SMTP into a private Postfix configured from the
 * shipped main-lmtp.cf, its lmtp(8) client over cached connections to the real bin/ingest-lmtpd
 * on a unix socket, a Kafka broker of this class's own (one test stops it), bin/store-worker, and
 * slapd with the shipped access rules.
 */
class LmtpEndToEndIT {

    private static final Pattern SENT = Pattern.compile("postfix/lmtp\\[\\d+\\]: ([0-9A-F]+): to=<([^>]+)>.*status=sent");
    private static KafkaCluster kafka;
    private static Backend backend;
    private static LmtpdProcess lmtpd;
    private static Postfix postfix;
    private static StoreWorkerProcess worker;

    @BeforeAll
    static void startThePipeline() throws IOException {
        kafka = KafkaCluster.start(1);
        backend = new Backend(kafka, "lmtp-e2e", 8);
        // smtp-source -r N sends to box@, 2box@, 3box@, ... Nbox@.
        backend.addMailboxes("box");
        backend.addMailboxes(IntStream.rangeClosed(2, 100).mapToObj(i -> i + "box").toArray(String[]::new));
        backend.addMailboxes("dora", "kim");
        Path socket = Postfix.lmtpSocketPath();
        lmtpd = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", backend.topic,
                "deadline.ms", "8000", "lmtp.listen", "unix:" + socket, "lmtp.socket.group", "postfix"));
        postfix = Postfix.startLmtp(backend.slapd, socket);
        worker = StoreWorkerProcess.start(backend.workerConfig());
    }

    @AfterAll
    static void stopThePipeline() {
        worker.close();
        postfix.close();
        lmtpd.close();
        backend.close();
        kafka.close();
    }

    @Test
    void tenThousandDeliveriesFromSmtpSourceGoThroughTheShippedLmtpTransportAndAreStoredOnceEach() {
        // 100 messages of 4 KB, each to 100 mailboxes: Postfix splits each into LMTP transactions of 50 recipients.
        Command.Result sent = Command.of(Command.argv("/usr/sbin/smtp-source", "-s", 20, "-m", 100, "-r", 100, "-l", 4096,
                "-f", "source@example.com", "-t", "box@example.com", postfix.smtpAddress())).run(new byte[0], Duration.ofMinutes(5));
        assertEquals(0, sent.exitCode(), sent::toString);
        Predicate<String> sentToABox = line -> SENT.matcher(line).find() && line.contains("box@example.com");
        assertTrue(postfix.awaitLogLines(sentToABox, 10_000, Duration.ofMinutes(5)), () -> postfix.diagnostics() + lmtpd.log());
        Awaitility.await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> storedForBoxes().size() >= 10_000);

        Map<String, Long> deliveriesPerQueueId = postfix.logLines(sentToABox).stream().map(SENT::matcher).filter(Matcher::find)
                .collect(Collectors.groupingBy(m -> m.group(1), Collectors.counting()));
        assertEquals(100, deliveriesPerQueueId.size(), "one queue id per message");
        assertTrue(deliveriesPerQueueId.values().stream().allMatch(count -> count == 100), "each to its 100 recipients");

        Set<String> published = TopicReader.read(kafka.bootstrapServers(), backend.topic, 10_000, Duration.ofSeconds(60)).stream()
                .map(r -> MessageIdentity.of(r.value()) + " " + new String(r.key(), StandardCharsets.UTF_8)).collect(Collectors.toSet());
        List<SearchResultEntry> stored = storedForBoxes();
        assertEquals(10_000, stored.size());
        for (SearchResultEntry entry : stored) {
            String recipient = entry.getAttributeValue("mailStoreRecipient");
            assertTrue(published.contains(MessageIdentity.of(entry.getAttributeValueBytes("mailStoreRaw")) + " " + recipient),
                    "stored bytes are the published bytes, for " + recipient);
            assertTrue(deliveriesPerQueueId.containsKey(entry.getAttributeValue("mailStoreQueueId")), "queue id from XFORWARD");
            assertEquals("source@example.com", entry.getAttributeValue("mailStoreSender"));
            assertEquals(recipient, entry.getAttributeValue("mailStoreOriginalRecipient"), "original recipient from ORCPT");
            assertEquals("127.0.0.1", entry.getAttributeValue("mailStoreClientAddress"), "client address from XFORWARD");
        }
    }

    @Test
    void withTheBrokerStoppedEveryMailIsDeferredNoneBouncedAndOnceItReturnsEachIsStoredOnce() {
        kafka.stop(1);
        try {
            Command.Result sent = postfix.smtpSource("dora@example.com", 20, 2048);
            assertEquals(0, sent.exitCode(), sent::toString);
            assertTrue(postfix.awaitLogLines(line -> line.contains("to=<dora@example.com>") && line.contains("status=deferred")
                    && line.contains("451 4.4.1 kafka unavailable"), 20, Duration.ofMinutes(3)), postfix::diagnostics);
        } finally {
            kafka.restart(1);
        }
        postfix.flush();
        Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertEquals(20, storedFor("dora").size(), () -> postfix.diagnostics() + worker.log()));
        assertEquals(20, storedFor("dora").stream().map(e -> e.getAttributeValue("mailStoreQueueId")).distinct().count(), "once each");
        assertTrue(postfix.logLines(line -> line.contains("to=<dora@example.com>") && line.contains("status=bounced")).isEmpty(),
                postfix::diagnostics);
    }

    @Test
    void ingestLmtpdKilledAndStoppedInTheMiddleOfARunLosesNothingDoublesNothingAndLeavesNoTransactionUnanswered() throws Exception {
        Thread source = new Thread(() -> postfix.smtpSource("kim@example.com", 5_000, 2048));
        source.start();
        Predicate<String> sentToKim = line -> line.contains("to=<kim@example.com>") && line.contains("status=sent");
        Awaitility.await().atMost(Duration.ofMinutes(2)).until(() -> postfix.logLines(sentToKim).size() >= 600);
        lmtpd.kill();
        lmtpd.restart();
        Awaitility.await().atMost(Duration.ofMinutes(2)).until(() -> postfix.logLines(sentToKim).size() >= 2_400);
        // The kill -9 left transactions without their replies; the SIGTERM that follows may leave none.
        Predicate<String> replyMissing = line -> line.contains("while sending end of data");
        int missingAfterTheKill = postfix.logLines(replyMissing).size();
        assertEquals(0, lmtpd.stop(), lmtpd.log());
        lmtpd.restart();
        source.join();
        postfix.flush();
        assertTrue(postfix.awaitLogLines(sentToKim, 5_000, Duration.ofMinutes(5)), postfix::diagnostics);
        Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertEquals(5_000, storedFor("kim").size(), worker::log));
        assertEquals(missingAfterTheKill, postfix.logLines(replyMissing).size(), postfix::diagnostics);
        assertEquals(List.of(), postfix.logLines(line -> line.contains("to=<kim@example.com>") && line.contains("status=bounced")));
    }

    @Test
    void ingestLmtpdKilledAfterTheEndOfDataBeforeItsReplyIsRetriedByPostfixAndTheMailIsStoredOnce() throws InterruptedException {
        // A silent broker holds the transaction between the end of DATA and the reply for up to deadline.ms (8 s).
        kafka.pause(1);
        try {
            Command.Result sent = postfix.send("sender@example.org", "dora@example.com", MailCorpus.message("killed", "x\r\n"));
            assertEquals(0, sent.exitCode(), sent::toString);
            // Active in the queue: lmtp(8) is delivering it; the message itself crosses the socket in milliseconds.
            Awaitility.await("the message being delivered").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> Pattern.compile("(?m)^[0-9A-F]+\\*").matcher(postfix.queue()).find());
            Thread.sleep(1_500);
            lmtpd.kill();
            assertTrue(postfix.awaitLogLines(line -> line.contains("to=<dora@example.com>") && line.contains("status=deferred")
                    && line.contains("while sending end of data"), 1, Duration.ofMinutes(1)), postfix::diagnostics);
        } finally {
            kafka.resume(1);
        }
        lmtpd.restart();
        postfix.flush();
        assertTrue(postfix.awaitLogLines(line -> line.contains("to=<dora@example.com>") && line.contains("status=sent"), 1,
                Duration.ofMinutes(2)), postfix::diagnostics);
        Awaitility.await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> storedFor("dora").stream().anyMatch(e -> "killed".equals(e.getAttributeValue("mailStoreSubject"))));
        assertEquals(1, storedFor("dora").stream().filter(e -> "killed".equals(e.getAttributeValue("mailStoreSubject"))).count());
        assertEquals(List.of(), postfix.logLines(line -> line.contains("to=<dora@example.com>") && line.contains("status=bounced")));
    }

    private static List<SearchResultEntry> storedForBoxes() {
        return backend.messages().stream().filter(e -> e.getAttributeValue("mailStoreRecipient").endsWith("box@example.com")).toList();
    }

    private static List<SearchResultEntry> storedFor(String owner) {
        return backend.messages().stream().filter(e -> e.getDN().endsWith(",uid=" + owner + ",ou=people,dc=example,dc=com")).toList();
    }
}
