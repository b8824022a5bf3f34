package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.Postfix;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TopicReader;
import org.mailstream.schemas.MessageIdentity;

/**
 * The whole path with real components: SMTP into a private Postfix configured from the shipped
 * example lines, its ingest transport (pipe(8), unprivileged user, bare environment) running the
 * installed ingest-cli, a Kafka broker of this class's own (one test stops it), bin/store-worker,
 * and slapd with the shipped access rules, which Postfix's ldap: table also asks.
 */
class PostfixEndToEndIT {

    private static final Pattern QUEUE_ID = Pattern.compile("postfix/pipe\\[\\d+\\]: ([0-9A-F]+): to=<([^>]+)>");
    /** Mails the volume test sends, a tenth to each of ten mailboxes: one ingest-cli JVM a mail, so this is the test's time. */
    private static final int MAILS = 100;
    private static KafkaCluster kafka;
    private static Backend backend;
    private static Postfix postfix;
    private static StoreWorkerProcess worker;
    private static Map<String, String> ingestSettings;

    @BeforeAll
    static void startThePipeline() {
        kafka = KafkaCluster.start(1);
        backend = new Backend(kafka, "postfix", 4);
        backend.addMailboxes(IntStream.range(0, 10).mapToObj(i -> "box" + i).toArray(String[]::new));
        backend.addMailboxes("carol", "dora", "erin", "fred", "gina", "hank");
        ingestSettings = Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", backend.topic, "deadline.ms", "8000");
        postfix = Postfix.start(backend.slapd, ingestSettings);
        worker = StoreWorkerProcess.start(backend.workerConfig());
    }

    @AfterAll
    static void stopThePipeline() {
        worker.close();
        postfix.close();
        backend.close();
        kafka.close();
    }

    @Test
    void aHundredMailsFromSmtpSourceAreSentThroughTheIngestTransportAndStoredOnceEach() {
        for (int i = 0; i < 10; i++) {
            Command.Result sent = postfix.smtpSource("box" + i + "@example.com", MAILS / 10, 4096);
            assertEquals(0, sent.exitCode(), sent::toString);
        }
        Predicate<String> sentToABox = line -> line.contains("relay=ingest") && line.contains("status=sent") && line.contains("to=<box");
        assertTrue(postfix.awaitLogLines(sentToABox, MAILS, Duration.ofMinutes(8)), postfix::diagnostics);
        List<SearchResultEntry> stored = awaitStored(MAILS, "box");

        Map<String, String> sentQueueIds = postfix.logLines(sentToABox).stream().map(QUEUE_ID::matcher).filter(Matcher::find)
                .collect(Collectors.toMap(m -> m.group(1), m -> m.group(2)));
        assertEquals(MAILS, sentQueueIds.size(), "a queue id per delivery");
        Map<String, String> storedQueueIds = stored.stream().collect(Collectors.toMap(e -> e.getAttributeValue("mailStoreQueueId"),
                e -> e.getAttributeValue("mailStoreRecipient")));
        assertEquals(sentQueueIds, storedQueueIds, "each delivery stored once, for its recipient");

        Set<String> published = TopicReader.read(kafka.bootstrapServers(), backend.topic, MAILS, Duration.ofSeconds(30)).stream()
                .filter(r -> new String(r.key(), StandardCharsets.UTF_8).startsWith("box"))
                .map(r -> MessageIdentity.of(r.value())).collect(Collectors.toSet());
        for (SearchResultEntry entry : stored) {
            byte[] raw = entry.getAttributeValueBytes("mailStoreRaw");
            String recipient = entry.getAttributeValue("mailStoreRecipient");
            assertTrue(published.contains(MessageIdentity.of(raw)), "stored bytes are the published bytes");
            String head = new String(raw, 0, 200, StandardCharsets.US_ASCII);
            assertTrue(head.startsWith("Return-Path: <source@example.com>\nDelivered-To: " + recipient + "\nReceived: from "), head);
            assertEquals(recipient, entry.getAttributeValue("mailStoreOriginalRecipient"));
            assertEquals("127.0.0.1", entry.getAttributeValue("mailStoreClientAddress"));
        }
    }

    @Test
    void anUnknownRecipientIsRefusedAtRcptTimeWith550() {
        Command.Result dialogue = postfix.tryRecipient("nobody-here@example.com");
        assertTrue(dialogue.stdout().contains("<** 550 5.1.1 <nobody-here@example.com>: Recipient address rejected"), dialogue::toString);
    }

    @Test
    void withTheDirectoryDownPostfixAnswersRcptWith4xxNever5xx() {
        backend.slapd.stop();
        try {
            Command.Result unknown = postfix.tryRecipient("nobody-here@example.com");
            Command.Result known = postfix.tryRecipient("box0@example.com");
            for (Command.Result dialogue : List.of(unknown, known)) {
                assertTrue(dialogue.stdout().contains("<** 451 4.3.0"), dialogue::toString);
                assertFalse(dialogue.stdout().contains("<** 5"), dialogue::toString);
            }
        } finally {
            backend.slapd.restart();
        }
    }

    @Test
    void withTheBrokerStoppedMailIsDeferredAndOnceItIsBackEveryMailIsDeliveredAndStoredOnce() {
        kafka.stop(1);
        try {
            Command.Result sent = postfix.smtpSource("dora@example.com", 20, 2048);
            assertEquals(0, sent.exitCode(), sent::toString);
            Predicate<String> deferred = line -> line.contains("to=<dora@example.com>") && line.contains("dsn=4.4.1")
                    && line.contains("status=deferred (kafka unavailable");
            assertTrue(postfix.awaitLogLines(deferred, 20, Duration.ofMinutes(3)), postfix::diagnostics);
            assertTrue(awaitQueueShowing(20, "dora@example.com", "(kafka unavailable"), postfix::diagnostics);
        } finally {
            kafka.restart(1);
        }
        postfix.flush();
        Predicate<String> delivered = line -> line.contains("to=<dora@example.com>") && line.contains("status=sent");
        assertTrue(postfix.awaitLogLines(delivered, 20, Duration.ofMinutes(3)), postfix::diagnostics);
        assertTrue(postfix.logLines(line -> line.contains("to=<dora@example.com>") && line.contains("status=bounced")).isEmpty(),
                postfix::diagnostics);
        assertEquals(20, awaitStored(20, "dora").stream().map(e -> e.getAttributeValue("mailStoreQueueId")).distinct().count());
    }

    @Test
    void ingestCliKilledInTheMiddleOfASendIsRetriedByPostfixAndTheMailIsStoredOnce() {
        // A silent broker holds the delivery inside its send for up to deadline.ms (8 s): time to kill it there.
        kafka.pause(1);
        try {
            Command.Result sent = postfix.send("sender@example.org", "hank@example.com", MailCorpus.message("killed", "x\r\n"));
            assertEquals(0, sent.exitCode(), sent::toString);
            String pid = Awaitility.await("ingest-cli sending").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> Command.of(List.of("pgrep", "-f", "org.mailstream.ingest.IngestCli")).run(new byte[0],
                            Duration.ofSeconds(10)).stdout().strip(), pids -> !pids.isEmpty() && !pids.contains("\n"));
            Command.Result killed = Command.of(List.of("kill", "-KILL", pid)).run(new byte[0], Duration.ofSeconds(10));
            assertEquals(0, killed.exitCode(), killed::toString);
            assertTrue(postfix.awaitLogLines(line -> line.contains("to=<hank@example.com>") && line.contains("status=deferred")
                    && line.contains("died with signal 9"), 1, Duration.ofMinutes(1)), postfix::diagnostics);
        } finally {
            kafka.resume(1);
        }
        postfix.flush();
        assertTrue(postfix.awaitLogLines(line -> line.contains("to=<hank@example.com>") && line.contains("status=sent"), 1,
                Duration.ofMinutes(2)), postfix::diagnostics);
        awaitStored(1, "hank");
        assertEquals(List.of(), postfix.logLines(line -> line.contains("to=<hank@example.com>") && line.contains("status=bounced")));
    }

    @Test
    void aHeaderSectionPostfixRepairsIsDeliveredAndStoredNotBounced() {
        byte[] broken = " leading: white space\r\nX-Na\u00efve: 8-bit name\r\nSubject: repaired\r\n\r\nbody\r\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        Command.Result sent = postfix.send("carol@example.com", "erin@example.com", broken);
        assertEquals(0, sent.exitCode(), sent::toString);
        SearchResultEntry stored = awaitStored(1, "erin").get(0);
        String raw = new String(stored.getAttributeValueBytes("mailStoreRaw"), StandardCharsets.ISO_8859_1);
        assertTrue(raw.contains("\n\n leading: white space\n"), "cleanup(8) ended the header section before the broken line:\n" + raw);
        assertTrue(postfix.awaitEmptyQueue(Duration.ofSeconds(30)), postfix::diagnostics);
    }

    @Test
    void aMailOverPostfixsSizeLimitIsRefusedInTheSmtpDialogue() {
        Command.Result sent = postfix.send("carol@example.com", "gina@example.com", MailCorpus.ofSize(10_300_000, 1));
        assertTrue(sent.stdout().contains("<** 552 5.3.4 "), sent::toString);
        assertTrue(postfix.logLines(line -> line.contains("to=<gina@example.com>")).isEmpty(), postfix::diagnostics);
    }

    @Test
    void aMailOverIngestClisOwnLimitBouncesToItsSenderWith523AndNothingStaysDeferred() {
        Map<String, String> smallerLimit = new HashMap<>(ingestSettings);
        smallerLimit.put("max.message.bytes", "1000000");
        postfix.writeIngestConfig(smallerLimit);
        try {
            Command.Result sent = postfix.send("carol@example.com", "fred@example.com", MailCorpus.ofSize(2_000_000, 2));
            assertEquals(0, sent.exitCode(), sent::toString);
            assertTrue(postfix.awaitLogLines(line -> line.contains("to=<fred@example.com>") && line.contains("dsn=5.2.3")
                    && line.contains("status=bounced"), 1, Duration.ofSeconds(60)), postfix::diagnostics);
        } finally {
            postfix.writeIngestConfig(ingestSettings);
        }
        String bounce = new String(awaitStored(1, "carol").get(0).getAttributeValueBytes("mailStoreRaw"), StandardCharsets.UTF_8);
        assertTrue(bounce.contains("Status: 5.2.3") && bounce.contains("message too large: message exceeds the limit"), bounce);
        assertTrue(postfix.awaitEmptyQueue(Duration.ofSeconds(30)), postfix::diagnostics);
    }

    /**
     * Waits until the queue holds {@code count} mails for {@code recipient}, each deferred one
     * with {@code reason} in its note; those being retried at that moment are shown without one.
     */
    private static boolean awaitQueueShowing(int count, String recipient, String reason) {
        try {
            Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> {
                List<String> queue = postfix.queue().lines().toList();
                List<String> reasons = queue.stream().filter(line -> line.trim().startsWith("(")).toList();
                return queue.stream().filter(line -> line.trim().equals(recipient)).count() == count && !reasons.isEmpty()
                        && reasons.stream().allMatch(line -> line.contains(reason));
            });
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** Waits for {@code count} messages stored below mailboxes whose uid starts with {@code owner}, and returns them. */
    private static List<SearchResultEntry> awaitStored(int count, String owner) {
        Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertEquals(count, storedFor(owner).size(), () -> worker.log() + postfix.diagnostics()));
        return storedFor(owner);
    }

    private static List<SearchResultEntry> storedFor(String owner) {
        return backend.messages().stream().filter(e -> e.getDN().matches("(?i).*,uid=" + owner + "[0-9]*,ou=people,dc=example,dc=com"))
                .toList();
    }
}
