package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.testsupport.ReadmeReference;
import org.mailstream.testsupport.SampleConfiguration;

/** ingest-lmtpd's declarations, its manual and the README agree; its configuration refuses what would lose mail. */
class IngestLmtpdManualTest {

    private static final Map<String, String> MINIMAL = Map.of("kafka.bootstrap.servers", "127.0.0.1:9092");

    @TempDir
    Path directory;

    @Test
    void theReadmeHoldsTheOptionsExitStatusesAndConfigurationAsDeclared() {
        ReadmeReference.assertReadmeDocumentsOptions(IngestLmtpd.COMMAND);
        ReadmeReference.assertReadmeDocumentsExitStatuses(IngestLmtpd.COMMAND);
        ReadmeReference.assertReadmeDocuments(LmtpConfig.DEFINITION);
    }

    @Test
    void theShippedSampleConfigurationDocumentsEveryDeclaredKey() {
        SampleConfiguration.assertDocuments(LmtpConfig.DEFINITION, "ingest-lmtpd.properties");
    }

    @Test
    void helpPrintsTheDeclaredManualWithEveryConfigurationKey() {
        Run run = run("--help");
        assertEquals(0, run.status());
        assertEquals(IngestLmtpd.COMMAND.manual(), run.output());
        LmtpConfig.DEFINITION.names().forEach(key -> assertTrue(run.output().contains("``" + key + "``"), key));
    }

    @Test
    void aMissingConfigurationFileExits78SayingSo() {
        Run run = run("-c", directory.resolve("absent.properties").toString());
        assertEquals(78, run.status());
        assertTrue(run.output().contains("absent.properties: no such file"), run.output());
    }

    @Test
    void aListenerThatIsNeitherUnixNorInetIsRefusedNamingIt() {
        ConfigException refused = assertThrows(ConfigException.class, () -> LmtpConfig.of(with("lmtp.listen", "tcp:127.0.0.1:24")));
        assertTrue(refused.getMessage().contains("'tcp:127.0.0.1:24' is neither unix:/absolute/path nor inet:host:port"),
                refused.getMessage());
    }

    @Test
    void anAllowListEntryThatIsAHostNameIsRefused() {
        assertThrows(ConfigException.class, () -> LmtpConfig.of(with("lmtp.allow", "mx.example.com/32")));
    }

    @Test
    void aDeadlineThatPostfixWouldOutwaitIsRefused() {
        ConfigException refused = assertThrows(ConfigException.class, () -> LmtpConfig.of(with("deadline.ms", "500000")));
        assertTrue(refused.getMessage().contains("lmtp_data_done_timeout"), refused.getMessage());
    }

    @Test
    void theDefaultsListenOnASocketInPostfixsQueueDirectoryForItsOwnerAndGroupOnly() {
        LmtpConfig config = LmtpConfig.of(MINIMAL);
        assertEquals(List.of(new LmtpConfig.Listen.Unix(Path.of("/var/spool/postfix/mailstream/lmtp"))), config.listeners());
        assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(config.socketMode()));
    }

    @Test
    void theAllowListHoldsExactlyItsNetworks() throws Exception {
        LmtpConfig.Network loopback = LmtpConfig.Network.parse("127.0.0.0/8");
        assertTrue(loopback.contains(java.net.InetAddress.getByName("127.1.2.3")));
        assertTrue(!loopback.contains(java.net.InetAddress.getByName("128.0.0.1")));
        assertTrue(!loopback.contains(java.net.InetAddress.getByName("::1")));
        assertTrue(LmtpConfig.Network.parse("::1/128").contains(java.net.InetAddress.getByName("::1")));
    }

    private static Map<String, String> with(String key, String value) {
        Map<String, String> settings = new HashMap<>(MINIMAL);
        settings.put(key, value);
        return settings;
    }

    private record Run(int status, String output) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = IngestLmtpd.run(args, new PrintStream(out, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8));
    }
}
