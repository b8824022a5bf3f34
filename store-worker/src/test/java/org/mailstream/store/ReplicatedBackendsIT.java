package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchScope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.testsupport.Chores;
import org.mailstream.testsupport.KafkaCluster;
import org.mailstream.testsupport.MailCorpus;
import org.mailstream.testsupport.MailPublisher;
import org.mailstream.testsupport.Slapd;

/**
 * Two back ends, each two slapd providers in multi-provider syncrepl with the shipped schema and
 * rules, each stored by two bin/store-worker processes of its own group; 100 mailboxes spread
 * over both by the routing rule; mail published as ingest-cli publishes it.
 */
class ReplicatedBackendsIT {

    private static final List<String> BACKENDS = List.of("a", "b");
    private static final int MAILBOXES = 100;
    private static final BackendRouting ROUTING = BackendRouting.of("a", BACKENDS, List.of());

    private final KafkaCluster kafka = KafkaCluster.shared();
    private final Map<String, List<Slapd>> providers = new HashMap<>();
    private final List<StoreWorkerProcess> workers = new ArrayList<>();
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
        workers.forEach(StoreWorkerProcess::close);
        providers.values().forEach(group -> group.forEach(Slapd::close));
    }

    @Test
    void everyMailIsStoredOnceInItsOwnersBackEndAndBothProvidersOfEachHoldTheSame() {
        startWorkers(2);
        Map<String, Map<String, String>> expected = publish(10_000);
        for (String backend : BACKENDS) {
            Slapd first = providers.get(backend).get(0);
            awaitMessages(first, expected.get(backend).size(), this::logs);
            assertEquals(expected.get(backend), messages(first), "back end " + backend + ": each of its mails, once, below its owner");
            assertProvidersAgree(backend);
        }
    }

    @Test
    void aProviderKilledMidRunLosesAndDoublesNothingAndCatchesUpWhenRestarted() {
        startWorkers(2);
        Map<String, Map<String, String>> expected = publish(10_000);
        Slapd victim = providers.get("a").get(0);
        Slapd survivor = providers.get("a").get(1);
        awaitMessages(survivor, expected.get("a").size() / 5, this::logs);
        victim.kill();
        awaitMessages(survivor, expected.get("a").size() / 2, this::logs);
        victim.restart();
        awaitMessages(survivor, expected.get("a").size(), this::logs);
        assertEquals(expected.get("a"), messages(survivor), "nothing lost or doubled on the provider that stayed");
        assertProvidersAgree("a");
        awaitMessages(providers.get("b").get(0), expected.get("b").size(), this::logs);
    }

    /** Publishes {@code count} distinct mails round the mailboxes; returns per back end its expected DN to SHA-256. */
    private Map<String, Map<String, String>> publish(int count) {
        Map<String, Map<String, String>> expected = new HashMap<>();
        BACKENDS.forEach(b -> expected.put(b, new HashMap<>()));
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int box = i % MAILBOXES;
            byte[] mail = MailCorpus.message("mail " + i, "to box " + box + "\r\n");
            mails.add(Map.entry(address(box), mail));
            expected.get(ROUTING.ownerOf(address(box))).put("mailStoreId=" + MessageIdentity.of(mail) + ",cn=INBOX,uid=box" + box + ","
                    + Slapd.PEOPLE, MessageIdentity.sha256Hex(mail));
        }
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            publisher.publish(mails);
        }
        return expected;
    }

    private void startWorkers(int perBackend) {
        for (String backend : BACKENDS) {
            List<Slapd> group = providers.get(backend);
            for (int i = 0; i < perBackend; i++) {
                workers.add(StoreWorkerProcess.start(Backend.workerConfig(kafka, topic, group.get(0), Map.of(
                        "ldap.urls", group.stream().map(Slapd::url).collect(Collectors.joining(",")),
                        "backend", backend, "routing.backends", String.join(",", BACKENDS)))));
            }
        }
    }

    private void assertProvidersAgree(String backend) {
        Slapd first = providers.get(backend).get(0);
        Slapd second = providers.get(backend).get(1);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!(messages(first).equals(messages(second)) && first.contextCsn().equals(second.contextCsn()))) {
            if (System.nanoTime() > deadline) {
                fail("the providers of back end " + backend + " differ: " + messages(first).size() + " and " + messages(second).size()
                        + " messages, contextCSN " + first.contextCsn() + " and " + second.contextCsn());
            }
            Chores.pause(500);
        }
    }

    /** Every message entry of one provider: DN to mailStoreSha256. */
    private static Map<String, String> messages(Slapd provider) {
        try (LDAPConnection root = provider.rootConnection()) {
            SearchRequest request = new SearchRequest(Slapd.SUFFIX, SearchScope.SUB, "(objectClass=mailStoreMessage)", "mailStoreSha256");
            return root.search(request).getSearchEntries().stream()
                    .collect(Collectors.toMap(e -> e.getDN(), e -> e.getAttributeValue("mailStoreSha256")));
        } catch (LDAPException e) {
            throw new IllegalStateException("cannot read the messages of " + provider.url(), e);
        }
    }

    private static int messageCount(Slapd provider) {
        try (LDAPConnection root = provider.rootConnection()) {
            return root.search(new SearchRequest(Slapd.SUFFIX, SearchScope.SUB, "(objectClass=mailStoreMessage)", "1.1")).getEntryCount();
        } catch (LDAPException e) {
            throw new IllegalStateException("cannot count the messages of " + provider.url(), e);
        }
    }

    private static void awaitMessages(Slapd provider, int atLeast, Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        int seen;
        while ((seen = messageCount(provider)) < atLeast) {
            if (System.nanoTime() > deadline) {
                fail("expected at least " + atLeast + " messages on " + provider.url() + ", found " + seen + "\n" + diagnostics.get());
            }
            Chores.pause(500);
        }
    }

    private String logs() {
        return workers.stream().map(StoreWorkerProcess::log).collect(Collectors.joining("\n"));
    }

    private static String address(int box) {
        return "box" + box + "@example.com";
    }
}
