package org.mailstream.soak;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.ManagedProcess;
import org.mailstream.local.Postfix;
import org.mailstream.local.Slapd;

/**
 * The pipeline the soak runs, every part a real process on loopback: three Kafka brokers (the
 * topic with three replicas, min.insync.replicas 2), two back ends "a" and "b" of two slapd
 * providers each, two store-workers per back end, ingest-lmtpd on a unix socket, and Postfix with
 * the shipped LMTP configuration, its ldap: table asking back end a's providers. Every mailbox
 * owner is in both directories; each mailbox is pinned to one back end (routing.pins), so that
 * the checker knows where each mail belongs.
 */
final class SoakStack implements AutoCloseable {

    static final String TOPIC = "mail.inbound";
    static final List<String> BACKENDS = List.of("a", "b");
    /** Mailbox address to the back end it is pinned to. */
    static final Map<String, String> MAILBOXES = mailboxes(8);
    private static final int WORKERS_PER_BACKEND = 2;

    final Path directory;
    final KafkaCluster kafka;
    final Map<String, List<Slapd>> providers = new LinkedHashMap<>();
    final Map<String, List<ManagedProcess>> workers = new LinkedHashMap<>();
    final LmtpdProcess lmtpd;
    final Postfix postfix;
    private final Map<String, Path> workerConfigs = new LinkedHashMap<>();
    private final AtomicInteger workersStarted = new AtomicInteger();

    private SoakStack(Path directory) throws IOException {
        this.directory = directory;
        kafka = KafkaCluster.start(3);
        kafka.createTopic(TOPIC, 6, 3, Map.of("min.insync.replicas", "2", "max.message.bytes", "11000000"));
        kafka.createTopic(TOPIC + ".dlq", 1, 3, Map.of("min.insync.replicas", "2", "max.message.bytes", "17000000"));
        for (String backend : BACKENDS) {
            List<Slapd> group = Slapd.startProviders(2);
            providers.put(backend, group);
            MAILBOXES.keySet().forEach(address -> group.get(0).addMailbox(address.substring(0, address.indexOf('@'))));
            workerConfigs.put(backend, workerConfig(backend, group));
            workers.put(backend, new ArrayList<>());
            for (int i = 0; i < WORKERS_PER_BACKEND; i++) {
                startWorker(backend);
            }
        }
        // lmtp(8) runs as the postfix user: it must reach the socket's directory and the socket.
        Path sockets = Files.createDirectories(directory.resolve("lmtp"));
        Files.setPosixFilePermissions(sockets, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = sockets.resolve("mailstream-lmtp");
        lmtpd = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC,
                "deadline.ms", "15000", "lmtp.listen", "unix:" + socket, "lmtp.socket.group", "postfix"));
        postfix = Postfix.startLmtp(providers.get("a"), socket);
    }

    static SoakStack start(Path directory) {
        try {
            return new SoakStack(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the soak's stack", e);
        }
    }

    /** Starts one more store-worker of {@code backend}, logging into the soak's directory. */
    ManagedProcess startWorker(String backend) {
        int number = workersStarted.incrementAndGet();
        ManagedProcess worker = ManagedProcess.start("store-worker " + backend + "#" + number,
                List.of(Command.repositoryRoot().resolve("bin/store-worker").toString(), "-c", workerConfigs.get(backend).toString()),
                directory.resolve("store-worker-" + backend + "-" + number + ".log"));
        workers.get(backend).add(worker);
        return worker;
    }

    private Path workerConfig(String backend, List<Slapd> group) throws IOException {
        Path password = directory.resolve("store-worker.password");
        if (!Files.exists(password)) {
            Files.createFile(password, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(password, Slapd.SERVICE_PASSWORD + "\n");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        settings.put("topic", TOPIC);
        settings.put("backend", backend);
        settings.put("routing.backends", String.join(",", BACKENDS));
        settings.put("routing.pins", MAILBOXES.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(",")));
        settings.put("ldap.urls", group.stream().map(Slapd::url).collect(Collectors.joining(",")));
        settings.put("ldap.bind.dn", Slapd.SERVICE_DN);
        settings.put("ldap.bind.password.file", password.toString());
        settings.put("ldap.base.dn", Slapd.PEOPLE);
        // Bounces would go to this host's own mail system.
        settings.put("bounce.command", "");
        settings.put("ldap.response.timeout.ms", "10000");
        settings.put("retry.backoff.max.ms", "2000");
        // A killed worker's partitions go to its peer after the broker's shortest session, not 45 s.
        settings.put("kafka.session.timeout.ms", "6000");
        settings.put("kafka.heartbeat.interval.ms", "2000");
        String text = settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n", "", "\n"));
        return Files.writeString(directory.resolve("store-worker-" + backend + ".properties"), text);
    }

    /** box1@example.com on a, box2@example.com on b, and so on. */
    private static Map<String, String> mailboxes(int count) {
        Map<String, String> mailboxes = new LinkedHashMap<>();
        for (int i = 1; i <= count; i++) {
            mailboxes.put("box" + i + "@example.com", BACKENDS.get((i - 1) % BACKENDS.size()));
        }
        return Map.copyOf(mailboxes);
    }

    @Override
    public void close() {
        postfix.close();
        lmtpd.close();
        workers.values().forEach(list -> list.forEach(worker -> worker.stop(Duration.ofSeconds(30))));
        providers.values().forEach(group -> group.forEach(Slapd::close));
        kafka.close();
    }
}
