package org.mailstream.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.mailstream.local.Command;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;

/**
 * LauncherSetup: the last step of bin/install. Links the JVM bin/ingest-cli runs and has
 * bin/prepare-ingest-cli record its class-data archive from one real delivery to a temporary
 * broker: the AOT cache where a JDK 25 or later is installed, AppCDS on an older one. A JDK can
 * be named with the environment variable MAILSTREAM_JAVA_HOME. (The release archive runs
 * prepare-ingest-cli on its own at install time, on the system's JVM and without a broker.)
 *
 * <p>The JVM is a runtime linked with jlink from that JDK with only the modules ingest-cli can
 * need ({@link #RUNTIME_MODULES}): without jdk.management the platform MBean server, which the
 * Kafka client starts to register one MBean, costs half as much (measured: bin/bench-ingest).
 *
 * <p>Usage: {@code LauncherSetup REPOSITORY_ROOT}. Exit status 0 also when no archive could be
 * built (the launcher then works, only slower); 1 when the launcher could not be set up at all.
 */
public final class LauncherSetup {

    /**
     * What the Kafka client may use: JMX (it registers an MBean), SASL and Kerberos with their
     * JNDI look-ups, elliptic-curve TLS, and sun.misc.Unsafe for the compression codecs.
     */
    private static final List<String> RUNTIME_MODULES = List.of("java.base", "java.management", "java.naming",
            "java.security.sasl", "java.security.jgss", "jdk.crypto.ec", "jdk.unsupported");

    private LauncherSetup() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]).toAbsolutePath();
        Path launch = Files.createDirectories(root.resolve("ingest-cli/target/launch"));
        Path java = linkRuntime(chooseJdk(), launch.resolve("runtime"));
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            kafka.createTopic("mail.inbound", 1, 1, Map.of("max.message.bytes", "11000000"));
            Path config = launch.resolve("training.properties");
            Files.writeString(config, "kafka.bootstrap.servers=" + kafka.bootstrapServers() + "\n");
            Command.Result prepared = Command.of(Command.argv(root.resolve("bin/prepare-ingest-cli"), "--java", java,
                    "--training-config", config, "--expect", "0")).run(new byte[0], Duration.ofMinutes(5));
            Files.delete(config);
            System.out.print(prepared.stdout());
            System.err.print(prepared.stderr());
            if (prepared.exitCode() != 0) {
                System.exit(1);
            }
        }
    }

    private static Path chooseJdk() {
        String named = System.getenv("MAILSTREAM_JAVA_HOME");
        if (named != null && !named.isBlank()) {
            return Path.of(named);
        }
        Path running = Path.of(System.getProperty("java.home"));
        try (Stream<Path> installed = Files.list(Path.of("/usr/lib/jvm"))) {
            return Stream.concat(installed, Stream.of(running))
                    .filter(home -> Files.isExecutable(home.resolve("bin/java")) && featureVersion(home) > 0)
                    .max(Comparator.comparingInt(LauncherSetup::featureVersion))
                    .orElse(running);
        } catch (IOException noJvmDirectory) {
            return running;
        }
    }

    /** The java of a runtime linked from {@code jdk}, or the JDK's own java where it has no jlink. */
    private static Path linkRuntime(Path jdk, Path runtime) {
        Chores.deleteRecursively(runtime);
        Path jlink = jdk.resolve("bin/jlink");
        if (!Files.isExecutable(jlink)) {
            return jdk.resolve("bin/java");
        }
        List<String> argv = new ArrayList<>(List.of(jlink.toString(), "--add-modules", String.join(",", RUNTIME_MODULES),
                "--strip-debug", "--no-header-files", "--no-man-pages", "--output", runtime.toString()));
        if (featureVersion(jdk) < 25) {
            argv.add("--generate-cds-archive"); // AppCDS's dynamic archive needs the base archive
        }
        Command.Result linked = Command.of(argv).run(new byte[0], Duration.ofMinutes(5));
        if (linked.exitCode() != 0) {
            System.err.println("bin/install: jlink failed, bin/ingest-cli runs on the whole JDK:\n" + linked);
            return jdk.resolve("bin/java");
        }
        return runtime.resolve("bin/java");
    }

    /** The feature version a JDK's release file names (17, 25, ...), or 0. */
    private static int featureVersion(Path javaHome) {
        try {
            Matcher version = Pattern.compile("JAVA_VERSION=\"(\\d+)").matcher(Files.readString(javaHome.resolve("release")));
            return version.find() ? Integer.parseInt(version.group(1)) : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
