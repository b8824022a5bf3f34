package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPSearchException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.ServerSet;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.mailstream.config.CommandDeclaration;

/**
 * store-worker check: the pre-flight an operator runs before the first mail, one line a check,
 * exit 0 when none failed, 78 when one did.
 */
final class CheckCommand {

    static final CommandDeclaration CHECK = WorkerExit.declareOn(new CommandDeclaration("store-worker check",
            "check what storing needs, before mail flows", """
            Checks, one line each, what store-worker needs with its configuration: that the
            brokers answer; that the topic and the dead-letter topic exist, the dead-letter
            topic taking the largest record of the topic, with their replication and
            min.insync.replicas, and the principal's rights to read the one and write the other
            (brokers without an authorizer grant every right); the consumer group's state and the right to
            read as it. Then for each provider of the back end: the bind; the schema; the
            durability settings and olcSockbufMaxIncomingAuth, where the account may read them;
            that ldap.mailbox.filter finds an owner; and that the account may add below it, by
            adding an empty folder cn=mailstream-check-N there and deleting it at once (slapd
            offers no way to test a right without using it). Each line starts with ok, warn or
            FAIL.

            """).optional(ConfiguredCommand.CONFIG), WorkerExit.Program.CHECK);

    /** How much larger than a record of the topic its dead letter may be: the headers that say why. */
    private static final int DEAD_LETTER_HEADERS = 65_536;
    private static final long TIMEOUT_SECONDS = 15;

    private final StoreConfig config;
    private final PrintStream out;
    private boolean failed;

    private CheckCommand(StoreConfig config, PrintStream out) {
        this.config = config;
        this.out = out;
    }

    static int run(String[] args, PrintStream out) {
        return ConfiguredCommand.run(CHECK, args, out, command -> command, (command, config) -> new CheckCommand(config, out).check());
    }

    private WorkerExit check() throws Exception {
        checkKafka();
        ServerSet[] providers = LdapServers.providers(config, null);
        for (int i = 0; i < providers.length; i++) {
            checkProvider(config.ldapUrls().get(i), providers[i]);
        }
        return failed ? WorkerExit.CONFIG : WorkerExit.CHECKED;
    }

    private void checkKafka() throws InterruptedException {
        String brokers = String.join(",", config.getList(StoreConfig.BOOTSTRAP_SERVERS));
        try (Admin admin = Admin.create(config.adminSettings())) {
            try {
                int answered = admin.describeCluster().nodes().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).size();
                ok("kafka: " + answered + " broker(s) answer at " + brokers);
            } catch (ExecutionException | TimeoutException e) {
                fail("kafka: no answer from " + brokers + " within " + TIMEOUT_SECONDS + " s: " + cause(e));
                return;
            }
            TopicDescription topic = describe(admin, "topic", config.topic(), AclOperation.READ);
            TopicDescription deadLetters = describe(admin, "dead-letter topic", config.deadLetterTopic(), AclOperation.WRITE);
            if (topic != null && deadLetters != null) {
                checkSizes(admin, topic, deadLetters);
            }
            checkGroup(admin);
        }
    }

    private TopicDescription describe(Admin admin, String role, String name, AclOperation needed) throws InterruptedException {
        TopicDescription topic;
        try {
            topic = admin.describeTopics(List.of(name), new DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .topicNameValues().get(name).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            fail(role + " " + name + ": " + cause(e));
            return null;
        }
        ok(role + " " + name + ": " + topic.partitions().size() + " partitions, replication factor "
                + topic.partitions().get(0).replicas().size());
        checkRight(role + " " + name, topic.authorizedOperations(), needed);
        return topic;
    }

    private void checkSizes(Admin admin, TopicDescription topic, TopicDescription deadLetters) throws InterruptedException {
        Map<ConfigResource, Config> configs;
        ConfigResource topicResource = new ConfigResource(ConfigResource.Type.TOPIC, topic.name());
        ConfigResource lettersResource = new ConfigResource(ConfigResource.Type.TOPIC, deadLetters.name());
        try {
            configs = admin.describeConfigs(List.of(topicResource, lettersResource)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            fail("topic settings: " + cause(e));
            return;
        }
        long largest = setting(configs.get(topicResource), TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        long lettersLargest = setting(configs.get(lettersResource), TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        if (lettersLargest < largest + DEAD_LETTER_HEADERS) {
            fail("dead-letter topic " + deadLetters.name() + ": max.message.bytes " + lettersLargest + " cannot take the largest record of "
                    + topic.name() + " (" + largest + ") with its dead-letter headers: raise it to " + (largest + DEAD_LETTER_HEADERS));
        } else {
            ok("dead-letter topic " + deadLetters.name() + ": max.message.bytes " + lettersLargest + " takes the largest record of "
                    + topic.name() + " (" + largest + ")");
        }
        if (largest > config.ldapMaxWriteBytes()) {
            warn("topic " + topic.name() + ": max.message.bytes " + largest + " is above " + StoreConfig.LDAP_MAX_WRITE_BYTES + " ("
                    + config.ldapMaxWriteBytes() + "): the largest mails will go to the dead-letter topic");
        }
        for (TopicDescription described : List.of(topic, deadLetters)) {
            int replicas = described.partitions().get(0).replicas().size();
            long minInSync = setting(configs.get(described == topic ? topicResource : lettersResource),
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
            if (minInSync > replicas) {
                fail(described.name() + ": min.insync.replicas " + minInSync + " is above its replication factor " + replicas
                        + ", so no write to it can be acknowledged");
            } else if (replicas == 1) {
                warn(described.name() + ": replication factor 1: a broker lost is its records lost");
            }
        }
    }

    private void checkGroup(Admin admin) throws InterruptedException {
        String group = config.groupId();
        try {
            ConsumerGroupDescription described = admin.describeConsumerGroups(List.of(group),
                    new DescribeConsumerGroupsOptions().includeAuthorizedOperations(true)).describedGroups().get(group)
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            ok("group " + group + ": " + described.groupState().toString().toLowerCase(Locale.ROOT) + ", " + described.members().size()
                    + " member(s)");
            checkRight("group " + group, described.authorizedOperations(), AclOperation.READ);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                ok("group " + group + ": new; it starts from the earliest offset");
            } else {
                fail("group " + group + ": " + cause(e));
            }
        } catch (TimeoutException e) {
            fail("group " + group + ": " + cause(e));
        }
    }

    private void checkRight(String what, Set<AclOperation> granted, AclOperation needed) {
        if (granted == null) {
            warn(what + ": the brokers did not say what the principal may do: rights not checked");
            return;
        }
        if (granted.contains(needed) || granted.contains(AclOperation.ALL)) {
            ok(what + ": the principal may " + needed);
        } else {
            fail(what + ": the principal may not " + needed + " (it may " + granted + ")");
        }
    }

    private void checkProvider(String url, ServerSet provider) throws Exception {
        try (LDAPConnection connection = LdapServers.connect(provider, config)) {
            ok(url + ": bound as " + config.ldapBindDn());
            DN base = new DN(config.ldapBaseDn());
            String missing = BackendSettings.missingSchema(connection.getSchema(config.ldapBaseDn()));
            report(missing == null, url + ": the schema defines what the worker writes", url + ": " + missing);
            Optional<BackendSettings.Durability> durability = BackendSettings.read(connection, base);
            if (durability.isEmpty()) {
                warn(url + ": the database's settings are not readable as " + config.ldapBindDn() + ": durability not checked");
            } else {
                String refusal = BackendSettings.refusal(config, durability.get());
                report(refusal == null, url + ": " + durability.get().database() + (durability.get().syncsEachAdd()
                        ? " syncs each add" : " checkpoints every " + durability.get().checkpoint().toMinutes() + " min")
                        + ", as " + StoreConfig.STORE_DURABILITY + "=" + (config.logDurability() ? "log" : "sync") + " needs", url + ": " + refusal);
            }
            checkIncomingLimit(url, connection);
            checkOwner(url, connection);
        } catch (LDAPException e) {
            fail(url + ": " + LdapFailures.describe(e));
        }
    }

    private void checkIncomingLimit(String url, LDAPConnection connection) throws LDAPException {
        Entry global;
        try {
            global = connection.getEntry("cn=config", "olcSockbufMaxIncomingAuth");
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.NO_SUCH_OBJECT) {
                throw e;
            }
            global = null; // hidden from this account
        }
        if (global == null || !global.hasAttribute("olcSockbufMaxIncomingAuth")) {
            warn(url + ": olcSockbufMaxIncomingAuth is not readable: " + StoreConfig.LDAP_MAX_WRITE_BYTES + " not checked");
            return;
        }
        long limit = global.getAttributeValueAsLong("olcSockbufMaxIncomingAuth");
        report(limit >= config.ldapMaxWriteBytes(), url + ": olcSockbufMaxIncomingAuth " + limit + " takes "
                + StoreConfig.LDAP_MAX_WRITE_BYTES + " (" + config.ldapMaxWriteBytes() + ")", url + ": olcSockbufMaxIncomingAuth " + limit
                + " is below " + StoreConfig.LDAP_MAX_WRITE_BYTES + " (" + config.ldapMaxWriteBytes() + "): slapd would drop such writes "
                + "without an answer");
    }

    /**
     * Finds some owner with the mailbox filter, then adds an empty folder below it and deletes it
     * again: slapd 2.5 and 2.6 offer no way to test a right without using it (neither the No-Op
     * control nor, usable, transactions; an assertion is tested before the access check).
     */
    private void checkOwner(String url, LDAPConnection connection) throws LDAPException {
        SearchRequest search = new SearchRequest(config.ldapBaseDn(), SearchScope.SUB,
                config.mailboxFilter().anyValue(), SearchRequest.NO_ATTRIBUTES);
        search.setSizeLimit(1);
        List<SearchResultEntry> found;
        try {
            found = connection.search(search).getSearchEntries();
        } catch (LDAPSearchException e) {
            if (e.getResultCode() != ResultCode.SIZE_LIMIT_EXCEEDED) {
                throw e;
            }
            found = e.getSearchEntries();
        }
        if (found.isEmpty()) {
            fail(url + ": no entry below " + config.ldapBaseDn() + " matches " + search.getFilter() + " for " + config.ldapBindDn()
                    + ": it could find no mailbox owner");
            return;
        }
        DN owner = found.get(0).getParsedDN();
        ok(url + ": finds mailbox owners, such as " + owner);
        Entry probe = MessageEntry.folder(owner, "mailstream-check-" + System.nanoTime());
        try {
            connection.add(probe);
        } catch (LDAPException e) {
            fail(url + ": may not add below " + owner + ": " + LdapFailures.describe(e));
            return;
        }
        try {
            connection.delete(probe.getDN());
            ok(url + ": may add below " + owner + " (an empty folder, added and deleted at once)");
        } catch (LDAPException e) {
            fail(url + ": added " + probe.getDN() + " but may not delete it, so remove it by hand: " + LdapFailures.describe(e));
        }
    }

    private static long setting(Config topicConfig, String name) {
        return Long.parseLong(topicConfig.get(name).value());
    }

    private static String cause(Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    }

    private void report(boolean passed, String ok, String failure) {
        if (passed) {
            ok(ok);
        } else {
            fail(failure);
        }
    }

    private void ok(String line) {
        out.println("ok    " + line);
    }

    private void warn(String line) {
        out.println("warn  " + line);
    }

    private void fail(String line) {
        failed = true;
        out.println("FAIL  " + line);
    }
}
