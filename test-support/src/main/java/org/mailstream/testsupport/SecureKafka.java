package org.mailstream.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.mailstream.local.Chores;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.TestCertificates;

/**
 * A Kafka broker as a security-minded operator runs it: clients on SASL_SSL with SCRAM-SHA-512,
 * the standard authorizer, principals holding only the rights given them; and the kafka.* lines
 * of our configuration files for one principal, its password read through Kafka's file config
 * provider from a file of its own, never written in the configuration.
 */
public final class SecureKafka implements AutoCloseable {

    private final TestCertificates certificates;
    private final KafkaCluster cluster;
    private final Path secrets;

    private SecureKafka(TestCertificates certificates, KafkaCluster cluster, Path secrets) {
        this.certificates = certificates;
        this.cluster = cluster;
        this.secrets = secrets;
    }

    public static SecureKafka start() {
        TestCertificates certificates = TestCertificates.create();
        try {
            return new SecureKafka(certificates, KafkaCluster.startSecured(new KafkaCluster.Secured(certificates.serverKeyAndCertificate())),
                    Files.createTempDirectory("kafka-secrets"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public KafkaCluster cluster() {
        return cluster;
    }

    /**
     * The kafka.* settings with which a client authenticates as {@code user} with {@code password}:
     * the password goes into a file of its own, mode 0600, which the configuration names.
     */
    public Map<String, String> clientSettings(String user, String password) {
        try {
            Path secret = Files.createTempFile(secrets, user, ".properties");
            Files.writeString(secret, "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                    + "username=\"" + user + "\" password=\"" + password + "\";\n");
            Files.setPosixFilePermissions(secret, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            return Map.of("kafka.bootstrap.servers", cluster.bootstrapServers(),
                    "kafka.security.protocol", "SASL_SSL",
                    "kafka.sasl.mechanism", "SCRAM-SHA-512",
                    "kafka.ssl.truststore.type", "PEM",
                    "kafka.ssl.truststore.location", certificates.authority().toString(),
                    "kafka.config.providers", "file",
                    "kafka.config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider",
                    "kafka.sasl.jaas.config", "${file:" + secret + ":sasl.jaas.config}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        cluster.close();
        Chores.deleteRecursively(secrets);
    }
}
