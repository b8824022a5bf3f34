package org.mailstream.directory;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LdapTransportTest {

    private static final ConfigDef DEFINITION = LdapTransport.define(new ConfigDef()
            .define("ldap.urls", Type.LIST, Importance.HIGH, "providers"));

    @Test
    void aMissingAuthorityFileAndOneWithNoCertificateAreRefusedWhenTheConfigurationIsRead(@TempDir Path directory) throws IOException {
        Path notPem = Files.writeString(directory.resolve("ca.pem"), "not a certificate\n");
        for (String caFile : new String[] {directory.resolve("missing.pem").toString(), notPem.toString()}) {
            ConfigException refused = assertThrows(ConfigException.class,
                    () -> transport(Map.of("ldap.urls", "ldap://ldap.example.com", "ldap.tls", "starttls", "ldap.tls.ca.file", caFile)));
            assertTrue(refused.getMessage().startsWith("ldap.tls.ca.file: "), refused.getMessage());
        }
    }

    @Test
    void anLdapsUrlNeedsLdapsTransportAndLdapsTransportNeedsLdapsUrls() {
        ConfigException clear = assertThrows(ConfigException.class, () -> transport(Map.of("ldap.urls", "ldaps://ldap.example.com")));
        assertTrue(clear.getMessage().contains("needs ldap.tls=ldaps"), clear.getMessage());
        assertThrows(ConfigException.class, () -> transport(Map.of("ldap.urls", "ldap://ldap.example.com", "ldap.tls", "ldaps")));
        assertTrue(transport(Map.of("ldap.urls", "ldaps://ldap.example.com", "ldap.tls", "ldaps")).secured());
        assertFalse(transport(Map.of("ldap.urls", "ldap://ldap.example.com")).secured());
    }

    private static LdapTransport transport(Map<String, String> settings) {
        return LdapTransport.of(new AbstractConfig(DEFINITION, new HashMap<>(settings)), "ldap.urls");
    }
}
