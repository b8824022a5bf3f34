package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.local.Command;
import org.mailstream.local.LmtpClient;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.TopicReader;
import org.mailstream.testsupport.SecureKafka;

/**
 * bin/ingest-cli and bin/ingest-lmtpd against a broker that takes only SASL_SSL (SCRAM-SHA-512)
 * under the standard authorizer, the password read through Kafka's file config provider: the
 * principal with WRITE on the topic delivers; a wrong password and a principal without WRITE
 * defer (75, 451) with a line that says so, never a bounce.
 */
class KafkaSecurityIT {

    private static final String TOPIC = "secure-mail";
    private static SecureKafka kafka;

    @TempDir
    Path directory;

    @BeforeAll
    static void start() {
        kafka = SecureKafka.start();
        kafka.cluster().createTopic(TOPIC, 3, 1, Map.of("max.message.bytes", "11000000"));
        kafka.cluster().addScramUser("ingest", "ingest-secret");
        kafka.cluster().addScramUser("stranger", "stranger-secret");
        kafka.cluster().allow("ingest", ResourceType.TOPIC, TOPIC, AclOperation.WRITE);
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void thePrincipalWithWriteDeliversThroughThePipeCommandAndTheLmtpServer() throws Exception {
        Command.Result piped = ingestCli(settings("ingest", "ingest-secret"), "piped@secure.example", MailCorpus.message("Piped", "x\r\n"));
        assertEquals(0, piped.exitCode(), piped.toString());

        try (LmtpdProcess server = LmtpdProcess.start(settings("ingest", "ingest-secret"));
             LmtpClient client = new LmtpClient(server.port())) {
            client.begin("sender@example.org", "lmtp@secure.example");
            client.send("DATA\r\n").reply();
            List<String> replies = client.send(MailCorpus.message("Over LMTP", "y\r\n")).send(".\r\n").replies(1);
            assertEquals("250 2.0.0 delivered", replies.get(0), server.log());
        }
        assertEquals(2, TopicReader.read(kafka.cluster().fixtureServers(), TOPIC, 2, Duration.ofSeconds(30)).size());
    }

    @Test
    void aWrongPasswordDefersWithALineThatSaysAuthenticationFailed() throws Exception {
        Command.Result run = ingestCli(settings("ingest", "not-the-secret"), "wrong@secure.example", MailCorpus.message("Wrong", "x\r\n"));

        assertEquals(75, run.exitCode(), run.toString());
        assertTrue(run.stdout().startsWith("4.") && run.stdout().contains("Authentication failed"), run.toString());
    }

    @Test
    void aPrincipalWithoutWriteDefersOverBothFrontEndsSayingItIsNotAuthorized() throws Exception {
        Command.Result run = ingestCli(settings("stranger", "stranger-secret"), "denied@secure.example", MailCorpus.message("Denied", "x\r\n"));
        assertEquals(75, run.exitCode(), run.toString());
        assertTrue(run.stdout().contains("Not authorized to access topics: [" + TOPIC + "]"), run.toString());

        try (LmtpdProcess server = LmtpdProcess.start(settings("stranger", "stranger-secret"));
             LmtpClient client = new LmtpClient(server.port())) {
            client.begin("sender@example.org", "denied@secure.example");
            client.send("DATA\r\n").reply();
            String reply = client.send(MailCorpus.message("Denied over LMTP", "y\r\n")).send(".\r\n").replies(1).get(0);
            assertTrue(reply.startsWith("451 4.") && reply.contains("Not authorized to access topics: [" + TOPIC + "]"), reply);
        }
    }

    @Test
    void theCheckPassesWithOnlyWriteSayingItCannotReadTheTopicsSettings() throws Exception {
        Path config = configFile(settings("ingest", "ingest-secret"));
        ByteArrayOutputStream output = new ByteArrayOutputStream();

        int status = IngestCli.run(new String[] {"check", "-c", config.toString()}, new ByteArrayInputStream(new byte[0]),
                new PrintStream(output, true, StandardCharsets.UTF_8));

        String said = output.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, said);
        assertTrue(said.contains("ok    topic " + TOPIC + ": the principal may WRITE"), said);
        assertTrue(said.contains("warn  topic " + TOPIC + ": its settings are not readable, so not checked"), said);
    }

    private Map<String, String> settings(String user, String password) {
        Map<String, String> settings = new HashMap<>(kafka.clientSettings(user, password));
        settings.put("topic", TOPIC);
        settings.put("deadline.ms", "10000");
        return settings;
    }

    private Command.Result ingestCli(Map<String, String> settings, String recipient, byte[] mail) throws Exception {
        return Command.of(List.of(Command.repositoryRoot().resolve("bin/ingest-cli").toString(), "-c", configFile(settings).toString(),
                "-f", "sender@example.org", "-d", recipient)).run(mail, Duration.ofSeconds(60));
    }

    private Path configFile(Map<String, String> settings) throws Exception {
        StringBuilder properties = new StringBuilder();
        settings.forEach((key, value) -> properties.append(key).append('=').append(value.replace("\\", "\\\\")).append('\n'));
        return Files.writeString(Files.createTempFile(directory, "ingest", ".properties"), properties);
    }
}
