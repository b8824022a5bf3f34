package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.schemas.MessageIdentity;

/** Crashes, outages and signals, provoked for real, and that nothing is lost or doubled. */
class StoreWorkerFailureIT {

    @Test
    void aWorkerKilledWithSigkillInTheMiddleOf5000MailsAndRestartedStoresEachExactlyOnce() {
        try (Backend backend = new Backend("failure-kill", 6)) {
            List<String> owners = mailboxes(backend, 10);
            Set<String> ids = publish(backend, 0, 5000, owners);
            try (StoreWorkerProcess first = StoreWorkerProcess.start(backend.workerConfig())) {
                awaitAtLeast(backend, 1500, first);
                first.kill();
            }
            int atCrash = backend.messageCount();
            assertTrue(atCrash < 5000, "the crash came too late to prove anything: " + atCrash);
            try (StoreWorkerProcess second = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(5000, Duration.ofSeconds(180), second::log);
                backend.awaitCaughtUp(backend.topic + "-store", second::log);
            }
            assertEquals(ids, storedIds(backend));
            assertEquals(0, backend.deadLetters(0).size());
        }
    }

    @Test
    void slapdStoppedFor30SecondsPausesStoringAndEveryMailIsStoredAfterwardsWithoutDeadLetters() {
        try (Backend backend = new Backend("failure-slapd", 3)) {
            List<String> owners = mailboxes(backend, 10);
            Set<String> ids = publish(backend, 0, 1000, owners);
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                awaitAtLeast(backend, 100, worker);
                backend.slapd.stop();
                Chores.pause(30_000);
                assertTrue(worker.isAlive(), worker::log);
                backend.slapd.restart();
                backend.awaitMessages(1000, Duration.ofSeconds(120), worker::log);
                assertTrue(worker.logged("retrying"), "the outage was noticed\n" + worker.log());
            }
            assertEquals(ids, storedIds(backend));
            assertEquals(0, backend.deadLetters(0).size());
        }
    }

    @Test
    void aBrokerDownFor30SecondsGetsAReconnectWarningEveryFewSecondsNotSeveralASecondAndEveryMailIsStoredOnceItIsBack() {
        try (KafkaCluster kafka = KafkaCluster.start(1); Backend backend = new Backend(kafka, "failure-broker", 3)) {
            List<String> owners = mailboxes(backend, 10);
            Set<String> ids = new HashSet<>(publish(backend, 0, 200, owners));
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(200, Duration.ofSeconds(120), worker::log);
                kafka.stop(1);
                // The clients' backoff doubles from 50 ms: after 10 s each connection tries every 10 s at most.
                Chores.pause(10_000);
                long before = worker.logLines("could not be established");
                Chores.pause(20_000);
                long warnings = worker.logLines("could not be established") - before;
                // Five connections (the consumer's three, the dead-letter producer's two) at the clients'
                // default of 1 s would log about 100.
                assertTrue(warnings > 0 && warnings <= 15, warnings + " reconnect warnings in the outage's last 20 s\n" + worker.log());
                kafka.restart(1);
                ids.addAll(publish(backend, 200, 200, owners));
                backend.awaitMessages(400, Duration.ofSeconds(120), worker::log);
            }
            assertEquals(ids, storedIds(backend));
        }
    }

    @Test
    void inLogModeAProviderThatHangsSilentlyIsNoticedByTheIdleCheckAndItsWritesAreStoredAgainWhenItAnswers() {
        try (Backend backend = new Backend("failure-hang", 2)) {
            List<String> owners = mailboxes(backend, 5);
            Set<String> ids = publish(backend, 0, 50, owners);
            Map<String, String> logMode = Map.of("store.durability", "log", "store.log.commit.delay.ms", "75000",
                    "ldap.response.timeout.ms", "5000");
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(logMode))) {
                backend.awaitMessages(50, Duration.ofSeconds(60), worker::log);
                // SIGSTOP: the process answers nothing and closes nothing, as a host that lost power.
                backend.slapd.pause();
                try {
                    Awaitility.await("the idle connections' check notices the silent provider").atMost(Duration.ofSeconds(30))
                            .until(() -> worker.logged("LogCommitRule"));
                } finally {
                    backend.slapd.resume();
                }
                Awaitility.await("the writes since the last committed offsets stored again, found stored")
                        .atMost(Duration.ofSeconds(60)).until(() -> worker.logged("storing again from offset"));
                assertTrue(worker.isAlive(), worker::log);
            }
            assertEquals(ids, storedIds(backend));
        }
    }

    @Test
    void sigtermFinishesTheWritesInFlightCommitsThemAndLeavesTheGroup() throws Exception {
        try (Backend backend = new Backend("failure-sigterm", 3)) {
            List<String> owners = mailboxes(backend, 3);
            publish(backend, 0, 300, owners);
            StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig());
            awaitAtLeast(backend, 50, worker);

            assertEquals(143, worker.stop(), worker::log);

            int stored = backend.messageCount();
            long committed;
            try (Admin admin = backend.kafka.admin()) {
                committed = admin.listConsumerGroupOffsets(backend.topic + "-store").partitionsToOffsetAndMetadata().get()
                        .values().stream().mapToLong(o -> o.offset()).sum();
                ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(backend.topic + "-store"))
                        .describedGroups().get(backend.topic + "-store").get();
                assertTrue(group.members().isEmpty(), "left the group: " + group);
            }
            // Every record is stored once, and each commit covers only stored records.
            assertEquals(stored, committed, worker.log());
        }
    }

    private static List<String> mailboxes(Backend backend, int count) {
        List<String> owners = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            owners.add("user" + i);
            backend.addMailboxes("user" + i);
        }
        return owners;
    }

    /** Publishes mails number {@code first} to {@code first + count - 1}, each distinct; returns their ids. */
    private static Set<String> publish(Backend backend, int first, int count, List<String> owners) {
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            mails.add(Map.entry(owners.get(i % owners.size()) + "@example.com", MailCorpus.ofSize(4096, i)));
        }
        try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
            publisher.publish(mails);
        }
        return mails.stream().map(m -> MessageIdentity.of(m.getValue())).collect(Collectors.toSet());
    }

    private static Set<String> storedIds(Backend backend) {
        List<SearchResultEntry> messages = backend.messages();
        Set<String> ids = messages.stream().map(e -> e.getAttributeValue("mailStoreId")).collect(Collectors.toSet());
        assertEquals(messages.size(), ids.size(), "no message stored twice");
        return ids;
    }

    private static void awaitAtLeast(Backend backend, int count, StoreWorkerProcess worker) {
        Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                .failFast("the worker exited\n" + worker.log(), () -> !worker.isAlive())
                .untilAsserted(() -> assertTrue(backend.messageCount() >= count, () -> "fewer than " + count + " stored\n" + worker.log()));
    }
}
