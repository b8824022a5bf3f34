package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.TopicReader;

/** Three brokers, each test on a fresh cluster because each test kills some of them. */
class ReplicatedClusterIT {

    private static final String TOPIC = "replicated";
    private KafkaCluster kafka;

    @BeforeEach
    void cluster() {
        kafka = KafkaCluster.start(3);
    }

    @AfterEach
    void stopCluster() {
        kafka.close();
    }

    @Test
    void withOneOfThreeBrokersKilledEveryCallExits0AndEveryMessageIsReadable() {
        kafka.createTopic(TOPIC, 3, 3, Map.of("min.insync.replicas", "2", "max.message.bytes", "11000000"));
        // The default deadline: a crashed leader keeps its partitions until the controller fences
        // it (broker.session.timeout.ms, 9 s by default), and the deadline must outlast that.
        Path config = config(IngestConfig.DEFINITION.defaultValues().get(IngestConfig.DEADLINE_MS).toString());
        kafka.kill(1);

        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            byte[] message = MailCorpus.message("survivor " + i, "body " + i + "\r\n");
            Command.Result result = IngestCliProcess.run(config, message, "-d", "user" + i + "@example.com");
            assertEquals(0, result.exitCode(), result::toString);
            sent.add(message);
        }

        List<ConsumerRecord<byte[], byte[]>> records = TopicReader.read(kafka.bootstrapServers(), TOPIC, sent.size(), Duration.ofSeconds(30));
        assertEquals(sent.size(), records.size());
        for (int i = 0; i < sent.size(); i++) {
            String key = "user" + i + "@example.com";
            ConsumerRecord<byte[], byte[]> record = records.stream()
                    .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals(key)).findFirst().orElseThrow();
            assertArrayEquals(sent.get(i), record.value());
        }
    }

    @Test
    void withTwoOfThreeBrokersKilledACallDefersWith75() {
        kafka.createTopic(TOPIC, 3, 3, Map.of("min.insync.replicas", "2", "max.message.bytes", "11000000"));
        Path config = config("5000");
        kafka.kill(1);
        kafka.kill(2);

        Command.Result result = IngestCliProcess.run(config, MailCorpus.message("lost quorum", "x\r\n"), "-d", "bob@example.com");

        assertEquals(75, result.exitCode(), result::toString);
        assertTrue(result.stdout().startsWith("4."), result::toString);
        assertTrue(result.elapsed().toMillis() < 5000 + 1500, result::toString);
    }

    @Test
    void whenOneRecipientsRecordCannotBeAcknowledgedTheWholeCallDefers() {
        // Partition p lives on node p+1 alone, so killing node 3 makes partition 2 unwritable.
        kafka.createTopicOnNodes(TOPIC, List.of(1, 2, 3), Map.of("max.message.bytes", "11000000"));
        List<String> recipients = List.of(recipientInPartition(0), recipientInPartition(1), recipientInPartition(2));
        Path config = config("5000");
        assertEquals(0, IngestCliProcess.run(config, MailCorpus.message("all up", "x\r\n"), argv(recipients)).exitCode());
        kafka.kill(3);

        Command.Result result = IngestCliProcess.run(config, MailCorpus.message("one down", "x\r\n"), argv(recipients));

        assertEquals(75, result.exitCode(), result::toString);
        assertTrue(result.stdout().startsWith("4."), result::toString);
    }

    private Path config(String deadlineMs) {
        return IngestCliProcess.config(new HashMap<>(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                "topic", TOPIC, "deadline.ms", deadlineMs)));
    }

    /** A recipient whose key Kafka's default partitioner puts into {@code partition} of three. */
    private static String recipientInPartition(int partition) {
        for (int i = 0; ; i++) {
            String recipient = "user" + i + "@example.com";
            if (BuiltInPartitioner.partitionForKey(recipient.getBytes(StandardCharsets.UTF_8), 3) == partition) {
                return recipient;
            }
        }
    }

    private static String[] argv(List<String> recipients) {
        List<String> argv = new ArrayList<>(List.of("-d"));
        argv.addAll(recipients);
        return argv.toArray(String[]::new);
    }
}
