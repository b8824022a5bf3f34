package org.mailstream.distribution;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.mailstream.local.Command;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;

/**
 * LauncherSetup: the last step of bin/install. Writes what bin/ingest-cli starts:
 * {@code ingest-cli/target/launch/java}, the JVM, and {@code jvm.args}, its options and class
 * path, with a class-data archive recorded from one real delivery to a temporary broker: the AOT
 * cache where a JDK 25 or later is installed, AppCDS on an older one. A JDK can be named with the
 * environment variable MAILSTREAM_JAVA_HOME.
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
     * C1 only with one compiler thread, the serial collector and no perf data: for a process that
     * lives a tenth of a second these start fastest (measured: bin/bench-ingest). Logging is off
     * because the JVM's own warnings, for instance about a stale archive, would reach the DSN.
     */
    private static final List<String> JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
            "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xmx256m", "-Xlog:disable");

    private static final String MAIN_CLASS = "org.mailstream.ingest.IngestCli";

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
        Path target = root.resolve("ingest-cli/target");
        Path launch = Files.createDirectories(target.resolve("launch"));
        Path jdk = chooseJdk();
        boolean aotCache = featureVersion(jdk) >= 25;
        Path java = linkRuntime(jdk, launch.resolve("runtime"));
        Files.deleteIfExists(launch.resolve("ingest-cli.aot"));
        Files.deleteIfExists(launch.resolve("ingest-cli.jsa"));
        Path archive = launch.resolve(aotCache ? "ingest-cli.aot" : "ingest-cli.jsa");

        List<String> jars = classPath(target);
        List<String> options = new ArrayList<>(JVM_OPTIONS);
        options.add("-cp");
        options.add(String.join(File.pathSeparator, jars));
        Files.writeString(launch.resolve("java"), java + "\n");
        writeArgs(launch.resolve("jvm-plain.args"), options);
        writeArgs(launch.resolve("jvm.args"), options);
        writeStamp(launch, jars);

        String recordFlag = aotCache ? "-XX:AOTCacheOutput=" + archive : "-XX:ArchiveClassesAtExit=" + archive;
        List<String> strictUse = aotCache ? List.of("-XX:AOTMode=on", "-XX:AOTCache=" + archive)
                : List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive);
        Optional<String> failure = train(java, options, launch, recordFlag, strictUse);
        if (failure.isPresent()) {
            System.err.println("bin/install: no class-data archive, bin/ingest-cli will start slowly: " + failure.get());
            return;
        }
        options.add(0, aotCache ? "-XX:AOTCache=" + archive : "-XX:SharedArchiveFile=" + archive);
        writeArgs(launch.resolve("jvm.args"), options);
        System.out.printf("bin/ingest-cli runs %s with %s %s (%d MB)%n", java, aotCache ? "the AOT cache" : "the AppCDS archive",
                archive, Files.size(archive) >> 20);
    }

    /** Records the archive from a real delivery, then proves the JVM accepts it. */
    private static Optional<String> train(Path java, List<String> options, Path launch, String recordFlag,
                                          List<String> strictUse) throws IOException {
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            kafka.createTopic("mail.inbound", 1, 1, Map.of("max.message.bytes", "11000000"));
            Path config = launch.resolve("training.properties");
            Properties properties = new Properties();
            properties.setProperty("kafka.bootstrap.servers", kafka.bootstrapServers());
            try (var out = Files.newBufferedWriter(config)) {
                properties.store(out, "used once by bin/install to record the class-data archive");
            }
            byte[] message = MailCorpus.message("training", "recorded by bin/install\r\n");
            List<String> delivery = List.of(MAIN_CLASS, "-c", config.toString(), "-f", "install@example.org",
                    "-q", "TRAINING", "-d", "training@example.com");
            for (List<String> flags : List.of(List.of(recordFlag), strictUse)) {
                Command.Result result = Command.likePipe(Command.argv(java, flags, options, delivery))
                        .run(message, Duration.ofSeconds(60));
                if (result.exitCode() != 0) {
                    return Optional.of(result.toString());
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of(e.toString());
        } finally {
            Files.deleteIfExists(launch.resolve("training.properties"));
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

    /** An explicit, ordered list of jars: a class-data archive is valid for one class path only. */
    private static List<String> classPath(Path target) throws IOException {
        List<String> jars = new ArrayList<>();
        jars.add(target.resolve("ingest-cli.jar").toString());
        try (Stream<Path> lib = Files.list(target.resolve("lib"))) {
            lib.map(Path::toString).filter(name -> name.endsWith(".jar")).sorted().forEach(jars::add);
        }
        return jars;
    }

    /**
     * The jars, one a line (classpath.list), and their modification time and size as
     * {@code stat -c '%Y %s'} prints them (classpath.stamp): bin/ingest-cli compares the two and runs
     * without the archive when a jar changed since, because JDK 25's AOT cache does not check
     * (seen: a rebuilt jar of the same size ran its old classes).
     */
    private static void writeStamp(Path launch, List<String> jars) throws IOException {
        List<String> stamps = new ArrayList<>();
        for (String jar : jars) {
            Path file = Path.of(jar);
            stamps.add(Files.getLastModifiedTime(file).to(TimeUnit.SECONDS) + " " + Files.size(file));
        }
        Files.writeString(launch.resolve("classpath.list"), String.join("\n", jars) + "\n");
        Files.writeString(launch.resolve("classpath.stamp"), String.join("\n", stamps) + "\n");
    }

    /** One argument a line, quoted as the java launcher's @-files expect. */
    private static void writeArgs(Path file, List<String> options) throws IOException {
        StringBuilder text = new StringBuilder("# written by bin/install; read by bin/ingest-cli\n");
        options.forEach(option -> text.append('"').append(option.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n"));
        Files.writeString(file, text.toString());
    }
}
