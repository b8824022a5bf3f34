package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TopicReader;
import org.mailstream.schemas.MessageIdentity;

/**
 * Two back ends, each two slapd providers in multi-provider syncrepl with the shipped schema and
 * rules, each stored by two bin/store-worker processes of its own group; 100 mailboxes spread
 * over both by the routing rule; mail published as ingest-cli publishes it.
 */
class ReplicatedBackendsIT {

    private static final List<String> BACKENDS = List.of("a", "b");
    private static final int MAILBOXES = 100;
    /**
     * Mails a run publishes: 40 a mailbox, enough that a kill or a change of workers lands in the
     * middle of steady storing; the whole suite must stay within its time on two cores.
     */
    private static final int MAILS = 4_000;
    /** The changes of workers the churn test makes at least, mail published before each. */
    private static final int WAVES = 6;
    private static final BackendRouting ROUTING = BackendRouting.of("a", BACKENDS, List.of(), "");
    /** 50 mails a second, well below what one back end stores, so that a delay shows as latency, not backlog. */
    private static final long STEADY_INTERVAL_MS = 20;
    /** What a delay must exceed to count as added by another back end's outage rather than this machine's noise. */
    private static final long NOISE_MS = 250;

    private final KafkaCluster kafka = KafkaCluster.shared();
    private final Map<String, List<Slapd>> providers = new HashMap<>();
    private final Map<String, List<StoreWorkerProcess>> workers = new HashMap<>();
    private String topic;

    @BeforeEach
    void twoBackEndsOfTwoProvidersWithTheirMailboxes(TestInfo test) {
        topic = "backends-" + test.getTestMethod().orElseThrow().getName().hashCode();
        kafka.createTopic(topic, 8, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of());
        for (String backend : BACKENDS) {
            providers.put(backend, Slapd.startProviders(2));
        }
        for (int i = 0; i < MAILBOXES; i++) {
            providers.get(ROUTING.ownerOf(address(i))).get(0).addMailbox("box" + i);
        }
    }

    @AfterEach
    void stopEverything() {
        workers.values().forEach(group -> group.forEach(StoreWorkerProcess::close));
        providers.values().forEach(group -> group.forEach(Slapd::close));
    }

    @Test
    void everyMailIsStoredOnceInItsOwnersBackEndAndBothProvidersOfEachHoldTheSame() {
        startWorkers(2, Map.of());
        Map<String, Map<String, String>> expected = publish(0, MAILS);
        for (String backend : BACKENDS) {
            Slapd first = providers.get(backend).get(0);
            awaitMessages(first, expected.get(backend).size(), this::logs);
            assertEquals(expected.get(backend), messages(first), "back end " + backend + ": each of its mails, once, below its owner");
            assertProvidersAgree(backend);
        }
    }

    @Test
    void aProviderKilledMidRunLosesAndDoublesNothingAndCatchesUpWhenRestarted() {
        startWorkers(2, Map.of());
        Map<String, Map<String, String>> expected = publish(0, MAILS);
        Slapd victim = providers.get("a").get(0);
        Slapd survivor = providers.get("a").get(1);
        awaitMessages(survivor, expected.get("a").size() / 5, this::logs);
        victim.kill();
        awaitMessages(survivor, expected.get("a").size() / 2, this::logs);
        victim.restart();
        awaitMessages(survivor, expected.get("a").size(), this::logs);
        assertEquals(expected.get("a"), messages(survivor), "nothing lost or doubled on the provider that stayed");
        // A provider killed between two syncprov checkpoints (olcSpCheckpoint) comes back with the
        // contextCSN it last checkpointed for its own server id, older than its last write, which
        // the other provider already holds; its next write moves it on. The operator's next change
        // after such a crash, here a new mailbox, is that write.
        victim.addMailbox("after-restart");
        assertProvidersAgree("a");
        awaitMessages(providers.get("b").get(0), expected.get("b").size(), this::logs);
    }

    @Test
    void aBackEndStoppedForAMinuteDelaysNoOtherBackEndsMailAndCatchesUpWhenItReturns() {
        startWorkers(2, Map.of());
        Map<String, Map<String, String>> expected = new HashMap<>();
        BACKENDS.forEach(b -> expected.put(b, new HashMap<>()));
        Map<String, Long> publishedAt = new HashMap<>();
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            // The first seconds show the workers joining their groups and warming up, not steady flow.
            publishSteadily(publisher, 0, Duration.ofSeconds(10), expected, publishedAt);
            long warmedAt = System.currentTimeMillis();
            publishSteadily(publisher, publishedAt.size(), Duration.ofSeconds(20), expected, publishedAt);
            long stoppedAt = System.currentTimeMillis();
            providers.get("b").forEach(Slapd::stop);
            publishSteadily(publisher, publishedAt.size(), Duration.ofSeconds(60), expected, publishedAt);
            awaitMessages(providers.get("a").get(0), expected.get("a").size(), this::logs);
            Map<String, Long> storedAt = storedAt(providers.get("a").get(0));
            Latency before = Latency.of(expected.get("a").keySet(), publishedAt, storedAt, t -> t >= warmedAt && t < stoppedAt);
            Latency during = Latency.of(expected.get("a").keySet(), publishedAt, storedAt, t -> t >= stoppedAt);
            System.out.printf("back end a, publish to stored: before b stopped %s; while b was down %s%n", before, during);
            providers.get("b").forEach(Slapd::restart);
            assertTrue(during.median() <= before.median() + NOISE_MS && during.p95() <= before.p95() + NOISE_MS,
                    "back end a's mail was delayed while b was down: before " + before + ", during " + during);
        }
        awaitMessages(providers.get("b").get(0), expected.get("b").size(), this::logs);
        for (String backend : BACKENDS) {
            assertEquals(expected.get(backend), messages(providers.get(backend).get(0)), "back end " + backend + ": each of its mails, once");
            assertProvidersAgree(backend);
        }
    }

    @Test
    void workersKilledAndAddedEveryFewSecondsLoseNothingDoubleNothingAndKeepEachMailboxInTopicOrder() {
        // A killed worker's partitions wait for its session to expire; the broker's minimum keeps that short.
        Map<String, String> quickToNoticeDeath = Map.of("kafka.session.timeout.ms", "6000", "kafka.heartbeat.interval.ms", "1000");
        startWorkers(2, quickToNoticeDeath);
        Map<String, Map<String, String>> expected = new HashMap<>();
        BACKENDS.forEach(b -> expected.put(b, new HashMap<>()));
        // The deadline only ends the loop; what the test proves is nothing lost, doubled or out of
        // order. Alone this run takes about a minute here, and more in the full suite, where other
        // test JVMs share the two cores.
        long deadline = System.nanoTime() + Duration.ofMinutes(8).toNanos();
        int changes = 0;
        while (changes < WAVES || !BACKENDS.stream().allMatch(b -> messageCount(providers.get(b).get(0)) >= expected.get(b).size())) {
            if (System.nanoTime() > deadline) {
                fail("not every mail was stored after " + changes + " changes of workers\n" + logs());
            }
            if (changes < WAVES) {
                // Mail arrives in waves, one before each of the first changes, so that every change
                // meets mail in flight however fast the workers store it.
                publish(changes * (MAILS / WAVES), MAILS / WAVES).forEach((backend, mails) -> expected.get(backend).putAll(mails));
            }
            Chores.pause(2000);
            String backend = BACKENDS.get(changes % BACKENDS.size());
            List<StoreWorkerProcess> group = workers.get(backend);
            if ((changes / BACKENDS.size()) % 2 == 0) {
                group.remove(changes % group.size()).kill();
            } else {
                startWorker(backend, quickToNoticeDeath);
            }
            changes++;
        }
        Map<String, List<String>> topicOrder = topicOrderByMailbox();
        for (String backend : BACKENDS) {
            Slapd first = providers.get(backend).get(0);
            assertEquals(expected.get(backend), messages(first), "back end " + backend + ": each of its mails, once");
            Map<String, List<String>> storedOrder = storedOrderByMailbox(first);
            storedOrder.forEach((mailbox, ids) -> assertEquals(topicOrder.get(mailbox), ids, mailbox + ": stored in topic order"));
            assertProvidersAgree(backend);
        }
    }

    /** Publishes {@code count} mails, numbered from {@code first}, for the mailboxes in turn; returns them by back end, DN to digest. */
    private Map<String, Map<String, String>> publish(int first, int count) {
        Map<String, Map<String, String>> expected = new HashMap<>();
        BACKENDS.forEach(b -> expected.put(b, new HashMap<>()));
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            int box = i % MAILBOXES;
            byte[] mail = MailCorpus.message("mail " + i, "to box " + box + "\r\n");
            mails.add(Map.entry(address(box), mail));
            expected.get(ROUTING.ownerOf(address(box))).put(dn(mail, box), MessageIdentity.sha256Hex(mail));
        }
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            publisher.publish(mails);
        }
        return expected;
    }

    private void startWorkers(int perBackend, Map<String, String> overrides) {
        for (String backend : BACKENDS) {
            for (int i = 0; i < perBackend; i++) {
                startWorker(backend, overrides);
            }
        }
    }

    private void startWorker(String backend, Map<String, String> overrides) {
        List<Slapd> group = providers.get(backend);
        Map<String, String> settings = new HashMap<>(overrides);
        settings.putAll(Map.of("ldap.urls", group.stream().map(Slapd::url).collect(Collectors.joining(",")),
                "backend", backend, "routing.backends", String.join(",", BACKENDS)));
        workers.computeIfAbsent(backend, b -> new ArrayList<>())
                .add(StoreWorkerProcess.start(StoreWorkerProcess.config(kafka, topic, group.get(0), settings)));
    }

    /**
     * Publishes one mail every {@link #STEADY_INTERVAL_MS} for {@code period}, numbered on from
     * {@code first}, each acknowledged before the next; records its expected entry and when it was sent.
     */
    private void publishSteadily(MailPublisher publisher, int first, Duration period, Map<String, Map<String, String>> expected,
            Map<String, Long> publishedAt) {
        long start = System.nanoTime();
        for (int i = first; System.nanoTime() - start < period.toNanos(); i++) {
            Chores.pause(Math.max(0, (i - first) * STEADY_INTERVAL_MS - (System.nanoTime() - start) / 1_000_000));
            int box = i % MAILBOXES;
            byte[] mail = MailCorpus.message("mail " + i, "to box " + box + "\r\n");
            String dn = dn(mail, box);
            expected.get(ROUTING.ownerOf(address(box))).put(dn, MessageIdentity.sha256Hex(mail));
            publishedAt.put(dn, System.currentTimeMillis());
            publisher.publish(List.of(Map.entry(address(box), mail)));
        }
    }

    private void assertProvidersAgree(String backend) {
        Slapd first = providers.get(backend).get(0);
        Slapd second = providers.get(backend).get(1);
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertEquals(messages(first), messages(second), "the messages of back end " + backend + "'s providers");
            assertEquals(first.contextCsn(), second.contextCsn(), "the contextCSN of back end " + backend + "'s providers");
        });
    }

    /** Every message entry of one provider: DN to mailStoreSha256. */
    private static Map<String, String> messages(Slapd provider) {
        return provider.messages("mailStoreSha256").stream()
                .collect(Collectors.toMap(SearchResultEntry::getDN, e -> e.getAttributeValue("mailStoreSha256")));
    }

    private static int messageCount(Slapd provider) {
        return provider.messages("1.1").size();
    }

    private static void awaitMessages(Slapd provider, int atLeast, Supplier<String> diagnostics) {
        Awaitility.await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            int seen = messageCount(provider);
            assertTrue(seen >= atLeast, () -> "expected at least " + atLeast + " messages on " + provider.url() + ", found " + seen
                    + "\n" + diagnostics.get());
        });
    }

    private String logs() {
        return workers.values().stream().flatMap(List::stream).map(StoreWorkerProcess::log).collect(Collectors.joining("\n"));
    }

    private static String address(int box) {
        return "box" + box + "@example.com";
    }

    private static String dn(byte[] mail, int box) {
        return "mailStoreId=" + MessageIdentity.of(mail) + ",cn=INBOX,uid=box" + box + "," + Slapd.PEOPLE;
    }

    /** Each message's DN to when its provider wrote it, read from its entryCSN (microseconds, this machine's clock). */
    private static Map<String, Long> storedAt(Slapd provider) {
        return provider.messages("entryCSN").stream().collect(Collectors.toMap(SearchResultEntry::getDN,
                e -> Slapd.csnTime(e.getAttributeValue("entryCSN")).toEpochMilli()));
    }

    /** Each mailbox's message ids in the order its provider first wrote them (entryCSN order). */
    private static Map<String, List<String>> storedOrderByMailbox(Slapd provider) {
        return provider.messages("mailStoreId", "mailStoreRecipient", "entryCSN").stream()
                .sorted(Comparator.comparing(e -> e.getAttributeValue("entryCSN")))
                .collect(Collectors.groupingBy(e -> e.getAttributeValue("mailStoreRecipient"), Collectors.mapping(
                        e -> e.getAttributeValue("mailStoreId"), Collectors.toList())));
    }

    /** Each mailbox's message ids in topic order: one partition holds a mailbox, so offset order. */
    private Map<String, List<String>> topicOrderByMailbox() {
        return TopicReader.read(kafka.bootstrapServers(), topic, MAILS, Duration.ofSeconds(60)).stream()
                .sorted(Comparator.comparingLong(ConsumerRecord::offset))
                .collect(Collectors.groupingBy(r -> new String(r.key(), StandardCharsets.UTF_8), Collectors.mapping(
                        r -> MessageIdentity.of(r.value()), Collectors.toList())));
    }

    /** Publish-to-stored delays of a set of mails, in milliseconds. */
    private record Latency(long median, long p95, long max, int mails) {

        static Latency of(Set<String> dns, Map<String, Long> publishedAt, Map<String, Long> storedAt, LongPredicate publishedWhen) {
            long[] delays = dns.stream().filter(dn -> publishedWhen.test(publishedAt.get(dn)))
                    .mapToLong(dn -> storedAt.get(dn) - publishedAt.get(dn)).sorted().toArray();
            return new Latency(delays[delays.length / 2], delays[delays.length * 95 / 100], delays[delays.length - 1], delays.length);
        }

        @Override
        public String toString() {
            return "median " + median + " ms, p95 " + p95 + " ms, max " + max + " ms over " + mails + " mails";
        }
    }
}
