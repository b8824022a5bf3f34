package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.SearchScope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TestCertificates;
import org.mailstream.local.TopicReader;

/** store-worker over StartTLS and ldaps to a real slapd, trusting only the configured authority. */
class LdapTlsIT {

    private static TestCertificates certificates;
    private static Slapd slapd;

    @BeforeAll
    static void slapdWithTls() {
        certificates = TestCertificates.create();
        slapd = Slapd.startWithTls(certificates);
        slapd.addMailbox("bob");
    }

    @AfterAll
    static void stop() {
        slapd.close();
    }

    @Test
    void withStartTlsAndTheRightAuthorityMailIsStored() {
        assertStoredOver("tls-starttls", Map.of("ldap.urls", slapd.url(), "ldap.tls", "starttls",
                "ldap.tls.ca.file", certificates.authority().toString()));
    }

    @Test
    void overLdapsAndTheRightAuthorityMailIsStored() {
        assertStoredOver("tls-ldaps", Map.of("ldap.urls", slapd.ldapsUrl(), "ldap.tls", "ldaps",
                "ldap.tls.ca.file", certificates.authority().toString()));
    }

    @Test
    void aServerSignedByAnotherAuthorityGetsNoMailAndNothingIsDeadLettered() {
        String topic = "tls-untrusted";
        byte[] mail = publish(topic);
        Map<String, String> settings = Map.of("ldap.urls", slapd.url(), "ldap.tls", "starttls",
                "ldap.tls.ca.file", certificates.strangerAuthority().toString());
        try (StoreWorkerProcess worker = StoreWorkerProcess.start(config(topic, settings))) {
            Chores.pause(8000);
            assertTrue(worker.isAlive(), worker::log);
            assertTrue(worker.logged("retrying"), worker::log);
            assertEquals(0, storedCopies(mail), worker::log);
            assertEquals(0, TopicReader.read(KafkaCluster.shared().bootstrapServers(), topic + ".dlq", 0, Duration.ofSeconds(2)).size(),
                    worker::log);
        }
    }

    private static void assertStoredOver(String topic, Map<String, String> settings) {
        byte[] mail = publish(topic);
        try (StoreWorkerProcess worker = StoreWorkerProcess.start(config(topic, settings))) {
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .failFast("the worker exited", () -> !worker.isAlive())
                    .untilAsserted(() -> assertEquals(1, storedCopies(mail), worker::log));
        }
    }

    private static byte[] publish(String topic) {
        KafkaCluster kafka = KafkaCluster.shared();
        kafka.createTopic(topic, 1, 1, Map.of());
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of());
        byte[] mail = MailCorpus.message("over " + topic, "x\r\n");
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            publisher.publish(List.of(Map.entry("bob@example.com", mail)));
        }
        return mail;
    }

    private static java.nio.file.Path config(String topic, Map<String, String> settings) {
        return StoreWorkerProcess.config(KafkaCluster.shared(), topic, slapd, settings);
    }

    private static int storedCopies(byte[] mail) {
        try (LDAPConnection root = slapd.rootConnection()) {
            return root.search(Slapd.PEOPLE, SearchScope.SUB, "(mailStoreSha256="
                    + org.mailstream.schemas.MessageIdentity.sha256Hex(mail) + ")", "1.1").getEntryCount();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
