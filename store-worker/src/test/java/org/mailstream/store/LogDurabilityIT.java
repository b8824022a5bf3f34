package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TopicReader;
import org.mailstream.schemas.MessageIdentity;

/**
 * store.durability=log against a lost tail made for real. Three back ends, each two slapd providers
 * in multi-provider replication with the shipped log-mode settings (no sync per add, a checkpoint
 * every minute) and one bin/store-worker, take a steady flow of mail. A power loss that kept only
 * the last checkpoint is what remains after each database is replaced by a consistent copy taken
 * earlier with mdb_copy: here 58 s earlier, nearly a whole checkpoint interval, the worst a real
 * checkpoint leaves. Back end a loses both providers' tails, b only the tail of the provider its
 * worker writes to, c both providers' tails and its worker (kill -9) at the same moment.
 */
class LogDurabilityIT {

    private static final List<String> BACKENDS = List.of("a", "b", "c");
    private static final BackendRouting ROUTING = BackendRouting.of("a", BACKENDS, List.of(), "");
    private static final int MAILBOXES = 30;
    private static final long INTERVAL_MS = 30;
    /** The shortest delay these settings allow: a one-minute checkpoint, 5 s to notice a provider gone, and the rest. */
    private static final Map<String, String> LOG_MODE = Map.of("store.durability", "log", "store.log.commit.delay.ms", "75000",
            "ldap.response.timeout.ms", "5000");
    private static final Duration COPY_AFTER = Duration.ofSeconds(30);
    private static final Duration LOSS_AFTER_COPY = Duration.ofSeconds(58);

    private final KafkaCluster kafka = KafkaCluster.shared();
    private final String topic = "log-durability-" + System.nanoTime();
    private final Map<String, List<Slapd>> providers = new HashMap<>();
    private final Map<String, StoreWorkerProcess> workers = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> expected = new ConcurrentHashMap<>();
    private final List<Path> copies = new ArrayList<>();

    @AfterEach
    void stopEverything() {
        workers.values().forEach(StoreWorkerProcess::close);
        providers.values().forEach(group -> group.forEach(Slapd::close));
        copies.forEach(Chores::deleteRecursively);
    }

    @Test
    void aPowerLossThatKeepsOnlyTheLastCheckpointLosesNoMailAndNoCommittedOffsetCoversAWriteItTook() throws Exception {
        kafka.createTopic(topic, 6, 1, Map.of());
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of());
        for (String backend : BACKENDS) {
            List<Slapd> group = Slapd.startProviders(2);
            group.forEach(provider -> provider.applyShipped("mailstore.durability-log.ldif"));
            providers.put(backend, group);
            expected.put(backend, new ConcurrentHashMap<>());
        }
        for (int box = 0; box < MAILBOXES; box++) {
            providers.get(ROUTING.ownerOf(address(box))).get(0).addMailbox("box" + box);
        }
        BACKENDS.forEach(this::startWorker);

        AtomicBoolean publishing = new AtomicBoolean(true);
        Thread publisher = new Thread(() -> publishSteadily(publishing), "steady publisher");
        publisher.start();
        try {
            Chores.pause(COPY_AFTER.toMillis());
            Map<String, Long> committedAtCopy = sums(committedOffsets());
            Map<Slapd, Path> copyOf = new HashMap<>();
            for (String backend : List.of("a", "c")) {
                providers.get(backend).forEach(provider -> copyOf.put(provider, copy(provider)));
            }
            copyOf.put(providers.get("b").get(0), copy(providers.get("b").get(0)));
            Chores.pause(LOSS_AFTER_COPY.toMillis());
            workers.forEach((backend, worker) -> assertTrue(!worker.logged("LogCommitRule"),
                    "back end " + backend + "'s worker lost no connection while every provider ran\n" + worker.log()));

            copyOf.keySet().forEach(Slapd::kill);
            workers.remove("c").kill();
            Map<String, Map<Integer, Long>> committedOffsets = committedOffsets();
            Map<String, Long> committedAtLoss = sums(committedOffsets);
            Map<String, Set<String>> survivors = new HashMap<>();
            for (String backend : BACKENDS) {
                Set<String> ids = new HashSet<>();
                for (Slapd provider : providers.get(backend)) {
                    if (copyOf.containsKey(provider)) {
                        provider.replaceDatabaseWith(copyOf.get(provider));
                        ids.addAll(provider.messageIdsOnDisk());
                    } else {
                        provider.messages("mailStoreId").forEach(entry -> ids.add(entry.getAttributeValue("mailStoreId")));
                    }
                }
                survivors.put(backend, ids);
            }
            copyOf.keySet().forEach(Slapd::restart);
            startWorker("c");

            for (String backend : BACKENDS) {
                assertTrue(committedAtLoss.get(backend) > committedAtCopy.get(backend), "back end " + backend
                        + " committed offsets between the copy and the loss: " + committedAtCopy + " then " + committedAtLoss);
            }
            Chores.pause(5_000);
            publishing.set(false);
            publisher.join();
            assertEveryCommittedRecordSurvived(committedOffsets, survivors);
        } finally {
            publishing.set(false);
            publisher.join();
        }
        for (String backend : BACKENDS) {
            awaitEveryMailStoredOnceOnBothProviders(backend);
        }
    }

    private void assertEveryCommittedRecordSurvived(Map<String, Map<Integer, Long>> committed, Map<String, Set<String>> survivors) {
        int published = expected.values().stream().mapToInt(Map::size).sum();
        int checked = 0;
        for (ConsumerRecord<byte[], byte[]> record : TopicReader.read(kafka.bootstrapServers(), topic, published, Duration.ofSeconds(60))) {
            String backend = ROUTING.ownerOf(new String(record.key(), StandardCharsets.UTF_8));
            Long end = committed.get(backend).get(record.partition());
            if (end != null && record.offset() < end) {
                String id = MessageIdentity.of(record.value());
                assertTrue(survivors.get(backend).contains(id), "back end " + backend + " committed offset " + end + " of partition "
                        + record.partition() + ", past record " + record.offset() + " (" + id + "), which the power loss took\n" + logs());
                checked++;
            }
        }
        assertTrue(checked > 0, "some committed records were checked");
    }

    private void awaitEveryMailStoredOnceOnBothProviders(String backend) {
        Awaitility.await("back end " + backend + " holds each of its mails once on both providers").atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                    for (Slapd provider : providers.get(backend)) {
                        assertEquals(expected.get(backend), messages(provider), "the messages of " + provider.url() + "\n" + logs());
                    }
                    assertEquals(providers.get(backend).get(0).contextCsn(), providers.get(backend).get(1).contextCsn(), "contextCSN");
                });
    }

    private void publishSteadily(AtomicBoolean publishing) {
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            long start = System.nanoTime();
            for (int i = 0; publishing.get(); i++) {
                Chores.pause(Math.max(0, i * INTERVAL_MS - (System.nanoTime() - start) / 1_000_000));
                int box = i % MAILBOXES;
                byte[] mail = MailCorpus.message("mail " + i, "to box " + box + "\r\n");
                publisher.publish(List.of(Map.entry(address(box), mail)));
                expected.get(ROUTING.ownerOf(address(box))).put("mailStoreId=" + MessageIdentity.of(mail) + ",cn=INBOX,uid=box" + box
                        + "," + Slapd.PEOPLE, MessageIdentity.sha256Hex(mail));
            }
        }
    }

    private void startWorker(String backend) {
        List<Slapd> group = providers.get(backend);
        Map<String, String> settings = new HashMap<>(LOG_MODE);
        settings.putAll(Map.of("ldap.urls", group.stream().map(Slapd::url).collect(Collectors.joining(",")), "backend", backend,
                "routing.backends", String.join(",", BACKENDS)));
        workers.put(backend, StoreWorkerProcess.start(StoreWorkerProcess.config(kafka, topic, group.get(0), settings)));
    }

    private Path copy(Slapd provider) {
        try {
            Path directory = Files.createTempDirectory("mdb-copy");
            copies.add(directory);
            provider.copyDatabaseTo(directory);
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Long> sums(Map<String, Map<Integer, Long>> committed) {
        Map<String, Long> sums = new HashMap<>();
        committed.forEach((backend, offsets) -> sums.put(backend, offsets.values().stream().mapToLong(Long::longValue).sum()));
        return sums;
    }

    /** Per back end, its group's committed offset of each partition. */
    private Map<String, Map<Integer, Long>> committedOffsets() {
        Map<String, Map<Integer, Long>> offsets = new HashMap<>();
        try (Admin admin = kafka.admin()) {
            for (String backend : BACKENDS) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(topic + "-store-" + backend)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                offsets.put(backend, committed.entrySet().stream()
                        .collect(Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset())));
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the committed offsets", e);
        }
        return offsets;
    }

    private static Map<String, String> messages(Slapd provider) {
        return provider.messages("mailStoreSha256").stream()
                .collect(Collectors.toMap(SearchResultEntry::getDN, e -> e.getAttributeValue("mailStoreSha256")));
    }

    private String logs() {
        return workers.values().stream().map(StoreWorkerProcess::log).collect(Collectors.joining("\n"));
    }

    private static String address(int box) {
        return "box" + box + "@example.com";
    }
}
