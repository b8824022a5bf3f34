package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.mailstream.server.ServerKeys;
import org.mailstream.server.ServerSettings;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.testsupport.DocumentedReference;
import org.mailstream.testsupport.SampleConfiguration;

/** ingest-lmtpd's declarations, its manual and docs/ingest.md agree; its configuration refuses what would lose mail. */
class IngestLmtpdManualTest {

    private static final Map<String, String> MINIMAL = Map.of("kafka.bootstrap.servers", "127.0.0.1:9092");

    @TempDir
    Path directory;

    @Test
    void itsDocumentHoldsTheOptionsExitStatusesAndConfigurationAsDeclared() {
        DocumentedReference.assertDocumentsOptions("docs/ingest.md", IngestLmtpd.COMMAND);
        DocumentedReference.assertDocumentsExitStatuses("docs/ingest.md", IngestLmtpd.COMMAND);
        DocumentedReference.assertDocuments("docs/ingest.md", LmtpConfig.DEFINITION);
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
        assertTrue(refused.getMessage().contains("lmtp.listen: item 1 is neither unix:/absolute/path nor inet:host:port"),
                refused.getMessage());
    }

    @Test
    void aListenerWithoutAHostExits78NamingTheKey() throws Exception {
        Path config = directory.resolve("no-host.properties");
        Files.writeString(config, "kafka.bootstrap.servers=127.0.0.1:9\nlmtp.listen=inet:8025\n");
        Run run = run("-c", config.toString());
        assertEquals(78, run.status(), run.output());
        assertTrue(run.output().contains("lmtp.listen: item 1 is neither unix:/absolute/path nor inet:host:port"), run.output());
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
        ServerSettings server = LmtpConfig.of(MINIMAL).server();
        assertEquals(List.of(new ServerKeys.Listen.Unix(Path.of("/var/spool/postfix/mailstream/lmtp"))), server.listeners());
        assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(server.socketMode()));
    }

    @Test
    void xforwardIsBelievedFromAUnixSocketAndFromTheListedNetworksOnly() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        assertTrue(LmtpConfig.of(MINIMAL).xforwardAllowed(null));
        assertFalse(LmtpConfig.of(MINIMAL).xforwardAllowed(loopback));
        assertTrue(LmtpConfig.of(with("lmtp.xforward.allow", "127.0.0.1/32")).xforwardAllowed(loopback));
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
