package org.mailstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** What every command's configuration refuses and lets through, whatever its own keys. */
class DeclaredConfigTest {

    private static final class Producing extends DeclaredConfig {
        Producing(Map<String, String> settings) {
            super(sharedDefinition().define("topic", ConfigDef.Type.STRING, "t", ConfigDef.Importance.HIGH, "a key of ours")
                    .define("count", ConfigDef.Type.INT, 1, ConfigDef.Importance.LOW, "a number of ours"),
                    settings, ProducerConfig.configNames());
        }
    }

    @Test
    void anUnknownKeyOfOursIsRefusedNamingIt() {
        ConfigException refused = assertThrows(ConfigException.class,
                () -> new Producing(Map.of(DeclaredConfig.BOOTSTRAP_SERVERS, "b:9092", "topik", "x")));
        assertTrue(refused.getMessage().contains("topik"), refused.getMessage());
    }

    @Test
    void aMisspeltKafkaSettingIsRefusedNamingIt() {
        ConfigException refused = assertThrows(ConfigException.class,
                () -> new Producing(Map.of(DeclaredConfig.BOOTSTRAP_SERVERS, "b:9092", "kafka.lingr.ms", "5")));
        assertTrue(refused.getMessage().contains("'lingr.ms' is not a setting of the Kafka client"), refused.getMessage());
    }

    @Test
    void aRefusalNamesTheKeyAndNeverItsValueForAMisspeltSecretOrAValueOfTheWrongType() {
        ConfigException misspelt = assertThrows(ConfigException.class,
                () -> new Producing(Map.of(DeclaredConfig.BOOTSTRAP_SERVERS, "b:9092", "kafka.ssl.key.pasword", "s3cret-misspelt")));
        assertTrue(misspelt.getMessage().contains("kafka.ssl.key.pasword"), misspelt.getMessage());
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> new Producing(Map.of(DeclaredConfig.BOOTSTRAP_SERVERS, "b:9092", "pasword", "s3cret-unknown")));
        ConfigException wrongType = assertThrows(ConfigException.class,
                () -> new Producing(Map.of(DeclaredConfig.BOOTSTRAP_SERVERS, "b:9092", "count", "s3cret-not-a-number")));
        assertEquals("count: Not a number of type INT", wrongType.getMessage());
        for (ConfigException refused : new ConfigException[] {misspelt, unknown, wrongType}) {
            assertTrue(!refused.getMessage().contains("s3cret"), refused.getMessage());
        }
    }

    @Test
    void aValueAKafkaClientRefusesIsDescribedByItsKeyAlone() {
        assertEquals("linger.ms: Not a number of type LONG",
                DeclaredConfig.describe(new ConfigException("linger.ms", "s3cret", "Not a number of type LONG")));
        assertEquals("as it was", DeclaredConfig.describe(new ConfigException("as it was")));
    }

    @Test
    void kafkasOwnSettingsAndConfigProvidersPass() {
        new Producing(Map.of(DeclaredConfig.BOOTSTRAP_SERVERS, "b:9092", "kafka.linger.ms", "5", "kafka.config.providers", "file",
                "kafka.config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"));
    }

    @Test
    void aMissingFileIsSaidInWordsAndAnotherFileIsNamed() {
        Path config = Path.of("/etc/mailstream/x.properties");
        assertEquals("no such file", DeclaredConfig.describe(config, new NoSuchFileException(config.toString())));
        assertEquals("/etc/secret: permission denied", DeclaredConfig.describe(config, new AccessDeniedException("/etc/secret")));
    }
}
