package org.mailstream.ingest;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.mailstream.config.HostName;
import org.mailstream.config.HostPort;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.schemas.Recipient;

/**
 * The core both front ends share, apart from how each speaks to Postfix (argv, stdin and exit
 * status for pipe(8); replies for LMTP): the checks on a message, and publishing one record per
 * recipient, each outcome known only once the broker has acknowledged the record or the
 * deadline has passed. A record is keyed by its mailbox's address, the recipient without its
 * extension, so that all of a mailbox's mail shares a partition and a back end; the envelope
 * keeps the recipient whole.
 */
final class Ingest {

    /** How one recipient's record ended, in the recipients' order: acknowledged when {@code failure} is null. */
    record Outcome(DeliveryException failure) {
        boolean acknowledged() {
            return failure == null;
        }
    }

    private final IngestConfig config;
    private final Producer<byte[], byte[]> producer;
    private final Clock clock;

    Ingest(IngestConfig config, Producer<byte[], byte[]> producer, Clock clock) {
        this.config = config;
        this.producer = producer;
        this.clock = clock;
    }

    /**
     * A producer whose every wait (metadata, request, delivery) ends within {@code timeout}; its
     * settings are the configuration's, with the delivery guarantee fixed.
     */
    static Producer<byte[], byte[]> producer(IngestConfig config, Duration timeout) {
        Map<String, Object> settings = config.producerSettings();
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        int linger = Integer.parseInt(settings.get(ProducerConfig.LINGER_MS_CONFIG).toString().trim());
        settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, millis);
        settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.max(millis, linger + 1));
        // delivery.timeout.ms may not be below request.timeout.ms + linger.ms.
        settings.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(1, millis - linger));
        return new KafkaProducer<>(settings);
    }

    /** Throws when the message is provably unfit: larger than the limit, or no header section. */
    static void check(byte[] message, IngestConfig config) throws DeliveryException {
        if (message.length > config.maxMessageBytes()) {
            throw new DeliveryException(DeliveryStatus.MESSAGE_TOO_LARGE,
                    "message exceeds the limit of " + config.maxMessageBytes() + " octets");
        }
        String problem = HeaderSection.problem(message);
        if (problem != null) {
            throw new DeliveryException(DeliveryStatus.MALFORMED_MESSAGE, problem);
        }
    }

    /**
     * Publishes one record per recipient of a checked message and returns, in the recipients'
     * order, how each ended: acknowledged (acks=all), or why not by {@code deadline}.
     */
    List<Outcome> publish(Delivery delivery, Instant deadline) {
        byte[] message = delivery.message();
        String sha256 = MessageIdentity.sha256Hex(message);
        Instant receivedAt = clock.instant();
        // A send refused at once is an acknowledgement that failed: each recipient has one future.
        List<Future<RecordMetadata>> acknowledgements = new ArrayList<>();
        for (Recipient recipient : delivery.recipients()) {
            Envelope envelope = new Envelope(Envelope.VERSION, delivery.sender(), recipient.toString(),
                    delivery.originalRecipient(recipient), delivery.queueId(), delivery.clientAddress(), receivedAt,
                    message.length, sha256, HostName.get(), delivery.dsnRequest(recipient));
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(config.topic(),
                    recipient.withoutExtension(config.recipientDelimiter()).key().getBytes(StandardCharsets.UTF_8), message);
            record.headers().add(MailRecord.ENVELOPE_HEADER, envelope.toJson());
            if (!clock.instant().isBefore(deadline)) {
                // A send may wait for the brokers' metadata; once one has used up the time, none starts.
                acknowledgements.add(CompletableFuture.failedFuture(new DeliveryException(DeliveryStatus.KAFKA_UNAVAILABLE,
                        "no record sent to topic " + config.topic() + " within " + config.deadlineMs() + " ms")));
                continue;
            }
            try {
                acknowledgements.add(producer.send(record));
            } catch (RuntimeException e) {
                acknowledgements.add(CompletableFuture.failedFuture(e));
            }
        }
        List<Outcome> outcomes = new ArrayList<>();
        String brokersVerdict = null;
        for (Future<RecordMetadata> acknowledgement : acknowledgements) {
            DeliveryException failure = awaitBefore(acknowledgement, deadline);
            if (failure != null && failure.status() == DeliveryStatus.KAFKA_UNAVAILABLE) {
                brokersVerdict = brokersVerdict != null ? brokersVerdict : brokersVerdict();
                failure = new DeliveryException(failure.status(), brokersVerdict + "; " + failure.getMessage(), failure.getCause());
            }
            outcomes.add(new Outcome(failure));
        }
        return outcomes;
    }

    /**
     * What an operator needs to know first when Kafka did not answer: whether any broker accepts a
     * connection at all. The client's own words ("Topic ... not present in metadata") read like a
     * missing topic when the brokers are down.
     */
    private String brokersVerdict() {
        List<String> servers = config.bootstrapServers();
        return servers.stream().anyMatch(Ingest::acceptsConnections)
                ? "the brokers accept connections but did not answer in time"
                : "no broker accepts connections at " + String.join(",", servers);
    }

    private static boolean acceptsConnections(String hostAndPort) {
        try (Socket socket = new Socket()) {
            HostPort broker = HostPort.parse(hostAndPort);
            socket.connect(new InetSocketAddress(broker.host(), broker.port()), 300);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Null once acknowledged; the failure, or the deadline's passing, otherwise. */
    private DeliveryException awaitBefore(Future<RecordMetadata> acknowledgement, Instant deadline) {
        try {
            acknowledgement.get(Math.max(0, Duration.between(clock.instant(), deadline).toMillis()), TimeUnit.MILLISECONDS);
            return null;
        } catch (java.util.concurrent.TimeoutException e) {
            return new DeliveryException(DeliveryStatus.KAFKA_UNAVAILABLE,
                    "no acknowledgement from topic " + config.topic() + " within " + config.deadlineMs() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Failures.classify(e);
        } catch (Exception e) {
            return Failures.classify(e);
        }
    }

}
