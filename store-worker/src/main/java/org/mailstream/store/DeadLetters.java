package org.mailstream.store;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
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
    /** "true" on a letter whose sender was told by a bounce, now or when the record failed before. */
    static final String BOUNCED_HEADER = "mailstream.dlq.bounced";

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
    void send(ConsumerRecord<byte[], byte[]> record, String reason, boolean bounced) throws Exception {
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(topic, null, record.key(), record.value());
        for (Header header : record.headers()) {
            if (!header.key().equals(ATTEMPTS_HEADER) && !header.key().equals(BOUNCED_HEADER)) {
                letter.headers().add(header);
            }
        }
        if (bounced) {
            letter.headers().add(BOUNCED_HEADER, "true".getBytes(StandardCharsets.US_ASCII));
        }
        letter.headers()
                .add(ATTEMPTS_HEADER, Integer.toString(attempts(record) + 1).getBytes(StandardCharsets.US_ASCII))
                .add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8))
                .add(SOURCE_HEADER, (record.topic() + "/" + record.partition() + "/" + record.offset()).getBytes(StandardCharsets.UTF_8))
                .add(TIME_HEADER, Instant.now().toString().getBytes(StandardCharsets.UTF_8));
        producer.send(letter).get();
    }

    /**
     * How many times {@code record} has been written to the dead-letter topic: 0 for a record of
     * the mail topic. A count that is not a number was not written by a worker: it counts as
     * once, so that the letter is tried and keeps its reason rather than stop its partition.
     */
    static int attempts(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(ATTEMPTS_HEADER);
        // A letter written before the count existed has failed once at least.
        if (header == null) {
            return record.headers().lastHeader(TIME_HEADER) == null ? 0 : 1;
        }
        String count = new String(header.value(), StandardCharsets.US_ASCII);
        return count.matches("\\d{1,9}") ? Integer.parseInt(count) : 1;
    }

    /** When {@code record} was first written to the dead-letter topic; null for a record of the mail topic or an unreadable time. */
    static Instant firstFailed(ConsumerRecord<byte[], byte[]> record) {
        for (Header header : record.headers().headers(TIME_HEADER)) {
            try {
                return Instant.parse(new String(header.value(), StandardCharsets.UTF_8));
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }

    @Override
    public void close() {
        producer.close();
    }
}
