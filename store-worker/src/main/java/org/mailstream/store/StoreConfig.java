package org.mailstream.store;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.config.MetricsEndpoint;
import org.mailstream.directory.LdapTransport;
import org.mailstream.schemas.MailRecord;

/**
 * store-worker's configuration: a Java properties file whose keys are declared once, here, with
 * their documentation, type, default and validation. {@code --help} prints {@link #DEFINITION},
 * and a test holds docs/store-worker.md's reference to it. Every other {@code kafka.} key goes to the
 * consumer and to the dead-letter producer with the prefix removed (TLS, SASL).
 */
final class StoreConfig extends DeclaredConfig {

    static final Path DEFAULT_PATH = Path.of("/etc/mailstream/store-worker.properties");

    static final String GROUP_ID = KAFKA_PREFIX + ConsumerConfig.GROUP_ID_CONFIG;
    static final String TOPIC = "topic";
    static final String DLQ_TOPIC = "dlq.topic";
    static final String LDAP_URLS = "ldap.urls";
    static final String LDAP_BIND_DN = "ldap.bind.dn";
    static final String LDAP_BIND_PASSWORD_FILE = "ldap.bind.password.file";
    static final String LDAP_BASE_DN = "ldap.base.dn";
    static final String LDAP_MAILBOX_FILTER = "ldap.mailbox.filter";
    static final String LDAP_FOLDER = "ldap.folder";
    static final String LDAP_CONNECTIONS = "ldap.connections";
    static final String LDAP_CONNECT_TIMEOUT_MS = "ldap.connect.timeout.ms";
    static final String LDAP_RESPONSE_TIMEOUT_MS = "ldap.response.timeout.ms";
    static final String LDAP_MAX_WRITE_BYTES = "ldap.max.write.bytes";
    static final String MAILBOX_CACHE_SIZE = "mailbox.cache.size";
    static final String MAILBOX_CACHE_TTL_MS = "mailbox.cache.ttl.ms";
    static final String RETRY_BACKOFF_MAX_MS = "retry.backoff.max.ms";
    static final String BACKEND = BackendRouting.BACKEND;
    static final String ROUTING_BACKENDS = BackendRouting.ROUTING_BACKENDS;
    static final String ROUTING_PINS = BackendRouting.ROUTING_PINS;
    static final String RECORD_MAX_ATTEMPTS = "record.max.attempts";
    static final String MAILBOX_CREATED_AFTER_MAIL_MS = "mailbox.created.after.mail.ms";
    static final String REDRIVE_MAX_ATTEMPTS = "redrive.max.attempts";
    static final String REDRIVE_MAX_AGE_MS = "redrive.max.age.ms";
    static final String STORE_DURABILITY = "store.durability";
    static final String STORE_LOG_COMMIT_DELAY_MS = "store.log.commit.delay.ms";
    static final String BOUNCE_COMMAND = "bounce.command";
    static final String BOUNCE_MAX_AGE_MS = "bounce.max.age.ms";

    static final ConfigDef DEFINITION = LdapTransport.define(MetricsEndpoint.define(defineQuota(defineRecipientDelimiter(sharedDefinition())))
            .define(GROUP_ID, Type.STRING, "mailstream-store", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Consumer group of the workers of a back end; with several back ends the back end's name is "
                    + "appended (mailstream-store-a), so that no two back ends can share one. A new group starts from the "
                    + "earliest offset, so it stores everything the topic holds.")
            .define(TOPIC, Type.STRING, MailRecord.DEFAULT_TOPIC, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Topic to consume.")
            .define(DLQ_TOPIC, Type.STRING, "", Importance.HIGH,
                    "Dead-letter topic for records that can never be stored (no such mailbox, too large, refused by "
                    + "the schema); empty means the consumed topic's name followed by .dlq.")
            .define(LDAP_URLS, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, new NonEmptyList("URL"), Importance.HIGH,
                    "The back end's providers, ldap://host:port or ldaps://host:port, in order of preference: writes "
                    + "go to the first that answers. Required."))
            .define(LDAP_BIND_DN, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "DN the worker binds as: an account that may search mailbox owners and add entries below them. Required.")
            .define(LDAP_BIND_PASSWORD_FILE, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "File holding the bind password (one line; trailing line break ignored). Required.")
            .define(LDAP_BASE_DN, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Where mailbox owners are searched, whole subtree. Required.")
            .define(LDAP_MAILBOX_FILTER, Type.STRING, "(mail=%s)", new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "Filter that finds the one owner of a recipient address; every %s stands for the "
                    + "address as an assertion value, never as filter text. Use the query of Postfix's virtual_mailbox_maps. "
                    + "Alternate addresses in an attribute of your schema, such as (|(mail=%s)(mailAlternateAddress=%s)), "
                    + "need that attribute readable by this worker and Postfix (see docs/ldap.md).")
            .define(LDAP_FOLDER, Type.STRING, "INBOX", new ConfigDef.NonEmptyString(), Importance.LOW,
                    "Folder below the owner that receives new mail: cn=FOLDER, created when missing.")
            .define(LDAP_CONNECTIONS, Type.INT, 8, Range.between(1, 64), Importance.MEDIUM,
                    "LDAP connections, and so partitions stored at once; records of one partition are stored in order.")
            .define(LDAP_CONNECT_TIMEOUT_MS, Type.INT, 5_000, Range.between(100, 600_000), Importance.MEDIUM,
                    "Time allowed to open a connection to a provider.")
            .define(LDAP_RESPONSE_TIMEOUT_MS, Type.INT, 30_000, Range.between(100, 600_000), Importance.MEDIUM,
                    "Time allowed for an answer to one LDAP operation.")
            .define(LDAP_MAX_WRITE_BYTES, Type.INT, 16_777_215, Range.between(65_536, 16_777_215), Importance.MEDIUM,
                    "Largest add request the back end accepts: its olcSockbufMaxIncomingAuth. A larger message goes to "
                    + "the dead-letter topic, since slapd would drop the connection without an answer.")
            .define(MAILBOX_CACHE_SIZE, Type.INT, 10_000, Range.atLeast(0), Importance.LOW,
                    "Recipient addresses whose owner is kept in memory; as many of the folders that address extensions name, "
                    + "and of the extended addresses that are no mailbox of their own.")
            .define(MAILBOX_CACHE_TTL_MS, Type.LONG, 60_000L, Range.atLeast(0), Importance.LOW,
                    "How long a cached owner, folder or absence is trusted, so that a moved mailbox is found again and a folder "
                    + "just made receives mail.")
            .define(RETRY_BACKOFF_MAX_MS, Type.LONG, 30_000L, Range.between(100, 3_600_000), Importance.MEDIUM,
                    "Longest pause between two attempts to store a record that failed for a reason that may pass, "
                    + "such as a back end that is down; the pause doubles from 100 ms up to this.")
            .define(BACKEND, Type.STRING, "", Importance.HIGH,
                    "The back end this worker stores for, one of routing.backends; empty when there is only one back end.")
            .define(ROUTING_BACKENDS, Type.LIST, "", Importance.HIGH,
                    "Every back end's name, the same list in every worker of every back end. A recipient belongs to the "
                    + "back end it is pinned to, otherwise to the one that scores highest by rendezvous hashing of its "
                    + "address; a worker stores what its back end owns and passes over the rest. Empty: one back end owns all.")
            .define(ROUTING_PINS, Type.LIST, "", Importance.MEDIUM,
                    "Addresses placed on a back end by hand, as ADDRESS=BACKEND separated by commas, the same in every "
                    + "worker: how a mailbox moves (see docs/operations.md).")
            .define(RECORD_MAX_ATTEMPTS, Type.INT, 5, Range.between(1, 1_000), Importance.MEDIUM,
                    "Attempts at a record that fails for a reason nobody foresaw (not the back end's availability, not "
                    + "rights or credentials, which are retried for as long as they last) before it is taken for the "
                    + "record's fault and sent to the dead-letter topic with the failure as its reason, so that one "
                    + "record cannot hold its partition for good.")
            .define(MAILBOX_CREATED_AFTER_MAIL_MS, Type.LONG, 300_000L, Range.atLeast(-1), Importance.MEDIUM,
                    "How long after a mail was received its mailbox's owner entry may have been created (the "
                    + "directory's createTimestamp) and still receive it: the clock skew allowed between the ingest hosts "
                    + "and the directory. A mail received earlier was sent to an earlier holder of the address (a replay "
                    + "or redrive after the address passed to someone else) and goes to the dead-letter topic. -1 turns "
                    + "the check off, for moving a mailbox to a new entry on purpose (see docs/operations.md).")
            .define(REDRIVE_MAX_ATTEMPTS, Type.INT, 5, Range.atLeast(1), Importance.MEDIUM,
                    "A dead letter that still fails after it has been written to the dead-letter topic this many times "
                    + "(its mailstream.dlq.attempts header) is given up by redrive: reported, not written again.")
            .define(REDRIVE_MAX_AGE_MS, Type.LONG, 30L * 24 * 3600 * 1000, Range.atLeast(0), Importance.MEDIUM,
                    "A dead letter that still fails this long after it first failed (its first mailstream.dlq.time header) "
                    + "is given up by redrive: reported, not written again.")
            .define(BOUNCE_COMMAND, Type.STRING, "/usr/sbin/sendmail -i -f <> --", Importance.MEDIUM,
                    "Command, split at spaces, that takes a bounce on its standard input with its recipient appended: "
                    + "the sender of a mail accepted for a mailbox that no longer exists when it is stored is told once, "
                    + "with the null sender (see docs/store-worker.md). It must be an executable file and stop reading options "
                    + "before the recipient (--). Empty: no bounces, the dead letter only.")
            .define(BOUNCE_MAX_AGE_MS, Type.LONG, 5L * 24 * 3600 * 1000, Range.atLeast(0), Importance.LOW,
                    "A mail received longer ago than this is not bounced, only dead-lettered: a new back end's group reads "
                    + "the topic from its start, and must not bounce mail delivered long ago. The default is Postfix's "
                    + "maximal_queue_lifetime (5 days).")
            .define(STORE_DURABILITY, Type.STRING, "sync", ValidString.in("sync", "log"), Importance.HIGH,
                    "What makes a stored mail durable. sync: the back end syncs every add to disk (olcDbNoSync FALSE, "
                    + "slapd's default), and an offset is committed as soon as its write is acknowledged. log: the back "
                    + "end's providers run with olcDbNoSync TRUE and a checkpoint (olcDbCheckpoint), about four times "
                    + "faster; the topic carries durability, an offset is committed only once its write is older than "
                    + "store.log.commit.delay.ms with no connection to the back end lost meanwhile, and a lost connection "
                    + "stores everything since the last committed offsets again. The worker refuses to start when a "
                    + "provider's configuration, where it can read it, does not match (see docs/ldap.md).")
            .define(STORE_LOG_COMMIT_DELAY_MS, Type.LONG, 120_000L, Range.between(10_000, 3_600_000), Importance.MEDIUM,
                    "In log mode, how long after its write a record's offset waits before it is committed: at least the "
                    + "back end's checkpoint interval (olcDbCheckpoint minutes), plus the time to notice a provider gone "
                    + "(ldap.response.timeout.ms, or 10 s if longer), plus 5 s.");

    /**
     * The longest pause between attempts to reach a broker that is down, unless kafka.* sets it:
     * the clients' own default (1 s) logs a warning a second for each connection, and a worker
     * that cannot reach Kafka has nothing to store meanwhile.
     */
    private static final int RECONNECT_BACKOFF_MAX_MS = 10_000;

    /** The kafka.* keys go to the consumer, the dead-letter producer and the admin client of the passes. */
    private static final Set<String> KAFKA_CLIENT_KEYS = Stream.of(ConsumerConfig.configNames(), ProducerConfig.configNames(),
            AdminClientConfig.configNames()).flatMap(Set::stream).collect(Collectors.toUnmodifiableSet());

    private final FilterTemplate mailboxFilter;
    private final BackendRouting routing;
    private final LdapTransport ldapTransport;

    private StoreConfig(Map<?, ?> settings) {
        super(DEFINITION, settings, KAFKA_CLIENT_KEYS);
        ldapTransport = LdapTransport.of(this, LDAP_URLS);
        mailboxFilter = new FilterTemplate(LDAP_MAILBOX_FILTER, getString(LDAP_MAILBOX_FILTER));
        Duration shortest = LogCommitRule.shortestDelay(LogCommitRule.SHORTEST_CHECKPOINT, Duration.ofMillis(ldapResponseTimeoutMs()));
        if (logDurability() && logCommitDelay().compareTo(shortest) < 0) {
            throw new ConfigException(STORE_LOG_COMMIT_DELAY_MS + " must be at least "
                    + shortest.toMillis() + ": slapd checkpoints at most once a minute, and noticing a provider gone takes "
                    + "up to " + LDAP_RESPONSE_TIMEOUT_MS + " or 10 s, plus a margin of 5 s");
        }
        try {
            routing = BackendRouting.of(getString(BACKEND), getList(ROUTING_BACKENDS), getList(ROUTING_PINS), recipientDelimiter());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    static StoreConfig load(Path file) throws IOException {
        return new StoreConfig(read(file));
    }

    static StoreConfig of(Map<String, String> settings) {
        return new StoreConfig(settings);
    }

    String topic() {
        return getString(TOPIC);
    }

    Duration bounceMaxAge() {
        return Duration.ofMillis(getLong(BOUNCE_MAX_AGE_MS));
    }

    /** The bounce command's words; empty when no bounce is sent. */
    List<String> bounceCommand() {
        String command = getString(BOUNCE_COMMAND).strip();
        return command.isEmpty() ? List.of() : List.of(command.split("\\s+"));
    }

    String deadLetterTopic() {
        String configured = getString(DLQ_TOPIC);
        return configured.isEmpty() ? topic() + ".dlq" : configured;
    }

    String groupId() {
        String backend = getString(BACKEND);
        return backend.isEmpty() ? getString(GROUP_ID) : getString(GROUP_ID) + "-" + backend;
    }

    BackendRouting routing() {
        return routing;
    }

    FilterTemplate mailboxFilter() {
        return mailboxFilter;
    }

    List<String> ldapUrls() {
        return getList(LDAP_URLS);
    }

    LdapTransport ldapTransport() {
        return ldapTransport;
    }

    String ldapBindDn() {
        return getString(LDAP_BIND_DN);
    }

    Path ldapBindPasswordFile() {
        return Path.of(getString(LDAP_BIND_PASSWORD_FILE));
    }

    String ldapBaseDn() {
        return getString(LDAP_BASE_DN);
    }

    String ldapFolder() {
        return getString(LDAP_FOLDER);
    }

    int ldapConnections() {
        return getInt(LDAP_CONNECTIONS);
    }

    int ldapConnectTimeoutMs() {
        return getInt(LDAP_CONNECT_TIMEOUT_MS);
    }

    int ldapResponseTimeoutMs() {
        return getInt(LDAP_RESPONSE_TIMEOUT_MS);
    }

    int ldapMaxWriteBytes() {
        return getInt(LDAP_MAX_WRITE_BYTES);
    }

    int mailboxCacheSize() {
        return getInt(MAILBOX_CACHE_SIZE);
    }

    long mailboxCacheTtlMs() {
        return getLong(MAILBOX_CACHE_TTL_MS);
    }

    long retryBackoffMaxMs() {
        return getLong(RETRY_BACKOFF_MAX_MS);
    }

    int recordMaxAttempts() {
        return getInt(RECORD_MAX_ATTEMPTS);
    }

    /** The owner-entry age check's allowance; negative when the check is off. */
    Duration mailboxCreatedAfterMail() {
        return Duration.ofMillis(getLong(MAILBOX_CREATED_AFTER_MAIL_MS));
    }

    int redriveMaxAttempts() {
        return getInt(REDRIVE_MAX_ATTEMPTS);
    }

    Duration redriveMaxAge() {
        return Duration.ofMillis(getLong(REDRIVE_MAX_AGE_MS));
    }

    String metricsListen() {
        return getString(MetricsEndpoint.METRICS_LISTEN);
    }

    /** Whether the back end runs without a sync per add and the log carries durability. */
    boolean logDurability() {
        return getString(STORE_DURABILITY).equals("log");
    }

    Duration logCommitDelay() {
        return Duration.ofMillis(getLong(STORE_LOG_COMMIT_DELAY_MS));
    }

    /**
     * The consumer's settings as {@code group} (the worker and replay use the back end's, redrive
     * its own): manual commits, earliest offset for a new group, cooperative rebalancing.
     */
    Map<String, Object> consumerSettings(String group) {
        Map<String, Object> settings = new HashMap<>(kafkaSettings());
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        // Offsets are committed only after the LDAP write they cover.
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        settings.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        settings.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "store-worker");
        settings.putIfAbsent(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, RECONNECT_BACKOFF_MAX_MS);
        return settings;
    }

    /**
     * The admin client's settings (check, replay and redrive): the connection and security keys of
     * kafka.*, and the config providers, so that a secret read from a file reaches it too.
     */
    Map<String, Object> adminSettings() {
        return adminSettings(kafkaSettings());
    }

    /** The dead-letter producer's settings: a dead letter is acknowledged before its offset is committed. */
    Map<String, Object> deadLetterProducerSettings() {
        Map<String, Object> settings = new HashMap<>(kafkaSettings());
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        settings.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024);
        settings.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "store-worker-dlq");
        settings.putIfAbsent(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, RECONNECT_BACKOFF_MAX_MS);
        return settings;
    }
}
