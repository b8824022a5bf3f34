package org.mailstream.store;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The dead-letter topic: a record that can never be stored goes there byte-identical (key,
 * value and headers), plus headers saying why, where it came from and when, and how many times it
 * has been written there. A letter that redrive writes again keeps the headers of its earlier
 * attempts, so the first time header says when it first failed. The only topic store-worker
 * writes to.
 */
final class DeadLetters implements AutoCloseable {

    static final String REASON_HEADER = "mailstream.dlq.reason";
    static final String SOURCE_HEADER = "mailstream.dlq.source";
    static final String TIME_HEADER = "mailstream.dlq.time";
    static final String ATTEMPTS_HEADER = "mailstream.dlq.attempts";

    private final Producer<byte[], byte[]> producer;
    private final String topic;

    DeadLetters(StoreConfig config) {
        this.producer = new KafkaProducer<>(config.deadLetterProducerSettings());
        this.topic = config.deadLetterTopic();
    }

    /**
     * Returns once the dead letter is acknowledged; throws when it is not, so nothing is skipped.
     * The producer's own delivery.timeout.ms bounds the wait: a shorter one of ours could give
     * up on a letter the producer still delivers, and the retry would send it twice.
     */
    void send(ConsumerRecord<byte[], byte[]> record, String reason) throws Exception {
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(topic, null, record.key(), record.value());
        for (Header header : record.headers()) {
            if (!header.key().equals(ATTEMPTS_HEADER)) {
                letter.headers().add(header);
            }
        }
        letter.headers()
                .add(ATTEMPTS_HEADER, Integer.toString(attempts(record) + 1).getBytes(StandardCharsets.US_ASCII))
                .add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8))
                .add(SOURCE_HEADER, (record.topic() + "/" + record.partition() + "/" + record.offset()).getBytes(StandardCharsets.UTF_8))
                .add(TIME_HEADER, Instant.now().toString().getBytes(StandardCharsets.UTF_8));
        producer.send(letter).get();
    }

    /** How many times {@code record} has been written to the dead-letter topic: 0 for a record of the mail topic. */
    static int attempts(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(ATTEMPTS_HEADER);
        // A letter written before the count existed has failed once at least.
        return header == null ? (record.headers().lastHeader(TIME_HEADER) == null ? 0 : 1)
                : Integer.parseInt(new String(header.value(), StandardCharsets.US_ASCII));
    }

    /** When {@code record} was first written to the dead-letter topic; null for a record of the mail topic. */
    static Instant firstFailed(ConsumerRecord<byte[], byte[]> record) {
        for (Header header : record.headers().headers(TIME_HEADER)) {
            return Instant.parse(new String(header.value(), StandardCharsets.UTF_8));
        }
        return null;
    }

    @Override
    public void close() {
        producer.close();
    }
}
