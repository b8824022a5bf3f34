package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.mailstream.testsupport.DocumentedReference;
import org.mailstream.testsupport.SampleConfiguration;

class IngestConfigTest {

    private static final Map<String, String> MINIMAL = Map.of("kafka.bootstrap.servers", "127.0.0.1:9092");

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        IngestConfig config = IngestConfig.of(MINIMAL);
        assertEquals("mail.inbound", config.topic());
        assertEquals(10_485_760, config.maxMessageBytes());
        assertEquals(60_000, config.deadlineMs());
    }

    @Test
    void theBrokersAreRequired() {
        ConfigException missing = assertThrows(ConfigException.class, () -> IngestConfig.of(Map.of()));
        assertTrue(missing.getMessage().contains("kafka.bootstrap.servers"), missing.getMessage());
    }

    @Test
    void anUnknownKeyIsRefusedRatherThanIgnored() {
        ConfigException typo = assertThrows(ConfigException.class, () -> IngestConfig.of(with("deadline.msec", "5000")));
        assertTrue(typo.getMessage().contains("deadline.msec"), typo.getMessage());
    }

    @Test
    void kafkaKeysReachTheProducerWithoutTheirPrefix() {
        Map<String, Object> producer = IngestConfig.of(with("kafka.security.protocol", "SSL")).producerSettings();
        assertEquals("SSL", producer.get("security.protocol"));
        assertEquals("127.0.0.1:9092", producer.get("bootstrap.servers"));
    }

    @Test
    void theDeliveryGuaranteeCannotBeConfiguredAway() {
        assertThrows(ConfigException.class, () -> IngestConfig.of(with("kafka.acks", "1")));
        assertThrows(ConfigException.class, () -> IngestConfig.of(with("kafka.enable.idempotence", "false")));
        assertEquals("all", IngestConfig.of(with("kafka.acks", "all")).producerSettings().get(ProducerConfig.ACKS_CONFIG));
    }

    @Test
    void theProducerRequestSizeFollowsTheMessageLimitAndMayNotBeSmaller() {
        Map<String, Object> producer = IngestConfig.of(with("max.message.bytes", "2000000")).producerSettings();
        assertEquals(2_000_000 + IngestConfig.RECORD_OVERHEAD_BYTES, producer.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));

        ConfigException tooSmall = assertThrows(ConfigException.class,
                () -> IngestConfig.of(with("kafka.max.request.size", "1048576")));
        assertTrue(tooSmall.getMessage().contains("max.request.size"), tooSmall.getMessage());
    }

    @Test
    void aMessageLimitAboveWhatSlapdCanStoreIsRefused() {
        assertThrows(ConfigException.class, () -> IngestConfig.of(with("max.message.bytes", "20000000")));
    }

    @Test
    void theDocumentedReferenceIsTheOneGeneratedFromTheDeclaration() throws Exception {
        DocumentedReference.assertDocuments("docs/ingest.md", IngestConfig.DEFINITION);
    }

    @Test
    void theShippedSampleConfigurationDocumentsEveryDeclaredKey() {
        SampleConfiguration.assertDocuments(IngestConfig.DEFINITION, "ingest.properties");
    }

    private static Map<String, String> with(String key, String value) {
        Map<String, String> settings = new HashMap<>(MINIMAL);
        settings.put(key, value);
        return settings;
    }
}
