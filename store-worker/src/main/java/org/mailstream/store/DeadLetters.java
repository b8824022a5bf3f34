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
 * value and headers), plus headers saying why, where it came from and when. The only topic
 * store-worker writes to.
 */
final class DeadLetters implements AutoCloseable {

    static final String REASON_HEADER = "mailstream.dlq.reason";
    static final String SOURCE_HEADER = "mailstream.dlq.source";
    static final String TIME_HEADER = "mailstream.dlq.time";

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
            letter.headers().add(header);
        }
        letter.headers()
                .add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8))
                .add(SOURCE_HEADER, (record.topic() + "/" + record.partition() + "/" + record.offset()).getBytes(StandardCharsets.UTF_8))
                .add(TIME_HEADER, Instant.now().toString().getBytes(StandardCharsets.UTF_8));
        producer.send(letter).get();
    }

    @Override
    public void close() {
        producer.close();
    }
}
