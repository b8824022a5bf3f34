package org.mailstream.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.schemas.Recipient;

/**
 * The core of ingest-cli, apart from its front end (argv, stdin, exit status) so that a
 * long-running front end such as LMTP can reuse it: validate one message, publish one record per
 * recipient, and return only when the broker has acknowledged every one of them, or throw.
 */
final class Ingest implements AutoCloseable {

    /** The kernel's host name: unlike InetAddress.getLocalHost() it needs no DNS lookup. */
    private static final String HOST_NAME = readHostName();

    private final IngestConfig config;
    private final Instant deadline;
    private final Clock clock;
    private Producer<byte[], byte[]> producer;

    /** Everything this delivery does, including creating the producer, ends by {@code deadline}. */
    Ingest(IngestConfig config, Instant deadline, Clock clock) {
        this.config = config;
        this.deadline = deadline;
        this.clock = clock;
    }

    /** Returns when every record is acknowledged; throws {@link DeliveryException} otherwise. */
    void deliver(Delivery delivery) throws DeliveryException {
        byte[] message = delivery.message();
        check(message);
        String sha256 = MessageIdentity.sha256Hex(message);
        Instant receivedAt = clock.instant();
        List<Future<RecordMetadata>> acknowledgements = new ArrayList<>();
        for (Recipient recipient : delivery.recipients()) {
            Envelope envelope = new Envelope(Envelope.VERSION, delivery.sender(), recipient.toString(),
                    delivery.originalRecipient(), delivery.queueId(), delivery.clientAddress(), receivedAt,
                    message.length, sha256, HOST_NAME);
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(config.topic(),
                    recipient.key().getBytes(StandardCharsets.UTF_8), message);
            record.headers().add(MailRecord.ENVELOPE_HEADER, envelope.toJson());
            acknowledgements.add(producer().send(record));
        }
        for (Future<RecordMetadata> acknowledgement : acknowledgements) {
            awaitBeforeDeadline(acknowledgement);
        }
    }

    private void check(byte[] message) throws DeliveryException {
        if (message.length > config.maxMessageBytes()) {
            throw new DeliveryException(DeliveryStatus.MESSAGE_TOO_LARGE,
                    "message exceeds the limit of " + config.maxMessageBytes() + " octets");
        }
        String problem = HeaderSection.problem(message);
        if (problem != null) {
            throw new DeliveryException(DeliveryStatus.MALFORMED_MESSAGE, problem);
        }
    }

    private void awaitBeforeDeadline(Future<RecordMetadata> acknowledgement) throws DeliveryException {
        try {
            acknowledgement.get(Math.max(0, remaining().toMillis()), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new DeliveryException(DeliveryStatus.KAFKA_UNAVAILABLE,
                    "no acknowledgement from topic " + config.topic() + " within " + config.deadlineMs() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Failures.classify(e);
        } catch (Exception e) {
            throw Failures.classify(e);
        }
    }

    /** Created only for a message that passed the checks: most of ingest-cli's cost is here. */
    private Producer<byte[], byte[]> producer() {
        if (producer == null) {
            Map<String, Object> settings = config.producerSettings();
            int remaining = (int) Math.max(1, remaining().toMillis());
            // A send blocks for metadata at most this long and a record may take at most this long
            // in all; delivery.timeout.ms may not be below request.timeout.ms + linger.ms.
            settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, remaining);
            settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, remaining);
            settings.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, remaining);
            producer = new KafkaProducer<>(settings);
        }
        return producer;
    }

    private Duration remaining() {
        return Duration.between(clock.instant(), deadline);
    }

    /** Every record is acknowledged or abandoned by now: nothing is left to wait for. */
    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ZERO);
        }
    }

    private static String readHostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            return "localhost";
        }
    }
}
