package org.mailstream.testsupport;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;

/**
 * Demo: the pipeline on embedded defaults, as bin/demo runs it. Starts a private Kafka broker,
 * pipes sample mails through the real bin/ingest-cli as Postfix's pipe(8) would (bare
 * environment, one process per delivery), shows each exit status, then reads the topic back.
 *
 * <p>Usage: {@code Demo REPOSITORY_ROOT}, after bin/install. Exit status 0 when every good mail
 * was published and read back unchanged, 1 otherwise.
 */
public final class Demo {

    private record Sample(String recipient, String name, byte[] message) {
    }

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(Path.of(args[0]).resolve("bin/ingest-cli")) ? 0 : 1);
    }

    private static boolean run(Path launcher) throws Exception {
        Map<String, byte[]> corpus = MailCorpus.awkward();
        List<Sample> samples = List.of(
                new Sample("bob@example.com", "plain", corpus.get("plain")),
                new Sample("bob@example.com", "eight-bit", corpus.get("eight-bit")),
                new Sample("alice@Example.COM", "long-line", corpus.get("long-line")),
                new Sample("carol@example.com", "attachment-9.5MB", corpus.get("attachment-9.5MB")),
                new Sample("carol@example.com", "malformed", "no header here\n\nbody\n".getBytes(StandardCharsets.US_ASCII)));

        System.out.println("Starting a private Kafka broker ...");
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            kafka.createTopic(MailRecord.DEFAULT_TOPIC, 3, 1, Map.of("max.message.bytes", "10551296"));
            Path config = Files.createTempFile("ingest", ".properties");
            Files.writeString(config, "kafka.bootstrap.servers=" + kafka.bootstrapServers() + "\n");
            System.out.println("Broker at " + kafka.bootstrapServers() + ", topic " + MailRecord.DEFAULT_TOPIC + "\n");

            int published = 0;
            for (Sample sample : samples) {
                Command.Result result = Command.likePipe(Command.argv(launcher, "-c", config, "-f", "sender@example.org",
                        "-q", "DEMO" + published, "-d", sample.recipient())).run(sample.message(), Duration.ofSeconds(90));
                System.out.printf("bin/ingest-cli -d %-18s < %-17s exit %2d  %4d ms  %s%n", sample.recipient(), sample.name(),
                        result.exitCode(), result.elapsed().toMillis(), result.stdout().strip());
                published += result.exitCode() == 0 ? 1 : 0;
            }
            Files.delete(config);

            List<ConsumerRecord<byte[], byte[]>> records = TopicReader.read(kafka.bootstrapServers(), MailRecord.DEFAULT_TOPIC,
                    published, Duration.ofSeconds(30));
            System.out.printf("%nRead back from %s:%n%-9s %-18s %9s  %-12s  %-8s %s%n", MailRecord.DEFAULT_TOPIC,
                    "partition", "key", "octets", "id", "queue id", "intact");
            boolean intact = records.size() == published;
            for (ConsumerRecord<byte[], byte[]> record : records) {
                Envelope envelope = Envelope.fromJson(record.headers().lastHeader(MailRecord.ENVELOPE_HEADER).value());
                boolean same = samples.stream().anyMatch(s -> java.util.Arrays.equals(s.message(), record.value()));
                intact &= same;
                System.out.printf("%-9d %-18s %9d  %-12s  %-8s %s%n", record.partition(), new String(record.key(), StandardCharsets.UTF_8),
                        record.value().length, envelope.sha256().substring(0, 12), envelope.queueId(), same ? "yes" : "NO");
            }
            System.out.println(intact
                    ? "\nEvery accepted mail is in Kafka byte for byte; the malformed one was refused with 5.6.0."
                    : "\nSomething was lost or changed: see above.");
            System.out.println("Storing into LDAP (store-worker) is the next step of the project.");
            return intact;
        }
    }
}
