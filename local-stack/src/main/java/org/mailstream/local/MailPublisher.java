package org.mailstream.local;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;
import org.mailstream.schemas.MessageIdentity;

/**
 * Publishes records in the contract's format (key, raw value, envelope header) from this JVM,
 * for tests and benchmarks that need thousands of mails, where one ingest-cli process per mail
 * would take minutes, and for records ingest-cli would refuse (a key holding a NUL byte).
 */
public final class MailPublisher implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;

    public MailPublisher(String bootstrapServers, String topic) {
        this.topic = topic;
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024,
                ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()));
    }

    /** The record ingest-cli would publish for {@code message} to {@code recipient} (already a key). */
    public static ProducerRecord<byte[], byte[]> record(String topic, String recipient, byte[] message) {
        String sha256 = MessageIdentity.sha256Hex(message);
        Envelope envelope = new Envelope(Envelope.VERSION, "sender@example.org", recipient, null, null, null,
                Instant.now(), message.length, sha256, "test", null);
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, recipient.getBytes(StandardCharsets.UTF_8), message);
        record.headers().add(MailRecord.ENVELOPE_HEADER, envelope.toJson());
        return record;
    }

    /** Publishes every mail and returns once all are acknowledged. */
    public void publish(List<Map.Entry<String, byte[]>> mails) {
        send(mails.stream().map(mail -> record(topic, mail.getKey(), mail.getValue())).toList());
    }

    /** Publishes {@code records} as they are, forged ones included, and returns once all are acknowledged. */
    public void send(List<ProducerRecord<byte[], byte[]>> records) {
        List<Future<RecordMetadata>> acknowledgements = new ArrayList<>();
        for (ProducerRecord<byte[], byte[]> record : records) {
            acknowledgements.add(producer.send(record));
        }
        try {
            for (Future<RecordMetadata> acknowledgement : acknowledgements) {
                acknowledgement.get(60, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("publishing failed", e);
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
