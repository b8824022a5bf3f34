package org.mailstream.benchmarks;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mailstream.local.Command;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.TempFiles;

/**
 * IngestBenchmark: what one delivery costs. Publishes the same 4 KB mail to the same private
 * broker with bin/ingest-cli, kcat -P and Kafka's ConsoleProducer, one process per message as
 * Postfix's pipe(8) runs them, and prints the median wall and CPU (user + system) time per
 * invocation side by side. CPU time comes from the shell's {@code times} for its child.
 *
 * <p>Usage: {@code IngestBenchmark REPOSITORY_ROOT RUNS [INSTALLED_RELEASE]}; needs bin/install and kcat. With
 * an installed release (prepare-ingest-cli run), its ingest-cli is measured too.
 */
public final class IngestBenchmark {

    private static final String TOPIC = "bench";
    private static final Pattern CHILD_TIMES = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$");
    private static final Duration WALL_GOAL = Duration.ofMillis(100);
    private static final Duration CPU_GOAL = Duration.ofMillis(120);

    private record Figures(String name, long wallMs, long cpuMs) {
    }

    private IngestBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int runs = Integer.parseInt(args[1]);
        Path work = TempFiles.directory("bench-ingest");
        byte[] mail = MailCorpus.ofSize(4096, 7);
        Path mailFile = Files.write(work.resolve("mail.eml"), mail);
        // ConsoleProducer sends one record per line: give it the same octets on one line.
        Path oneLine = Files.write(work.resolve("mail-one-line.txt"),
                new String(mail, StandardCharsets.US_ASCII).replace("\r\n", "  ").getBytes(StandardCharsets.US_ASCII));

        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            kafka.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "10551296"));
            String brokers = kafka.bootstrapServers();
            Path config = Files.writeString(work.resolve("ingest.properties"),
                    "kafka.bootstrap.servers=" + brokers + "\ntopic=" + TOPIC + "\n");
            String launched = Files.readString(root.resolve("ingest-cli/target/launch/jvm.args")).contains("-XX:AOTCache=")
                    ? "AOT cache" : Files.readString(root.resolve("ingest-cli/target/launch/jvm.args")).contains("SharedArchiveFile")
                    ? "AppCDS" : "no archive";
            System.out.printf("%d runs each after 2 warm-up runs; 4,096-octet mail; broker %s; %s%n", runs, brokers,
                    "bin/ingest-cli on " + Files.readString(root.resolve("ingest-cli/target/launch/java")).strip() + " with " + launched);

            List<Figures> figures = new ArrayList<>();
            figures.add(measure("kcat -P (acks=all)", runs, mailFile, List.of("kcat", "-P", "-b", brokers, "-t", TOPIC,
                    "-k", "bob@example.com", "-X", "acks=all", "-X", "enable.idempotence=true", mailFile.toString())));
            figures.add(measure("bin/ingest-cli", runs, mailFile, List.of(root.resolve("bin/ingest-cli").toString(),
                    "-c", config.toString(), "-f", "alice@example.org", "-d", "bob@example.com")));
            if (args.length > 2) {
                Path release = Path.of(args[2]);
                String java = Files.readString(release.resolve("lib/ingest-cli/launch/java")).strip();
                figures.add(measure("release on " + java.replaceAll(".*/jvm/([^/]+)/.*", "$1"), runs, mailFile,
                        List.of(release.resolve("bin/ingest-cli").toString(), "-c", config.toString(), "-f", "alice@example.org",
                                "-d", "bob@example.com")));
            }
            figures.add(measure("ConsoleProducer (acks=all)", runs, oneLine, List.of(KafkaCluster.javaExecutable(), "-cp",
                    KafkaCluster.classPath(), "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server", brokers,
                    "--topic", TOPIC, "--command-property", "acks=all")));
            figures.add(measure("bin/ingest-cli --help (JVM, no Kafka)", runs, mailFile,
                    List.of(root.resolve("bin/ingest-cli").toString(), "--help")));

            long kcatWall = Math.max(1, figures.get(0).wallMs());
            System.out.printf("%n%-40s %12s %12s %14s%n", "per invocation (median)", "wall ms", "CPU ms", "wall vs kcat");
            for (Figures f : figures) {
                System.out.printf("%-40s %12d %12d %13.1fx%n", f.name(), f.wallMs(), f.cpuMs(), (double) f.wallMs() / kcatWall);
            }
            Figures ingest = figures.get(1);
            System.out.printf("%nGoal for bin/ingest-cli: at most %d ms wall and %d ms CPU: wall %s, CPU %s.%n",
                    WALL_GOAL.toMillis(), CPU_GOAL.toMillis(),
                    ingest.wallMs() <= WALL_GOAL.toMillis() ? "met" : "NOT met",
                    ingest.cpuMs() <= CPU_GOAL.toMillis() ? "met" : "NOT met");
        } finally {
            Chores.deleteRecursively(work);
        }
    }

    private static Figures measure(String name, int runs, Path stdin, List<String> argv) {
        List<Long> wall = new ArrayList<>();
        List<Long> cpu = new ArrayList<>();
        List<String> timed = new ArrayList<>(List.of("bash", "-c", "\"$@\" < " + quoted(stdin) + " > /dev/null 2>&1 || exit 99; times", "timed"));
        timed.addAll(argv);
        for (int i = 0; i < runs + 2; i++) {
            Command.Result result = Command.of(timed).run(new byte[0], Duration.ofSeconds(60));
            if (result.exitCode() != 0) {
                throw new IllegalStateException(name + " failed:\n" + result);
            }
            Matcher times = CHILD_TIMES.matcher(result.stdout().strip());
            if (!times.find()) {
                throw new IllegalStateException("no child times from bash:\n" + result);
            }
            if (i >= 2) {
                wall.add(result.elapsed().toMillis());
                cpu.add(Math.round(1000 * (Integer.parseInt(times.group(1)) * 60 + Double.parseDouble(times.group(2))
                        + Integer.parseInt(times.group(3)) * 60 + Double.parseDouble(times.group(4)))));
            }
        }
        return new Figures(name, Ranks.median(wall), Ranks.median(cpu));
    }

    private static String quoted(Path path) {
        return "'" + path.toString().replace("'", "'\\''") + "'";
    }
}
