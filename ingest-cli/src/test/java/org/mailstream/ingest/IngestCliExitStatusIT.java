package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.awaitility.Awaitility;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.TempFiles;
import org.mailstream.local.TopicReader;

/** Each way a delivery can end, provoked for real, and the status Postfix would act on. */
class IngestCliExitStatusIT {

    private static final String TOPIC = "exit-status";
    private static final byte[] GOOD = MailCorpus.message("good", "fine\r\n");
    private static KafkaCluster kafka;

    @BeforeAll
    static void broker() {
        kafka = KafkaCluster.shared();
        kafka.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
    }

    @Test
    void aMalformedHeaderSectionBouncesWith560AndPublishesNothing() {
        Command.Result result = IngestCliProcess.run(config(), "From alice Wed Nov 25\nSubject: x\n\nbody\n"
                .getBytes(StandardCharsets.US_ASCII), "-d", "malformed@example.com");

        assertFailure(result, 65, "5.6.0 ");
        assertTrue(result.stdout().contains("header line 1"), result::toString);
        assertTrue(TopicReader.read(kafka.bootstrapServers(), TOPIC, 0, Duration.ofSeconds(2)).stream()
                .noneMatch(r -> new String(r.key(), StandardCharsets.UTF_8).equals("malformed@example.com")));
    }

    @Test
    void anEmptyMessageBouncesWith560() {
        assertFailure(IngestCliProcess.run(config(), new byte[0], "-d", "empty@example.com"), 65, "5.6.0 ");
    }

    @Test
    void aMessageOverTheSizeLimitBouncesWith523() {
        Path small = config(Map.of("max.message.bytes", "4096"));
        assertEquals(0, IngestCliProcess.run(small, MailCorpus.ofSize(4096, 1), "-d", "limit@example.com").exitCode());

        Command.Result result = IngestCliProcess.run(small, MailCorpus.ofSize(4097, 1), "-d", "limit@example.com");

        assertFailure(result, 65, "5.2.3 ");
        assertTrue(result.stdout().contains("4096"), result::toString);
    }

    @Test
    void noRecipientIsAUsageErrorThatDefers() {
        assertFailure(IngestCliProcess.run(config(), GOOD, "-f", "alice@example.org"), 75, "4.3.5 command line usage error: -d RECIPIENT");
    }

    @Test
    void anUnknownOptionIsAUsageErrorThatDefers() {
        assertFailure(IngestCliProcess.run(config(), GOOD, "-z", "-d", "bob@example.com"), 75, "4.3.5 command line usage error: ");
    }

    @Test
    void aSyntacticallyInvalidRecipientBouncesWith513AndCannotForgeASecondLine() {
        Command.Result result = IngestCliProcess.run(config(), GOOD, "-d", "bob\r\n250 ok@example.com");

        assertFailure(result, 67, "5.1.3 ");
        assertTrue(result.stdout().contains("\\x0d\\x0a"), result::toString);
    }

    @Test
    void aMissingConfigurationFileDefersWith75() {
        Command.Result result = IngestCliProcess.run(Path.of("/nonexistent/ingest.properties"), GOOD, "-d", "bob@example.com");

        assertFailure(result, 75, "4.3.5 ");
    }

    @Test
    void anUnreadableConfigurationDefersWith75() throws Exception {
        Path directory = TempFiles.directory("not-a-file");

        assertFailure(IngestCliProcess.run(directory, GOOD, "-d", "bob@example.com"), 75, "4.3.5 ");
    }

    @Test
    void anInvalidConfigurationValueDefersWith75AndNamesTheKey() {
        Command.Result result = IngestCliProcess.run(config(Map.of("deadline.ms", "soon")), GOOD, "-d", "bob@example.com");

        assertFailure(result, 75, "4.3.5 ");
        assertTrue(result.stdout().contains("deadline.ms"), result::toString);
    }

    @Test
    void aConfigurationWithoutBrokersDefersWith75() {
        Path empty = IngestCliProcess.config(Map.of("topic", TOPIC));

        assertFailure(IngestCliProcess.run(empty, GOOD, "-d", "bob@example.com"), 75, "4.3.5 ");
    }

    @Test
    void aConfigurationThatWeakensAcknowledgementIsRefusedWith75() {
        Command.Result result = IngestCliProcess.run(config(Map.of("kafka.acks", "1")), GOOD, "-d", "bob@example.com");

        assertFailure(result, 75, "4.3.5 ");
        assertTrue(result.stdout().contains("kafka.acks"), result::toString);
    }

    @Test
    void aMissingTopicDefersWith75WithinTheDeadline() {
        Path config = config(Map.of("topic", "no-such-topic", "deadline.ms", "3000"));

        Command.Result result = IngestCliProcess.run(config, GOOD, "-d", "bob@example.com");

        assertFailure(result, 75, "4.");
        assertTrue(result.elapsed().toMillis() < 3000 + 1500, result::toString);
    }

    @Test
    void aTopicWhoseSizeLimitIsBelowOursDefersWith435InsteadOfBouncing() {
        kafka.createTopic("too-small", 1, 1, Map.of("max.message.bytes", "20000"));
        Path config = config(Map.of("topic", "too-small"));

        Command.Result result = IngestCliProcess.run(config, MailCorpus.ofSize(50_000, 4), "-d", "bob@example.com");

        assertFailure(result, 75, "4.3.5 ");
        assertTrue(result.stdout().contains("RecordTooLargeException"), result::toString);
    }

    @Test
    void aStoppedBrokerDefersWith75WithinTheDeadline() {
        Path config;
        try (KafkaCluster stopped = KafkaCluster.start(1)) {
            config = IngestCliProcess.config(Map.of("kafka.bootstrap.servers", stopped.bootstrapServers(),
                    "topic", TOPIC, "deadline.ms", "3000"));
            stopped.stop(1);

            Command.Result result = IngestCliProcess.run(config, GOOD, "-d", "bob@example.com");

            assertFailure(result, 75, "4.4.1 kafka unavailable: no broker accepts connections at " + stopped.bootstrapServers() + "; ");
            assertTrue(result.elapsed().toMillis() < 3000 + 1500, result::toString);
        }
    }

    @Test
    void aBrokerThatHangsDuringTheDeliveryDefersWith75WithinTheDeadline() {
        try (KafkaCluster hanging = KafkaCluster.start(1)) {
            hanging.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
            Path config = IngestCliProcess.config(Map.of("kafka.bootstrap.servers", hanging.bootstrapServers(),
                    "topic", TOPIC, "deadline.ms", "3000"));
            hanging.pause(1);
            try {
                Command.Result result = IngestCliProcess.run(config, GOOD, "-d", "bob@example.com");

                assertFailure(result, 75, "4.4.1 kafka unavailable: ");
                assertTrue(result.elapsed().toMillis() < 3000 + 1500, result::toString);
            } finally {
                hanging.resume(1);
            }
        }
    }

    @Test
    void runningOutOfMemoryDefersWith75() throws Exception {
        Path launch = IngestCliProcess.LAUNCHER.getParent().getParent().resolve("ingest-cli/target/launch");
        String java = Files.readString(launch.resolve("java")).strip();
        byte[] nineMegabytes = MailCorpus.ofSize(9_000_000, 2);

        Command.Result result = Command.likePipe(Command.argv(java, "@" + launch.resolve("jvm.args"), "-Xmx12m",
                "org.mailstream.ingest.IngestCli", "-c", config(), "-d", "oom@example.com"))
                .run(nineMegabytes, Duration.ofSeconds(60));

        assertFailure(result, 75, "4.3.1 ");
    }

    @Test
    void anInstalledCopyWhoseJarChangedSinceTheInstallStepRunsWithoutTheStaleArchiveAndDelivers() throws Exception {
        Path prefix = TempFiles.directory("installed");
        Command.Result installed = Command.of(Command.argv(Command.repositoryRoot().resolve("bin/install-ingest-cli"), prefix))
                .run(new byte[0], Duration.ofSeconds(60));
        assertEquals(0, installed.exitCode(), installed::toString);
        Path launcher = prefix.resolve("bin/ingest-cli");
        assertTrue(argumentFileOfARunning(launcher).endsWith("/jvm.args"), "an intact installation uses its archive");

        Path jar = prefix.resolve("ingest-cli/target/ingest-cli.jar");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));

        assertTrue(argumentFileOfARunning(launcher).endsWith("/jvm-plain.args"), "a changed jar runs without it");
        Command.Result delivered = Command.likePipe(Command.argv(launcher, "-c", config(), "-d", "changed@example.com"))
                .run(GOOD, Duration.ofSeconds(60));
        assertEquals(0, delivered.exitCode(), delivered::toString);
    }

    /** The @-file the java that {@code launcher} executes reads its options from, seen in /proc while it waits for input. */
    private String argumentFileOfARunning(Path launcher) throws Exception {
        Process process = new ProcessBuilder(launcher.toString(), "-c", config().toString(), "-d", "waiting@example.com").start();
        try {
            Path cmdline = Path.of("/proc", Long.toString(process.pid()), "cmdline");
            return Awaitility.await().atMost(Duration.ofSeconds(30)).until(
                    () -> new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).split("\0"),
                    argv -> List.of(argv).contains("org.mailstream.ingest.IngestCli"))
                    [1].substring(1);
        } finally {
            process.destroyForcibly().waitFor();
        }
    }

    @Test
    void helpPrintsTheManualPageMadeFromTheDeclarations() {
        Command.Result result = Command.likePipe(List.of(IngestCliProcess.LAUNCHER.toString(), "--help"))
                .run(new byte[0], Duration.ofSeconds(30));

        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(IngestCli.COMMAND.manual(), result.stdout(), result::toString);
        for (String key : IngestConfig.DEFINITION.names()) {
            assertTrue(result.stdout().contains("`" + key + "`"), key + " in " + result);
        }
    }

    private static Path config() {
        return config(Map.of());
    }

    private static Path config(Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC));
        settings.putAll(overrides);
        return IngestCliProcess.config(settings);
    }

    /** Postfix reads exactly one line, starting with the enhanced status code. */
    private static void assertFailure(Command.Result result, int exitCode, String codePrefix) {
        assertEquals(exitCode, result.exitCode(), result::toString);
        assertTrue(result.stdout().startsWith(codePrefix), result::toString);
        assertEquals(1, result.stdout().lines().count(), result::toString);
        assertEquals("", result.stderr(), result::toString);
    }
}
