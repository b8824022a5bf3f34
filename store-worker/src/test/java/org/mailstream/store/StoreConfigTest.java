package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.mailstream.testsupport.DocumentedReference;
import org.mailstream.testsupport.SampleConfiguration;

class StoreConfigTest {

    private static final Map<String, String> MINIMAL = Map.of(
            "kafka.bootstrap.servers", "127.0.0.1:9092",
            "ldap.urls", "ldap://127.0.0.1:389",
            "ldap.bind.dn", "cn=store-worker,dc=example,dc=com",
            "ldap.bind.password.file", "/etc/mailstream/ldap.password",
            "ldap.base.dn", "ou=people,dc=example,dc=com");

    @Test
    void aNewGroupStartsFromTheEarliestOffsetAndCommitsByHand() {
        StoreConfig config = StoreConfig.of(MINIMAL);
        Map<String, Object> consumer = config.consumerSettings(config.groupId());
        assertEquals("earliest", consumer.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG));
        assertEquals(false, consumer.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG));
        assertEquals("mailstream-store", consumer.get(ConsumerConfig.GROUP_ID_CONFIG));
    }

    @Test
    void theDeadLetterTopicDefaultsToTheTopicFollowedByDlq() {
        assertEquals("mail.inbound.dlq", StoreConfig.of(MINIMAL).deadLetterTopic());
        assertEquals("x.dlq", StoreConfig.of(with("topic", "x")).deadLetterTopic());
        assertEquals("dead", StoreConfig.of(with("dlq.topic", "dead")).deadLetterTopic());
    }

    @Test
    void aMissingRequiredKeyAnUnknownKeyAndABadUrlAreRefused() {
        Map<String, String> withoutBase = new HashMap<>(MINIMAL);
        withoutBase.remove("ldap.base.dn");
        assertThrows(ConfigException.class, () -> StoreConfig.of(withoutBase));
        assertThrows(ConfigException.class, () -> StoreConfig.of(with("ldap.url", "ldap://x")));
        ConfigException badUrl = assertThrows(ConfigException.class, () -> StoreConfig.of(with("ldap.urls", "http://x y")));
        assertTrue(badUrl.getMessage().contains("ldap.urls"), badUrl.getMessage());
    }

    @Test
    void inLogModeACommitDelayShorterThanACheckpointAndTheTimeToNoticeALossIsRefused() {
        Map<String, String> log = with("store.durability", "log");
        log.put("store.log.commit.delay.ms", "90000");
        ConfigException tooShort = assertThrows(ConfigException.class, () -> StoreConfig.of(log));
        assertTrue(tooShort.getMessage().contains("store.log.commit.delay.ms") && tooShort.getMessage().contains("at least 95000"),
                tooShort.getMessage());
        log.put("ldap.response.timeout.ms", "5000");
        assertEquals(90_000, StoreConfig.of(log).logCommitDelay().toMillis(), "75 s suffice when an operation may take 5 s");
    }

    @Test
    void theDocumentedReferenceIsTheOneGeneratedFromTheDeclaration() {
        DocumentedReference.assertDocuments("docs/store-worker.md", StoreConfig.DEFINITION);
    }

    @Test
    void theShippedSampleConfigurationDocumentsEveryDeclaredKey() {
        SampleConfiguration.assertDocuments(StoreConfig.DEFINITION, "store-worker.properties");
    }

    private static Map<String, String> with(String key, String value) {
        Map<String, String> settings = new HashMap<>(MINIMAL);
        settings.put(key, value);
        return settings;
    }
}
