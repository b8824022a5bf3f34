package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.TopicReader;
import org.awaitility.Awaitility;

class IngestCliRoundTripIT {

    private static final String TOPIC = "roundtrip";
    private static KafkaCluster kafka;
    private static Path config;

    @BeforeAll
    static void broker() {
        kafka = KafkaCluster.shared();
        kafka.createTopic(TOPIC, 3, 1, Map.of("max.message.bytes", "11000000"));
        config = IngestCliProcess.config(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC));
    }

    static Stream<Arguments> corpus() {
        return MailCorpus.awkward().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void everyMessageReadsBackFromTheTopicByteForByteWithItsKeyAndEnvelope(String name, byte[] message) {
        String recipient = name + "@Example.COM";
        Instant before = Instant.now();

        Command.Result result = IngestCliProcess.run(config, message, "-f", "alice@example.org", "-q", "Q" + name.length(),
                "-a", "orig-" + recipient, "-i", "192.0.2.7", "-d", recipient);

        assertEquals(0, result.exitCode(), result::toString);
        assertEquals("", result.stdout() + result.stderr(), "nothing printed on success");
        ConsumerRecord<byte[], byte[]> record = single(recordsFor(name + "@example.com"));
        assertEquals(MessageIdentity.sha256Hex(message), MessageIdentity.sha256Hex(record.value()));
        assertArrayEquals(message, record.value());
        Envelope envelope = Envelope.fromJson(onlyEnvelopeHeader(record));
        assertEquals(new Envelope(1, "alice@example.org", recipient, "orig-" + recipient, "Q" + name.length(), "192.0.2.7",
                envelope.receivedAt(), message.length, MessageIdentity.sha256Hex(message), envelope.ingestHost(), null), envelope);
        assertTrue(!envelope.receivedAt().isBefore(before.minusSeconds(1)) && !envelope.receivedAt().isAfter(Instant.now()));
    }

    @Test
    void severalRecipientsAfterDashDYieldOneRecordEach() {
        byte[] message = MailCorpus.message("three recipients", "hi all\r\n");
        Command.Result result = IngestCliProcess.run(config, message, "-f", "alice@example.org",
                "-d", "one@multi.example", "two@multi.example", "three@MULTI.example");

        assertEquals(0, result.exitCode(), result::toString);
        List<ConsumerRecord<byte[], byte[]>> records = recordsWhere(key -> key.endsWith("@multi.example"), 3);
        assertEquals(Set.of("one@multi.example", "two@multi.example", "three@multi.example"),
                records.stream().map(r -> key(r)).collect(Collectors.toSet()));
        records.forEach(r -> assertArrayEquals(message, r.value()));
        assertEquals(Set.of("one@multi.example", "two@multi.example", "three@MULTI.example"),
                records.stream().map(r -> Envelope.fromJson(onlyEnvelopeHeader(r)).recipient()).collect(Collectors.toSet()));
    }

    @Test
    void theNullSenderTravelsAsAnEmptySenderAndAbsentFieldsStayAbsent() {
        Command.Result result = IngestCliProcess.run(config, MailCorpus.message("bounce", "returned\r\n"),
                "-f", "", "-d", "postmaster@null-sender.example");

        assertEquals(0, result.exitCode(), result::toString);
        Envelope envelope = Envelope.fromJson(onlyEnvelopeHeader(single(recordsFor("postmaster@null-sender.example"))));
        assertEquals("", envelope.sender());
        assertNull(envelope.queueId());
        assertNull(envelope.originalRecipient());
        assertNull(envelope.clientAddress());
    }

    private static List<ConsumerRecord<byte[], byte[]>> recordsFor(String key) {
        return recordsWhere(key::equals, 1);
    }

    private static List<ConsumerRecord<byte[], byte[]>> recordsWhere(java.util.function.Predicate<String> key, int atLeast) {
        return Awaitility.await("at least " + atLeast + " matching records").atMost(Duration.ofSeconds(20)).pollDelay(Duration.ZERO)
                .until(() -> TopicReader.read(kafka.bootstrapServers(), TOPIC, 1, Duration.ofSeconds(5)).stream()
                        .filter(r -> key.test(key(r))).toList(), matching -> matching.size() >= atLeast);
    }

    private static String key(ConsumerRecord<byte[], byte[]> record) {
        return new String(record.key(), StandardCharsets.UTF_8);
    }

    private static ConsumerRecord<byte[], byte[]> single(List<ConsumerRecord<byte[], byte[]>> records) {
        assertEquals(1, records.size(), "records: " + records.size());
        return records.get(0);
    }

    private static byte[] onlyEnvelopeHeader(ConsumerRecord<byte[], byte[]> record) {
        List<Header> envelopes = List.of(record.headers().toArray()).stream()
                .filter(h -> h.key().equals(MailRecord.ENVELOPE_HEADER)).toList();
        assertEquals(1, envelopes.size(), "one envelope header");
        return envelopes.get(0).value();
    }
}
