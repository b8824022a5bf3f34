package org.mailstream.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * A command's configuration: keys declared once in a {@link ConfigDef} with doc, type, default
 * and validation, plus keys under {@value #KAFKA_PREFIX} that pass through to a Kafka client
 * with the prefix removed. Any other key is refused rather than ignored, so that a misspelt
 * setting is an error, not a surprise. The keys every command shares are declared here, once.
 *
 * <p>A refusal names the key and never its value: a misspelt password key's value would
 * otherwise reach pipe(8)'s deferral reason, the mail log, mailq and a bounce to the sender.
 */
public abstract class DeclaredConfig extends AbstractConfig {

    public static final String KAFKA_PREFIX = "kafka.";
    public static final String BOOTSTRAP_SERVERS = KAFKA_PREFIX + CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG;
    public static final String RECIPIENT_DELIMITER = "recipient.delimiter";
    public static final String QUOTA_BYTES = "quota.bytes";
    public static final String QUOTA_MESSAGES = "quota.messages";

    /** How Kafka's ConfigException quotes a value: "Invalid value VALUE for configuration KEY[: REASON]". */
    private static final Pattern KAFKAS_REFUSAL = Pattern.compile("Invalid value .* for configuration (\\S+?)(?:: (.*))?",
            Pattern.DOTALL);

    /**
     * Checks {@code settings} against {@code definition}, and every {@value #KAFKA_PREFIX} key
     * against {@code kafkaClientKeys}, the names the Kafka clients it feeds declare (config
     * providers' own keys, config.providers.NAME.*, pass too): a misspelt Kafka setting is
     * refused as ours are, instead of being ignored with a warning nobody reads.
     */
    protected DeclaredConfig(ConfigDef definition, Map<?, ?> settings, Set<String> kafkaClientKeys) {
        super(definition, checked(definition, settings, kafkaClientKeys), false);
    }

    /** {@code settings}, once every key is known and every value of ours parses and is valid; refusals name no value. */
    private static Map<?, ?> checked(ConfigDef definition, Map<?, ?> settings, Set<String> kafkaClientKeys) {
        for (Map.Entry<?, ?> setting : settings.entrySet()) {
            String key = setting.getKey().toString();
            if (!key.startsWith(KAFKA_PREFIX) && !definition.names().contains(key)) {
                throw new ConfigException(key + ": unknown key; the keys are " + definition.names() + " and " + KAFKA_PREFIX
                        + "* for the Kafka client");
            }
            String kafkaKey = key.substring(Math.min(key.length(), KAFKA_PREFIX.length()));
            if (key.startsWith(KAFKA_PREFIX) && !kafkaClientKeys.contains(kafkaKey)
                    && !kafkaKey.startsWith(AbstractConfig.CONFIG_PROVIDERS_CONFIG + ".")) {
                throw new ConfigException(key + ": '" + kafkaKey + "' is not a setting of the Kafka client");
            }
            ConfigDef.ConfigKey declared = definition.configKeys().get(key);
            if (declared != null) {
                try {
                    Object value = ConfigDef.parseType(key, setting.getValue(), declared.type);
                    if (declared.validator != null) {
                        declared.validator.ensureValid(key, value);
                    }
                } catch (ConfigException e) {
                    throw new ConfigException(describe(e));
                }
            }
        }
        return settings;
    }

    /**
     * What {@code refused} says, without the value Kafka's own refusals quote ("Invalid value
     * VALUE for configuration KEY: REASON" becomes "KEY: REASON"), for our keys' validation and
     * for a kafka.* value that a Kafka client refuses when it is built. Our own refusals name
     * no value and pass as they are.
     */
    public static String describe(ConfigException refused) {
        Matcher kafkas = KAFKAS_REFUSAL.matcher(refused.getMessage());
        return !kafkas.matches() ? refused.getMessage()
                : kafkas.group(1) + ": " + (kafkas.group(2) == null ? "not a valid value" : kafkas.group(2));
    }

    /** A definition that starts with the keys every command shares: the brokers to reach. */
    public static ConfigDef sharedDefinition() {
        return new ConfigDef()
                .define(BOOTSTRAP_SERVERS, ConfigDef.Type.LIST, ConfigDef.NO_DEFAULT_VALUE, new NonEmptyList("host:port"),
                        ConfigDef.Importance.HIGH,
                        "Kafka brokers to connect to first, as host:port pairs separated by commas. Required.");
    }

    /**
     * {@code definition} with {@value #RECIPIENT_DELIMITER}, which ingest (to key a record by its
     * mailbox) and the worker (to find the mailbox and the folder) must read alike.
     */
    public static ConfigDef defineRecipientDelimiter(ConfigDef definition) {
        return definition.define(RECIPIENT_DELIMITER, ConfigDef.Type.STRING, "", ConfigDef.LambdaValidator.with((name, value) -> {
            String delimiters = (String) value;
            if (delimiters != null && delimiters.chars().anyMatch(c -> c <= ' ' || c == '@' || c == 0x7f)) {
                throw new ConfigException(name + ": delimiters are characters other than @, space and controls");
            }
        }, () -> "characters other than @, space and controls"), ConfigDef.Importance.MEDIUM,
                "Characters that separate an address extension, as Postfix's recipient_delimiter (Debian's main.cf sets +): "
                + "alice+news@ is keyed and routed as alice@, and stored below alice, in her folder news when it exists, "
                + "in INBOX when not. Set it alike in ingest, store-worker and Postfix. Empty: addresses have no extension.");
    }

    /** The {@value #RECIPIENT_DELIMITER} characters; for a configuration whose definition has the key. */
    public String recipientDelimiter() {
        return getString(RECIPIENT_DELIMITER);
    }

    /**
     * {@code definition} with the default quota, which store-worker (to mark an owner past it,
     * whose mail Postfix then refuses) and imapd (to report it) must read alike.
     */
    public static ConfigDef defineQuota(ConfigDef definition) {
        return definition
                .define(QUOTA_BYTES, ConfigDef.Type.LONG, 0L, ConfigDef.Range.atLeast(0), ConfigDef.Importance.MEDIUM,
                        "Octets of mail an owner may keep unless its entry says otherwise (mailStoreQuotaBytes): store-worker "
                        + "marks an owner past it, whose new mail Postfix then refuses with 452 4.2.2 (mail already accepted is "
                        + "still stored), and imapd reports it (GETQUOTA). Set it alike in both. 0: no limit.")
                .define(QUOTA_MESSAGES, ConfigDef.Type.LONG, 0L, ConfigDef.Range.atLeast(0), ConfigDef.Importance.MEDIUM,
                        "Messages an owner may keep unless its entry says otherwise (mailStoreQuotaMessages), as quota.bytes. "
                        + "0: no limit.");
    }

    /** The {@value #QUOTA_BYTES} of owners whose entry sets none; for a configuration whose definition has the key. */
    public long quotaBytes() {
        return getLong(QUOTA_BYTES);
    }

    /** The {@value #QUOTA_MESSAGES} of owners whose entry sets none; for a configuration whose definition has the key. */
    public long quotaMessages() {
        return getLong(QUOTA_MESSAGES);
    }

    /**
     * Of a Kafka client's {@code settings}, those an admin client takes: its own keys and the
     * config providers (config.providers, config.providers.NAME.*), without which a secret such as
     * {@code ${file:...}} would reach it unresolved.
     */
    public static Map<String, Object> adminSettings(Map<String, Object> settings) {
        Map<String, Object> admin = new HashMap<>();
        settings.forEach((key, value) -> {
            if (AdminClientConfig.configNames().contains(key) || key.startsWith(AbstractConfig.CONFIG_PROVIDERS_CONFIG)) {
                admin.put(key, value);
            }
        });
        return admin;
    }

    /** The keys under {@value #KAFKA_PREFIX}, prefix removed: what goes to the Kafka client. */
    protected Map<String, Object> kafkaSettings() {
        return originalsWithPrefix(KAFKA_PREFIX);
    }

    /**
     * Why {@code configFile}, or a file it names, could not be read, in words: "no such file",
     * "permission denied", preceded by the file's name when it is not the configuration itself.
     */
    public static String describe(Path configFile, IOException e) {
        if (!(e instanceof FileSystemException failed)) {
            return e.toString();
        }
        String reason = e instanceof NoSuchFileException ? "no such file"
                : e instanceof AccessDeniedException ? "permission denied"
                : failed.getReason() != null ? failed.getReason() : e.getClass().getSimpleName();
        return configFile.toString().equals(failed.getFile()) ? reason : failed.getFile() + ": " + reason;
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
                throw new ConfigException(name + " needs at least one " + item);
            }
        }

        @Override
        public String toString() {
            return item + "[," + item + "...]";
        }
    }
}
