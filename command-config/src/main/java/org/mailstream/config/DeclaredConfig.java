package org.mailstream.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * A command's configuration: keys declared once in a {@link ConfigDef} with doc, type, default
 * and validation, plus keys under one prefix that pass through to a Kafka client. Any other key
 * is refused rather than ignored, so that a misspelt setting is an error, not a surprise.
 */
public abstract class DeclaredConfig extends AbstractConfig {

    protected DeclaredConfig(ConfigDef definition, Map<?, ?> settings, String passThroughPrefix) {
        super(definition, settings, false);
        for (Map.Entry<?, ?> setting : settings.entrySet()) {
            String key = setting.getKey().toString();
            if (!key.startsWith(passThroughPrefix) && !definition.names().contains(key)) {
                throw new ConfigException(key, setting.getValue(), "unknown key; the keys are " + definition.names()
                        + " and " + passThroughPrefix + "* for the Kafka client");
            }
        }
    }

    /** The settings in {@code file}, a Java properties file in UTF-8. */
    public static Properties read(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        return properties;
    }

    /** A list of at least one item, such as host:port pairs. */
    public static final class NonEmptyList implements ConfigDef.Validator {
        private final String item;

        public NonEmptyList(String item) {
            this.item = item;
        }

        @Override
        public void ensureValid(String name, Object value) {
            if (!(value instanceof List<?> list) || list.isEmpty() || list.stream().anyMatch(Objects::isNull)) {
                throw new ConfigException(name, value, "needs at least one " + item);
            }
        }

        @Override
        public String toString() {
            return item + "[," + item + "...]";
        }
    }
}
