package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A session opens the back end's pool, the dead-letter producer and the consumer together, or none of them. */
class StoreSessionTest {

    @TempDir
    Path directory;

    @Test
    void aConsumerThatCannotBeBuiltLeavesNoLdapConnectionOrProducerBehind() throws Exception {
        InMemoryDirectoryServerConfig serverConfig = new InMemoryDirectoryServerConfig("dc=example,dc=com");
        serverConfig.setListenerConfigs(InMemoryListenerConfig.createLDAPConfig("ldap", 0));
        serverConfig.addAdditionalBindCredentials("cn=store-worker,dc=example,dc=com", "worker-secret");
        InMemoryDirectoryServer server = new InMemoryDirectoryServer(serverConfig);
        server.startListening();
        try {
            Path password = Files.writeString(directory.resolve("password"), "worker-secret\n");
            // The producer ignores a consumer's key; the consumer refuses this value.
            StoreConfig config = StoreConfig.of(Map.of("kafka.bootstrap.servers", "127.0.0.1:9", "kafka.auto.offset.reset", "sideways",
                    "ldap.urls", "ldap://127.0.0.1:" + server.getListenPort(), "ldap.bind.dn", "cn=store-worker,dc=example,dc=com",
                    "ldap.bind.password.file", password.toString(), "ldap.base.dn", "dc=example,dc=com"));

            assertThrows(KafkaException.class, () -> new StoreSession(config, "mail.inbound", "g", RecordStorer.WhenStored.KEEP,
                    config.metricsListen(), true));

            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                List<String> left = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                        .filter(name -> name.contains("kafka-producer-network-thread") || name.contains("Connection reader")
                                || name.startsWith("pool-"))
                        .toList();
                assertEquals(List.of(), left);
            });
        } finally {
            server.shutDown(true);
        }
    }
}
