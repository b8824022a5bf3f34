package org.mailstream.ingest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.schemas.MailRecord;

/**
 * ingest-cli's configuration: a Java properties file whose keys are declared once, here, with
 * their documentation, type, default and validation. {@code --help} prints {@link #DEFINITION},
 * and a test holds docs/ingest.md's reference to it.
 *
 * <p>Every other key that starts with {@code kafka.} goes to the Kafka producer with the prefix
 * removed (TLS, SASL, timeouts). Secrets belong in files, through Kafka's own config providers:
 * {@code kafka.config.providers=file}, {@code kafka.config.providers.file.class=
 * org.apache.kafka.common.config.provider.FileConfigProvider}, then for instance
 * {@code kafka.sasl.jaas.config=${file:/etc/mailstream/secrets.properties:jaas}}.
 */
class IngestConfig extends DeclaredConfig {

    static final Path DEFAULT_PATH = Path.of("/etc/mailstream/ingest.properties");

    static final String TOPIC = "topic";
    static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    static final String DEADLINE_MS = "deadline.ms";

    /**
     * Room the record needs beyond the message itself: key, envelope header and batch framing.
     * The topic's max.message.bytes must be at least max.message.bytes plus this.
     */
    static final int RECORD_OVERHEAD_BYTES = 64 * 1024;

    /** slapd refuses a write larger than 16 MiB - 1; the index attributes need room too. */
    private static final int LARGEST_STORABLE_MESSAGE = 15 * 1024 * 1024;

    /** Producer settings that carry the delivery guarantee; a configuration may not change them. */
    private static final Map<String, Object> FIXED_PRODUCER_SETTINGS = Map.of(
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

    static final ConfigDef DEFINITION = definition(900_000, "command_time_limit (1000 s) for pipe(8)");

    /**
     * The keys of a front end whose deadline.ms may be at most {@code longestDeadlineMs}, to stay
     * below {@code postfixLimit}, the time Postfix gives the transport.
     */
    static ConfigDef definition(int longestDeadlineMs, String postfixLimit) {
        return defineRecipientDelimiter(sharedDefinition())
                .define(TOPIC, Type.STRING, MailRecord.DEFAULT_TOPIC, new ConfigDef.NonEmptyString(), Importance.HIGH,
                        "Topic that receives one record per recipient.")
                .define(MAX_MESSAGE_BYTES, Type.INT, 10_485_760, Range.between(1, LARGEST_STORABLE_MESSAGE), Importance.HIGH,
                        "Largest message accepted, in octets; a larger one is refused with 5.2.3, a bounce. Keep Postfix's "
                        + "message_size_limit at or below it, and the topic's max.message.bytes at or above it plus "
                        + RECORD_OVERHEAD_BYTES + ".")
                .define(DEADLINE_MS, Type.INT, 60_000, deadlineRange(longestDeadlineMs, postfixLimit), Importance.MEDIUM,
                        "Time from the start of a delivery (the pipe command's start; over LMTP, the end of DATA) to the "
                        + "brokers' acknowledgement, after which the delivery is deferred (exit 75; over LMTP, 451). Keep it well "
                        + "below Postfix's time limit for the transport, " + postfixLimit + ".");
    }

    /** From 1 s to {@code longestMs}; a longer deadline is refused naming the time Postfix gives. */
    private static ConfigDef.Validator deadlineRange(int longestMs, String postfixLimit) {
        Range range = Range.between(1_000, longestMs);
        return ConfigDef.LambdaValidator.with((name, value) -> {
            if (value instanceof Integer ms && ms > longestMs) {
                throw new ConfigException(name + " must be at most " + longestMs + ", to stay below " + postfixLimit);
            }
            range.ensureValid(name, value);
        }, range::toString);
    }

    private IngestConfig(Map<?, ?> settings) {
        this(DEFINITION, settings);
    }

    /** For a front end that declares more keys: {@code definition} holds {@link #DEFINITION}'s and its own. */
    protected IngestConfig(ConfigDef definition, Map<?, ?> settings) {
        super(definition, settings, ProducerConfig.configNames());
        for (Map.Entry<String, Object> fixed : FIXED_PRODUCER_SETTINGS.entrySet()) {
            Object given = kafkaSettings().get(fixed.getKey());
            if (given != null && !given.toString().equals(fixed.getValue())) {
                throw new ConfigException(KAFKA_PREFIX + fixed.getKey() + " must stay " + fixed.getValue()
                        + ": no mail may be acknowledged before it is replicated");
            }
        }
        producerSettings(); // fail at load time, not at the first delivery
    }

    /** Reads and validates {@code file}; throws {@link ConfigException} or {@link IOException}. */
    static IngestConfig load(Path file) throws IOException {
        return new IngestConfig(read(file));
    }

    static IngestConfig of(Map<String, String> settings) {
        return new IngestConfig(settings);
    }

    List<String> bootstrapServers() {
        return getList(BOOTSTRAP_SERVERS);
    }

    String topic() {
        return getString(TOPIC);
    }

    int maxMessageBytes() {
        return getInt(MAX_MESSAGE_BYTES);
    }

    int deadlineMs() {
        return getInt(DEADLINE_MS);
    }

    /**
     * The producer's settings: the operator's kafka.* keys, the fixed delivery guarantee, and
     * sizes derived from max.message.bytes. Timeouts are left to {@link Ingest}, which knows how
     * much of the deadline remains.
     */
    Map<String, Object> producerSettings() {
        Map<String, Object> settings = new HashMap<>(kafkaSettings());
        settings.putAll(FIXED_PRODUCER_SETTINGS);
        int neededRequestSize = maxMessageBytes() + RECORD_OVERHEAD_BYTES;
        Object configured = settings.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        if (configured != null && !(configured.toString().trim().matches("\\d{1,9}")
                && Integer.parseInt(configured.toString().trim()) >= neededRequestSize)) {
            throw new ConfigException(KAFKA_PREFIX + ProducerConfig.MAX_REQUEST_SIZE_CONFIG + " must be a number of at least "
                    + "max.message.bytes + " + RECORD_OVERHEAD_BYTES + " = " + neededRequestSize);
        }
        settings.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, neededRequestSize);
        settings.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(32 * 1024 * 1024L, neededRequestSize));
        settings.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
        settings.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, clientId());
        // A broker that is down is tried, and its warning logged, every 5 s rather than every second.
        settings.putIfAbsent(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 5_000);
        // Metrics reporting and pushing cost start-up time and a round trip, and nobody can read
        // them from a process that lives a tenth of a second.
        settings.putIfAbsent(ProducerConfig.METRIC_REPORTER_CLASSES_CONFIG, "");
        settings.putIfAbsent(ProducerConfig.ENABLE_METRICS_PUSH_CONFIG, false);
        return settings;
    }

    /** The memory the producer may take for records waiting to be sent (its buffer.memory). */
    long producerBufferBytes() {
        return Long.parseLong(producerSettings().get(ProducerConfig.BUFFER_MEMORY_CONFIG).toString().trim());
    }

    /** The producer's client.id unless the configuration sets one. */
    protected String clientId() {
        return "ingest-cli";
    }
}
