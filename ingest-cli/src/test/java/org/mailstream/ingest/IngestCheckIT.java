package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.local.KafkaCluster;

/** ingest-cli check and ingest-lmtpd check against a real broker, with the topic as docs/kafka.md sizes it and then wrong. */
class IngestCheckIT {

    private final KafkaCluster kafka = KafkaCluster.shared();
    private final String topic = "check-" + System.nanoTime();

    @TempDir
    Path directory;

    @Test
    void aTopicSizedAsTheDocsSayPassesBothFrontEndsChecks() throws Exception {
        kafka.createTopic(topic, 3, 1, Map.of("max.message.bytes", "11000000"));
        Path config = config();

        for (Run run : new Run[] {cli("check", "-c", config.toString()), lmtpd("check", "-c", config.toString())}) {
            assertEquals(0, run.status(), run.output());
            assertTrue(run.output().contains("ok    topic " + topic + ": 3 partitions, replication factor 1, min.insync.replicas 1, "
                    + "max.message.bytes 11000000"), run.output());
            assertTrue(run.output().contains("ok    topic " + topic + ": the principal may WRITE"), run.output());
            assertTrue(run.output().contains("ok    topic " + topic + ": max.message.bytes 11000000 takes the largest message accepted "
                    + "(10485760) with its envelope"), run.output());
        }
    }

    @Test
    void aTopicTooSmallForTheLargestMessageAcceptedFails() throws Exception {
        kafka.createTopic(topic, 1, 1, Map.of());

        Run run = cli("check", "-c", config().toString());

        assertEquals(78, run.status(), run.output());
        assertTrue(run.output().contains("FAIL  topic " + topic + ": max.message.bytes 1048588 cannot take the largest message accepted "
                + "(max.message.bytes 10485760) with its envelope"), run.output());
    }

    @Test
    void aMissingTopicFailsNamingIt() throws Exception {
        Run run = lmtpd("check", "-c", config().toString());

        assertEquals(78, run.status(), run.output());
        assertTrue(run.output().contains("FAIL  topic " + topic + ": UnknownTopicOrPartitionException"), run.output());
    }

    private Path config() throws Exception {
        return Files.writeString(directory.resolve("ingest.properties"),
                "kafka.bootstrap.servers=" + kafka.bootstrapServers() + "\ntopic=" + topic + "\n");
    }

    private record Run(int status, String output) {
    }

    private static Run cli(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = IngestCli.run(args, new ByteArrayInputStream(new byte[0]), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }

    private static Run lmtpd(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = IngestLmtpd.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }
}
