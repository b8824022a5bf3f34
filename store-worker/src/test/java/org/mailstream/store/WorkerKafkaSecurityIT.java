package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.testsupport.SecureKafka;

/**
 * bin/store-worker against a broker that takes only SASL_SSL (SCRAM-SHA-512) under the standard
 * authorizer, with docs/kafka.md's ACLs: the principal with READ on the topic, READ on every group
 * whose name starts with the configured group.id (each back end's group, and redrive's), and
 * WRITE on the dead-letter topic stores as back end a; one without READ exits 78 saying Kafka
 * refused it.
 */
class WorkerKafkaSecurityIT {

    private final SecureKafka kafka = SecureKafka.start();
    private final Backend backend = new Backend(kafka.cluster(), "secure-store", 2);

    @AfterEach
    void stop() {
        backend.close();
        kafka.close();
    }

    @Test
    void aBackEndsWorkerWithTheDocumentedRightsStoresAndPassesItsCheckOverSaslSslAndOneWithoutReadExits78SayingSo() throws Exception {
        kafka.cluster().addScramUser("worker", "worker-secret");
        kafka.cluster().addScramUser("stranger", "stranger-secret");
        kafka.cluster().allow("worker", ResourceType.TOPIC, backend.topic, AclOperation.READ);
        kafka.cluster().allow("worker", ResourceType.GROUP, PatternType.PREFIXED, backend.topic + "-store", AclOperation.READ);
        kafka.cluster().allow("worker", ResourceType.TOPIC, backend.topic + ".dlq", AclOperation.WRITE);
        backend.addMailboxes("bob");
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            mails.add(Map.entry("bob@example.com", MailCorpus.message("secure " + i, "x\r\n")));
        }
        mails.add(Map.entry("nobody@example.com", MailCorpus.message("dead letter", "x\r\n")));
        try (MailPublisher publisher = new MailPublisher(kafka.cluster().fixtureServers(), backend.topic)) {
            publisher.publish(mails);
        }

        try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(settings("worker", "worker-secret")))) {
            backend.awaitMessages(20, Duration.ofSeconds(60), worker::log);
            assertEquals(1, backend.deadLetters(1).size(), "the dead letter written over SASL_SSL\n" + worker.log());
        }

        Run check = run("check", "-c", backend.workerConfig(settings("worker", "worker-secret")).toString());
        assertEquals(WorkerExit.CHECKED.code(), check.status(), "the check passes with only the rights storing needs\n" + check.output());
        assertTrue(check.output().contains("ok    topic " + backend.topic + ": the principal may READ"), check.output());
        assertTrue(check.output().contains("ok    group " + backend.topic + "-store-a: the principal may READ"), check.output());

        Run stranger = run("-c", backend.workerConfig(settings("stranger", "stranger-secret")).toString());
        assertEquals(WorkerExit.CONFIG.code(), stranger.status(), stranger.output());
        assertTrue(stranger.output().contains("store-worker: Kafka refused the principal of ") && stranger.output().contains("Not authorized"),
                stranger.output());
    }

    private record Run(int status, String output) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int status = StoreWorker.run(args, new PrintStream(output, true, StandardCharsets.UTF_8));
        return new Run(status, output.toString(StandardCharsets.UTF_8));
    }

    /** {@code user}'s credentials, storing as back end a of one, whose group is GROUP-a. */
    private Map<String, String> settings(String user, String password) {
        Map<String, String> settings = new HashMap<>(kafka.clientSettings(user, password));
        settings.putAll(Map.of("backend", "a", "routing.backends", "a"));
        return settings;
    }
}
