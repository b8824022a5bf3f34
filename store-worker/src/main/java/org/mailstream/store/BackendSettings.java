package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.ServerSet;
import com.unboundid.ldap.sdk.schema.ObjectClassDefinition;
import com.unboundid.ldap.sdk.schema.Schema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.Findings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before storing, reads from each provider its schema, and refuses a back end that lacks a class or
 * attribute the worker writes (every message would go to the dead-letter topic otherwise). It also
 * reads, where the service account may (mailstore.database.ldif grants it), whether the database that holds ldap.base.dn syncs each add and how often it
 * checkpoints, and refuses a {@code store.durability} that could lose mail on that back end:
 * sync mode against a database that does not sync each add (an offset would be committed for a
 * write that a power loss can take), and log mode against one that never checkpoints or
 * checkpoints less often than {@code store.log.commit.delay.ms} allows for; and a provider that
 * takes smaller requests than {@code ldap.max.write.bytes} lets through. A provider that is down
 * or that hides its settings is passed over with a warning: it is checked when the worker next starts.
 */
final class BackendSettings {

    private static final Logger LOG = LoggerFactory.getLogger(BackendSettings.class);
    private static final String INCOMING_LIMIT = "olcSockbufMaxIncomingAuth";
    /** slapd's sockbuf_max_incoming_auth when cn=config does not set it: 4 MiB - 1. */
    private static final long SLAPD_DEFAULT_INCOMING_LIMIT = (1L << 22) - 1;

    /** What one provider's database says of its durability. */
    private record Durability(String database, boolean syncsEachAdd, Duration checkpoint) {
    }

    private BackendSettings() {
    }

    /**
     * Checks every provider before storing: throws a ConfigException naming the provider and the
     * setting at the first that cannot take what {@code config} writes; logs the warnings.
     */
    static void verify(StoreConfig config) {
        Findings refusing = new Findings() {
            @Override
            public void ok(String line) {
            }

            @Override
            public void warn(String line) {
                LOG.warn(line);
            }

            @Override
            public void fail(String line) {
                throw new ConfigException(line);
            }
        };
        ServerSet[] providers = LdapServers.providers(config, null);
        for (int i = 0; i < providers.length; i++) {
            String url = config.ldapUrls().get(i);
            try (LDAPConnection connection = LdapServers.connect(providers[i], config)) {
                inspect(url, connection, config, refusing);
            } catch (LDAPException e) {
                LOG.warn("{}: its schema and settings not checked: {}", url, LdapFailures.describe(e));
            }
        }
    }

    /**
     * Checks what one provider, bound as the worker, says of its schema, its durability settings
     * and the largest request it takes, against {@code config}; tells {@code findings} a line each.
     */
    static void inspect(String url, LDAPConnection connection, StoreConfig config, Findings findings) throws LDAPException {
        String missing = missingSchema(connection.getSchema(config.ldapBaseDn()));
        findings.report(missing == null, url + ": the schema defines what the worker writes", url + ": " + missing);
        Optional<Durability> durability = read(connection, new DN(config.ldapBaseDn()));
        if (durability.isEmpty()) {
            findings.warn(url + ": the database's settings are not readable as " + config.ldapBindDn()
                    + ": durability not checked (mailstore.database.ldif grants the right)");
        } else {
            String refusal = refusal(config, durability.get());
            findings.report(refusal == null, url + ": " + durability.get().database() + (durability.get().syncsEachAdd()
                    ? " syncs each add" : " checkpoints every " + durability.get().checkpoint().toMinutes() + " min")
                    + ", as " + StoreConfig.STORE_DURABILITY + "=" + (config.logDurability() ? "log" : "sync") + " needs",
                    url + ": " + refusal);
        }
        Optional<Long> limit = incomingLimit(connection);
        if (limit.isEmpty()) {
            findings.warn(url + ": " + INCOMING_LIMIT + " is not readable: " + StoreConfig.LDAP_MAX_WRITE_BYTES + " not checked");
        } else {
            String refusal = incomingRefusal(config, limit.get());
            findings.report(refusal == null, url + ": " + INCOMING_LIMIT + " " + limit.get() + " takes "
                    + StoreConfig.LDAP_MAX_WRITE_BYTES + " (" + config.ldapMaxWriteBytes() + ")", url + ": " + refusal);
        }
    }

    /**
     * What the back end's schema lacks of the classes and attributes the worker writes, or what its
     * message class may not hold of them, in words; null when it has them all, or when it hides
     * its schema (then the first add says so).
     */
    private static String missingSchema(Schema schema) {
        if (schema == null) {
            return null;
        }
        List<String> missing = new ArrayList<>();
        MessageEntry.OBJECT_CLASSES.stream().filter(name -> schema.getObjectClass(name) == null).forEach(missing::add);
        MessageEntry.ATTRIBUTE_TYPES.stream().filter(name -> schema.getAttributeType(name) == null).forEach(missing::add);
        if (!missing.isEmpty()) {
            return "its schema does not define " + String.join(", ", missing)
                    + ", so every message would be refused: load mailstore.cnconfig.ldif (see docs/ldap.md)";
        }
        // A type defined but not among what the class may hold (an upgrade done by half) is refused in every add as well.
        ObjectClassDefinition message = schema.getObjectClass("mailStoreMessage");
        Set<String> held = Stream.concat(Stream.of(message.getRequiredAttributes()), Stream.of(message.getOptionalAttributes()))
                .map(name -> name.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        List<String> unheld = MessageEntry.MESSAGE_TYPES.stream().filter(name -> !held.contains(name.toLowerCase(Locale.ROOT))).toList();
        return unheld.isEmpty() ? null : "its class mailStoreMessage may not hold " + String.join(", ", unheld)
                + ", so every message would be refused: give it the MAY list of the release's mailstore.cnconfig.ldif (see docs/imapd.md)";
    }

    /** Why {@code config} must not store into a database of {@code durability}; null when it may. */
    private static String refusal(StoreConfig config, Durability durability) {
        String database = durability.database();
        if (!config.logDurability()) {
            return durability.syncsEachAdd() ? null : database + " does not sync each add to disk (olcDbNoSync: TRUE), so "
                    + StoreConfig.STORE_DURABILITY + "=sync would commit offsets for writes a power loss can take: set "
                    + StoreConfig.STORE_DURABILITY + "=log, or apply mailstore.durability-sync.ldif";
        }
        if (durability.syncsEachAdd()) {
            LOG.info("{} syncs each add, so {}=log only delays commits: apply mailstore.durability-log.ldif to store faster",
                    database, StoreConfig.STORE_DURABILITY);
            return null;
        }
        if (durability.checkpoint().isZero()) {
            return database + " neither syncs each add nor checkpoints (no olcDbCheckpoint minutes), so nothing it stores "
                    + "is ever known to be on disk: apply mailstore.durability-log.ldif";
        }
        Duration needed = LogCommitRule.shortestDelay(durability.checkpoint(), Duration.ofMillis(config.ldapResponseTimeoutMs()));
        if (config.logCommitDelay().compareTo(needed) < 0) {
            return database + " checkpoints every " + durability.checkpoint().toMinutes() + " min, so "
                    + StoreConfig.STORE_LOG_COMMIT_DELAY_MS + " must be at least " + needed.toMillis() + ", not "
                    + config.logCommitDelay().toMillis();
        }
        return null;
    }

    /**
     * The largest request slapd takes from a bound client, if the account may read cn=config:
     * olcSockbufMaxIncomingAuth, or slapd's default where it is unset (Debian's database).
     */
    private static Optional<Long> incomingLimit(LDAPConnection connection) throws LDAPException {
        Entry global;
        try {
            global = connection.getEntry("cn=config", INCOMING_LIMIT);
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.NO_SUCH_OBJECT) {
                throw e;
            }
            return Optional.empty();
        }
        if (global == null) {
            return Optional.empty();
        }
        Long set = global.getAttributeValueAsLong(INCOMING_LIMIT);
        return Optional.of(set == null ? SLAPD_DEFAULT_INCOMING_LIMIT : set);
    }

    /**
     * Why a back end taking {@code limit} octets a request cannot store what {@code config} lets
     * through; null when it can. slapd drops a larger write's connection without an answer, so
     * each such mail would look like a provider lost, not like a mail too large.
     */
    private static String incomingRefusal(StoreConfig config, long limit) {
        return limit >= config.ldapMaxWriteBytes() ? null : INCOMING_LIMIT + " " + limit + " is below "
                + StoreConfig.LDAP_MAX_WRITE_BYTES + " (" + config.ldapMaxWriteBytes() + "): slapd would drop such writes without "
                + "an answer; raise it (mailstore.database.ldif sets 16777215) or lower " + StoreConfig.LDAP_MAX_WRITE_BYTES;
    }

    /** The settings of the database whose suffix holds {@code base}, if the account may read them. */
    private static Optional<Durability> read(LDAPConnection connection, DN base) throws LDAPException {
        List<SearchResultEntry> databases;
        try {
            databases = connection.search("cn=config", SearchScope.SUB, Filter.createPresenceFilter("olcSuffix"),
                    "olcSuffix", "olcDbNoSync", "olcDbCheckpoint").getSearchEntries();
        } catch (LDAPException e) {
            if (e.getResultCode() == ResultCode.NO_SUCH_OBJECT || e.getResultCode() == ResultCode.INSUFFICIENT_ACCESS_RIGHTS) {
                return Optional.empty(); // slapd hides cn=config from an account without rights there
            }
            throw e;
        }
        return databases.stream()
                .filter(entry -> holds(entry, base))
                .max(Comparator.comparingInt(entry -> suffix(entry).getRDNs().length))
                .map(entry -> new Durability(entry.getDN(), !"TRUE".equalsIgnoreCase(entry.getAttributeValue("olcDbNoSync")),
                        checkpoint(entry.getAttributeValue("olcDbCheckpoint"))));
    }

    private static boolean holds(SearchResultEntry database, DN base) {
        DN suffix = suffix(database);
        return suffix != null && (suffix.equals(base) || base.isDescendantOf(suffix, false));
    }

    private static DN suffix(SearchResultEntry database) {
        try {
            return new DN(database.getAttributeValue("olcSuffix"));
        } catch (LDAPException e) {
            return null;
        }
    }

    /** olcDbCheckpoint is "KBYTE MINUTES"; back-mdb ignores the first and runs a checkpoint every MINUTES. */
    private static Duration checkpoint(String value) {
        if (value == null) {
            return Duration.ZERO;
        }
        String[] parts = value.trim().split("\\s+");
        return Duration.ofMinutes(parts.length == 2 ? Long.parseLong(parts[1]) : 0);
    }
}
