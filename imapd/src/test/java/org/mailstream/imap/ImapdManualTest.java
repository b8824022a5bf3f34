package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.server.ServerKeys;
import org.mailstream.testsupport.DocumentedReference;
import org.mailstream.testsupport.SampleConfiguration;

/** imapd's declarations, its manual and docs/imapd.md agree; its configuration refuses what it cannot serve. */
class ImapdManualTest {

    private static final Map<String, String> MINIMAL = Map.of("ldap.urls", "ldap://127.0.0.1:389", "ldap.base.dn",
            "ou=people,dc=example,dc=com");

    @TempDir
    Path directory;

    @Test
    void itsDocumentHoldsTheOptionsExitStatusesAndConfigurationAsDeclared() {
        DocumentedReference.assertDocumentsOptions("docs/imapd.md", Imapd.COMMAND);
        DocumentedReference.assertDocumentsExitStatuses("docs/imapd.md", Imapd.COMMAND);
        DocumentedReference.assertDocuments("docs/imapd.md", ImapConfig.DEFINITION);
    }

    @Test
    void theShippedSampleConfigurationDocumentsEveryDeclaredKey() {
        SampleConfiguration.assertDocuments(ImapConfig.DEFINITION, "imapd.properties");
    }

    @Test
    void helpPrintsTheDeclaredManualWithEveryConfigurationKey() {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        assertEquals(0, Imapd.run(new String[] {"--help"}, new PrintStream(output, true, StandardCharsets.UTF_8)));
        String manual = output.toString(StandardCharsets.UTF_8);
        assertEquals(Imapd.COMMAND.manual(), manual);
        ImapConfig.DEFINITION.names().forEach(key -> assertTrue(manual.contains("``" + key + "``"), key));
    }

    @Test
    void aMissingConfigurationFileExits78SayingSo() {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int status = Imapd.run(new String[] {"-c", directory.resolve("absent.properties").toString()},
                new PrintStream(output, true, StandardCharsets.UTF_8));
        assertEquals(78, status);
        assertTrue(output.toString(StandardCharsets.UTF_8).contains("absent.properties: no such file"), output.toString());
    }

    @Test
    void aBareInstallationNeedsOnlyTheDirectoryAndListensOnLoopback() throws Exception {
        Path file = Files.writeString(directory.resolve("imapd.properties"),
                "ldap.urls=ldap://127.0.0.1:389\nldap.base.dn=ou=people,dc=example,dc=com\n");
        ImapConfig config = ImapConfig.load(file);
        assertEquals(List.of(ServerKeys.Listen.parse("inet:127.0.0.1:143")), config.server().listeners());
    }

    @Test
    void aKafkaKeyIsRefusedForImapdHasNoKafkaClient() {
        ConfigException refused = assertThrows(ConfigException.class, () -> ImapConfig.of(with("kafka.bootstrap.servers", "k:9092")));
        assertTrue(refused.getMessage().contains("kafka.bootstrap.servers"), refused.getMessage());
    }

    @Test
    void aBaseThatIsNoDnAndAnLdapsUrlWithoutLdapsTransportAreRefusedNamingTheirKey() {
        ConfigException notADn = assertThrows(ConfigException.class, () -> ImapConfig.of(with("ldap.base.dn", "people")));
        assertTrue(notADn.getMessage().startsWith("ldap.base.dn: "), notADn.getMessage());
        ConfigException ldaps = assertThrows(ConfigException.class, () -> ImapConfig.of(with("ldap.urls", "ldaps://127.0.0.1:636")));
        assertTrue(ldaps.getMessage().startsWith("ldap.urls: "), ldaps.getMessage());
    }

    private static Map<String, String> with(String key, String value) {
        Map<String, String> settings = new HashMap<>(MINIMAL);
        settings.put(key, value);
        return settings;
    }
}
