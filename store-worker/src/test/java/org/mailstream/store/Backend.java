package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TempFiles;
import org.mailstream.local.TopicReader;

/**
 * One back end for a test: a real slapd with the shipped schema and access rules, a topic of
 * its own (on the shared broker unless a test brings its own) with its dead-letter topic, and the
 * configuration files that bin/store-worker and bin/ingest-cli read.
 */
final class Backend implements AutoCloseable {

    final KafkaCluster kafka;
    final Slapd slapd;
    final String topic;

    Backend(String topic, int partitions) {
        this(KafkaCluster.shared(), topic, partitions);
    }

    Backend(KafkaCluster kafka, String topic, int partitions) {
        this(kafka, topic, partitions, Slapd.start());
    }

    /** A back end on {@code slapd}, set up by the caller, which this back end closes. */
    Backend(KafkaCluster kafka, String topic, int partitions, Slapd slapd) {
        this.kafka = kafka;
        this.topic = topic;
        this.slapd = slapd;
        kafka.createTopic(topic, partitions, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of("max.message.bytes", "17000000"));
    }

    void addMailboxes(String... names) {
        for (String name : names) {
            slapd.addMailbox(name);
        }
    }

    /** A store-worker configuration for this back end, its own consumer group, and {@code overrides}. */
    Path workerConfig(Map<String, String> overrides) {
        return StoreWorkerProcess.config(kafka, topic, slapd, overrides);
    }

    Path workerConfig() {
        return workerConfig(Map.of());
    }

    Path ingestConfig() {
        return TempFiles.properties("ingest.properties", Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", topic));
    }

    /** Every stored message with all its attributes, read as the root DN. */
    List<SearchResultEntry> messages() {
        return slapd.messages("*");
    }

    int messageCount() {
        return slapd.messages("1.1").size();
    }

    /** Waits until exactly {@code count} messages are stored; fails showing {@code diagnostics} if not. */
    void awaitMessages(int count, Duration timeout, Supplier<String> diagnostics) {
        try {
            Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(200)).until(() -> messageCount() >= count);
        } catch (ConditionTimeoutException notAllInTime) {
            // the assertion below says how many there are
        }
        int seen = messageCount();
        if (seen != count) {
            fail("expected " + count + " stored messages, found " + seen + "\n" + diagnostics.get());
        }
    }

    /** Waits until consumer group {@code group} has committed the end of every partition of the topic. */
    void awaitCaughtUp(String group, Supplier<String> diagnostics) {
        awaitCaughtUp(kafka, topic, group, diagnostics);
    }

    /** Waits until consumer group {@code group} has committed the end of every partition of {@code topic}. */
    static void awaitCaughtUp(KafkaCluster kafka, String topic, String group, Supplier<String> diagnostics) {
        try (Admin admin = kafka.admin()) {
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetSpec> partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                        .get(10, TimeUnit.SECONDS).get(topic).partitions().stream()
                        .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
                Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(partitions).all().get(10, TimeUnit.SECONDS);
                assertTrue(ends.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
                        || (committed.containsKey(e.getKey()) && committed.get(e.getKey()).offset() >= e.getValue().offset())),
                        () -> "group " + group + " did not commit the end of " + topic + "\n" + diagnostics.get());
            });
        }
    }

    List<ConsumerRecord<byte[], byte[]>> deadLetters(int atLeast) {
        return TopicReader.read(kafka.fixtureServers(), topic + ".dlq", atLeast, Duration.ofSeconds(atLeast == 0 ? 2 : 30));
    }

    @Override
    public void close() {
        slapd.close();
    }
}
