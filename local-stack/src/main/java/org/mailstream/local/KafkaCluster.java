package org.mailstream.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.Uuid;
import org.awaitility.Awaitility;

/**
 * Real Kafka brokers in KRaft mode, each a separate JVM started from the Maven Central jars, in
 * a temporary directory, on free loopback ports; every node is broker and controller. One node
 * is the ordinary test broker, three make a replicated cluster for failure tests. Nodes are
 * stopped by pid: {@link #stop(int)} sends SIGTERM, {@link #kill(int)} SIGKILL.
 */
public final class KafkaCluster implements AutoCloseable {

    private static final String CLASSPATH_RESOURCE = "kafka-broker.classpath";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** For tests: short runs, where C2's compiling would cost more than it saves. */
    private static final List<String> TEST_JVM = List.of("-Xms64m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    /** As containers/kafka/kafka-start runs a node: both compilers, for a broker that runs for good. */
    private static final List<String> DEPLOYED_JVM = List.of("-Xms256m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError");

    private static KafkaCluster shared;

    private record Node(int id, int brokerPort, int controllerPort, Path properties) {
    }

    /**
     * A broker's TLS identity for its SASL_SSL listener: a PEM file holding its private key
     * (PKCS#8, unencrypted) and then its certificate chain.
     */
    public record Secured(Path keyAndCertificate) {
    }

    private final Path directory;
    private final List<Node> nodes;
    private final ManagedProcess[] processes;
    /** The plaintext listener that only the fixture uses, as a super user, once clients need SASL_SSL; 0 otherwise. */
    private final int internalPort;
    private final List<String> nodeJvm;

    private KafkaCluster(Path directory, List<Node> nodes, int internalPort, List<String> nodeJvm) {
        this.directory = directory;
        this.nodes = nodes;
        this.processes = new ManagedProcess[nodes.size()];
        this.internalPort = internalPort;
        this.nodeJvm = nodeJvm;
    }

    /**
     * One node whose clients must use SASL_SSL with SCRAM-SHA-512, under the standard authorizer
     * (no ACL, no access). {@link #admin()} administers it, as a super user, over a plaintext
     * listener on loopback that only this fixture uses: users with {@link #addScramUser}, rights
     * with {@link #allow}.
     */
    public static KafkaCluster startSecured(Secured tls) {
        try {
            Path directory = TempFiles.directory("kafka");
            Node node = new Node(1, FreePort.next(), FreePort.next(), directory.resolve("node-1.properties"));
            int internalPort = FreePort.next();
            Properties p = properties(node, "1@127.0.0.1:" + node.controllerPort(), directory.resolve("data-1"), 1);
            p.setProperty("listeners", "SASL_SSL://127.0.0.1:" + node.brokerPort() + ",INTERNAL://127.0.0.1:" + internalPort
                    + ",CONTROLLER://127.0.0.1:" + node.controllerPort());
            p.setProperty("advertised.listeners", "SASL_SSL://127.0.0.1:" + node.brokerPort() + ",INTERNAL://127.0.0.1:" + internalPort);
            p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_SSL:SASL_SSL");
            p.setProperty("inter.broker.listener.name", "INTERNAL");
            p.setProperty("sasl.enabled.mechanisms", "SCRAM-SHA-512");
            p.setProperty("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            p.setProperty("ssl.keystore.type", "PEM");
            p.setProperty("ssl.keystore.location", tls.keyAndCertificate().toString());
            p.setProperty("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            // The plaintext listeners, internal and controller, authenticate no one: only they are super.
            p.setProperty("super.users", "User:ANONYMOUS");
            store(p, node);
            KafkaCluster cluster = new KafkaCluster(directory, List.of(node), internalPort, TEST_JVM);
            cluster.format();
            cluster.startNode(1);
            cluster.awaitBrokers(1);
            return cluster;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start kafka", e);
        }
    }

    /** Adds (or changes) a SCRAM-SHA-512 user of a {@linkplain #startSecured secured} cluster. */
    public void addScramUser(String name, String password) {
        try (Admin admin = admin()) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(name,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot add SCRAM user " + name, e);
        }
    }

    /** Lets {@code user} do {@code operation} on the resource named {@code name} (a topic, a group). */
    public void allow(String user, ResourceType type, String name, AclOperation operation) {
        allow(user, type, PatternType.LITERAL, name, operation);
    }

    /** Lets {@code user} do {@code operation} on the resources {@code name} names as {@code pattern} says (LITERAL, PREFIXED). */
    public void allow(String user, ResourceType type, PatternType pattern, String name, AclOperation operation) {
        try (Admin admin = admin()) {
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(type, name, pattern),
                    new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW)))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot let " + user + " " + operation + " " + name, e);
        }
    }

    /** Starts {@code size} nodes and returns once all of them serve as brokers. */
    public static KafkaCluster start(int size) {
        return start(size, TEST_JVM);
    }

    /**
     * As {@link #start}, each node's JVM as the compose stack runs it: for a benchmark that
     * reports the broker's CPU a mail, which a test broker's compiler setting would overstate.
     */
    public static KafkaCluster startAsDeployed(int size) {
        return start(size, DEPLOYED_JVM);
    }

    private static KafkaCluster start(int size, List<String> nodeJvm) {
        try {
            Path directory = TempFiles.directory("kafka");
            List<Node> nodes = new ArrayList<>();
            for (int id = 1; id <= size; id++) {
                nodes.add(new Node(id, FreePort.next(), FreePort.next(), directory.resolve("node-" + id + ".properties")));
            }
            String voters = nodes.stream().map(n -> n.id() + "@127.0.0.1:" + n.controllerPort())
                    .collect(Collectors.joining(","));
            for (Node node : nodes) {
                writeProperties(node, voters, directory.resolve("data-" + node.id()), size);
            }
            KafkaCluster cluster = new KafkaCluster(directory, nodes, 0, nodeJvm);
            cluster.format();
            for (Node node : nodes) {
                cluster.startNode(node.id());
            }
            cluster.awaitBrokers(size);
            return cluster;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start kafka", e);
        }
    }

    /**
     * One single-node broker for every test of this JVM that does not stop or kill brokers:
     * started on first use, killed when the JVM exits. Tests keep apart by topic.
     */
    public static synchronized KafkaCluster shared() {
        if (shared == null) {
            shared = start(1);
        }
        return shared;
    }

    public String bootstrapServers() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.brokerPort()).collect(Collectors.joining(","));
    }

    /** Creates {@code topic} and waits until each partition has a leader. */
    public void createTopic(String topic, int partitions, int replicationFactor, Map<String, String> configs) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) replicationFactor).configs(configs)))
                    .all().get(30, TimeUnit.SECONDS);
            awaitLeaders(admin, topic);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + topic, e);
        }
    }

    /** Creates {@code topic} with partition {@code p} on the node {@code nodeIds.get(p)} only. */
    public void createTopicOnNodes(String topic, List<Integer> nodeIds, Map<String, String> configs) {
        Map<Integer, List<Integer>> assignment = IntStream.range(0, nodeIds.size()).boxed()
                .collect(Collectors.toMap(p -> p, p -> List.of(nodeIds.get(p))));
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, assignment).configs(configs))).all().get(30, TimeUnit.SECONDS);
            awaitLeaders(admin, topic);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + topic, e);
        }
    }

    /** Where the fixture itself connects with every right: the internal plaintext listener of a secured cluster. */
    public String fixtureServers() {
        return internalPort == 0 ? bootstrapServers() : "127.0.0.1:" + internalPort;
    }

    /** An admin client with every right, on {@link #fixtureServers()}. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, fixtureServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000));
    }

    /** SIGKILL to node {@code id}'s pid: a crash, no controlled shutdown. */
    public void kill(int id) {
        processes[id - 1].kill();
    }

    /** SIGSTOP to node {@code id}'s pid: it hangs, its connections open and silent. */
    public void pause(int id) {
        processes[id - 1].pause();
    }

    /** SIGCONT to node {@code id}'s pid after {@link #pause(int)}. */
    public void resume(int id) {
        processes[id - 1].resume();
    }

    /** SIGTERM to node {@code id}'s pid, SIGKILL if it has not stopped within 30 s. */
    public void stop(int id) {
        processes[id - 1].stop(Duration.ofSeconds(30));
    }

    /** Starts node {@code id} again, on the same ports and data, and waits until it listens. */
    public void restart(int id) {
        startNode(id);
        awaitListening(nodes.get(id - 1));
    }

    public long pid(int id) {
        return processes[id - 1].pid();
    }

    /**
     * SIGTERM to every node at once, then SIGKILL to any still running after 10 s: a node left
     * without a controller quorum would otherwise wait long for a controlled shutdown, so such a
     * kill is expected and, unlike {@link ManagedProcess#stop}'s, not reported.
     */
    @Override
    public void close() {
        List<ManagedProcess> running = java.util.Arrays.stream(processes).filter(p -> p != null && p.isAlive()).toList();
        running.forEach(ManagedProcess::requestStop);
        running.stream().filter(p -> !p.awaitExit(Duration.ofSeconds(10))).forEach(ManagedProcess::kill);
        Chores.deleteRecursively(directory);
    }

    /** The class path of the broker and of Kafka's own tools, as the build resolved it. */
    public static String classPath() {
        try (InputStream in = KafkaCluster.class.getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(CLASSPATH_RESOURCE + " missing: build local-stack with Maven");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The java of this JVM, so that brokers and tools run on the JDK the build uses. */
    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static void writeProperties(Node node, String voters, Path data, int size) throws IOException {
        store(properties(node, voters, data, size), node);
    }

    private static Properties properties(Node node, String voters, Path data, int size) {
        int replication = Math.min(3, size);
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", Integer.toString(node.id()));
        p.setProperty("controller.quorum.voters", voters);
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + node.brokerPort() + ",CONTROLLER://127.0.0.1:" + node.controllerPort());
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + node.brokerPort());
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
        p.setProperty("log.dirs", data.toString());
        p.setProperty("offsets.topic.replication.factor", Integer.toString(replication));
        p.setProperty("offsets.topic.num.partitions", "3");
        p.setProperty("transaction.state.log.replication.factor", Integer.toString(replication));
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        // As in production: the topic is created on purpose, with sizes fit for mail.
        p.setProperty("auto.create.topics.enable", "false");
        return p;
    }

    private static void store(Properties p, Node node) throws IOException {
        try (var out = Files.newBufferedWriter(node.properties())) {
            p.store(out, "mailstream test broker " + node.id());
        }
    }

    private void format() {
        String clusterId = Uuid.randomUuid().toString();
        List<ManagedProcess> formatting = new ArrayList<>();
        for (Node node : nodes) {
            formatting.add(launch("kafka format " + node.id(), TEST_JVM,
                    List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", node.properties().toString()),
                    directory.resolve("format-" + node.id() + ".log")));
        }
        for (ManagedProcess format : formatting) {
            if (format.exitStatus() != 0) {
                throw new IllegalStateException("formatting failed:\n" + format.logTail());
            }
        }
    }

    private void startNode(int id) {
        Node node = nodes.get(id - 1);
        processes[id - 1] = launch("kafka node " + id, nodeJvm, List.of("kafka.Kafka", node.properties().toString()),
                directory.resolve("node-" + id + ".log"));
    }

    private static ManagedProcess launch(String name, List<String> jvm, List<String> mainAndArgs, Path log) {
        List<String> argv = new ArrayList<>(List.of(javaExecutable()));
        argv.addAll(jvm);
        argv.addAll(List.of("-Djava.awt.headless=true", "-cp", classPath()));
        argv.addAll(mainAndArgs);
        return ManagedProcess.start(name, argv, log);
    }

    private void awaitBrokers(int count) {
        nodes.forEach(this::awaitListening);
        try (Admin admin = admin()) {
            processes[0].awaitReady(START_TIMEOUT, () -> registeredBrokers(admin) == count);
        }
    }

    /** How many brokers the cluster lists now; 0 while it is still electing a controller. */
    private static int registeredBrokers(Admin admin) {
        try {
            return admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
        } catch (Exception notYet) {
            return 0;
        }
    }

    private void awaitListening(Node node) {
        processes[node.id() - 1].awaitReady(START_TIMEOUT, () -> FreePort.isListening(node.brokerPort()));
    }

    private static void awaitLeaders(Admin admin, String topic) {
        Awaitility.await("leaders for every partition of " + topic).atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                // A topic just created can be unknown to the broker's metadata for a moment.
                .ignoreExceptionsMatching(e -> e.getCause() instanceof UnknownTopicOrPartitionException)
                .until(() -> admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic)
                        .partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
    }


}
