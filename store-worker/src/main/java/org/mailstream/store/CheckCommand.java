package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.ServerSet;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.mailstream.config.CheckReport;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.config.KafkaChecks;
import org.mailstream.directory.LimitedSearch;

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

            """).configurationFile(StoreConfig.DEFAULT_PATH), WorkerExit.Program.CHECK);

    /** How much larger than a record of the topic its dead letter may be: the headers that say why. */
    private static final int DEAD_LETTER_HEADERS = 65_536;

    private final StoreConfig config;
    private final CheckReport report;

    private CheckCommand(StoreConfig config, PrintStream out) {
        this.config = config;
        this.report = new CheckReport(out);
    }

    static int run(String[] args, PrintStream out) {
        return CHECK.run(args, CHECK.sysexits(out), StoreConfig::load, (command, config) -> new CheckCommand(config, out).check().code());
    }

    private WorkerExit check() throws Exception {
        checkKafka();
        checkBounceCommand();
        ServerSet[] providers = LdapServers.providers(config, null);
        for (int i = 0; i < providers.length; i++) {
            checkProvider(config.ldapUrls().get(i), providers[i]);
        }
        return report.failed() ? WorkerExit.CONFIG : WorkerExit.CHECKED;
    }

    private void checkKafka() throws InterruptedException {
        try (Admin admin = Admin.create(config.adminSettings())) {
            KafkaChecks kafka = new KafkaChecks(admin, report);
            if (!kafka.brokersAnswer(String.join(",", config.getList(StoreConfig.BOOTSTRAP_SERVERS)))) {
                return;
            }
            KafkaChecks.Topic topic = kafka.topic("topic", config.topic(), AclOperation.READ);
            KafkaChecks.Topic deadLetters = kafka.topic("dead-letter topic", config.deadLetterTopic(), AclOperation.WRITE);
            if (topic != null && deadLetters != null) {
                checkSizes(topic, deadLetters);
            }
            checkGroup(admin, kafka);
        }
    }

    private void checkBounceCommand() {
        List<String> command = config.bounceCommand();
        if (command.isEmpty()) {
            report.warn(StoreConfig.BOUNCE_COMMAND + " is empty: the sender of a mail whose mailbox is removed after Postfix took it "
                    + "is not told; only the dead letter says so");
            return;
        }
        report.report(Files.isExecutable(Path.of(command.get(0))), StoreConfig.BOUNCE_COMMAND + ": " + command.get(0) + " can run",
                StoreConfig.BOUNCE_COMMAND + ": " + command.get(0) + " is not an executable file: the worker would not start");
    }

    /** The size chain: the dead-letter topic takes the topic's largest record with its headers, the back end takes the record. */
    private void checkSizes(KafkaChecks.Topic topic, KafkaChecks.Topic deadLetters) {
        long largest = topic.maxMessageBytes();
        report.report(deadLetters.maxMessageBytes() >= largest + DEAD_LETTER_HEADERS,
                "dead-letter topic " + deadLetters.name() + ": max.message.bytes " + deadLetters.maxMessageBytes()
                        + " takes the largest record of " + topic.name() + " (" + largest + ")",
                "dead-letter topic " + deadLetters.name() + ": max.message.bytes " + deadLetters.maxMessageBytes()
                        + " cannot take the largest record of " + topic.name() + " (" + largest + ") with its dead-letter headers: raise it to "
                        + (largest + DEAD_LETTER_HEADERS));
        if (largest > config.ldapMaxWriteBytes()) {
            report.warn("topic " + topic.name() + ": max.message.bytes " + largest + " is above " + StoreConfig.LDAP_MAX_WRITE_BYTES + " ("
                    + config.ldapMaxWriteBytes() + "): the largest mails will go to the dead-letter topic");
        }
    }

    private void checkGroup(Admin admin, KafkaChecks kafka) throws InterruptedException {
        String group = config.groupId();
        try {
            ConsumerGroupDescription described = admin.describeConsumerGroups(List.of(group),
                    new DescribeConsumerGroupsOptions().includeAuthorizedOperations(true)).describedGroups().get(group)
                    .get(KafkaChecks.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            report.ok("group " + group + ": " + described.groupState().toString().toLowerCase(Locale.ROOT) + ", "
                    + described.members().size() + " member(s)");
            kafka.right("group " + group, described.authorizedOperations(), AclOperation.READ);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                report.ok("group " + group + ": new; it starts from the earliest offset");
            } else {
                report.fail("group " + group + ": " + KafkaChecks.cause(e));
            }
        } catch (TimeoutException e) {
            report.fail("group " + group + ": " + KafkaChecks.cause(e));
        }
    }

    private void checkProvider(String url, ServerSet provider) throws Exception {
        try (LDAPConnection connection = LdapServers.connect(provider, config)) {
            report.ok(url + ": bound as " + config.ldapBindDn());
            BackendSettings.inspect(url, connection, config, report);
            checkOwner(url, connection);
        } catch (LDAPException e) {
            report.fail(url + ": " + LdapFailures.describe(e));
        }
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
        List<SearchResultEntry> found = LimitedSearch.entries(connection, search);
        if (found.isEmpty()) {
            report.fail(url + ": no entry below " + config.ldapBaseDn() + " matches " + search.getFilter() + " for " + config.ldapBindDn()
                    + ": it could find no mailbox owner");
            return;
        }
        DN owner = found.get(0).getParsedDN();
        report.ok(url + ": finds mailbox owners, such as " + owner);
        Entry probe = MessageEntry.folder(owner, "mailstream-check-" + System.nanoTime());
        try {
            connection.add(probe);
        } catch (LDAPException e) {
            report.fail(url + ": may not add below " + owner + ": " + LdapFailures.describe(e));
            return;
        }
        try {
            connection.delete(probe.getDN());
            report.ok(url + ": may add below " + owner + " (an empty folder, added and deleted at once)");
        } catch (LDAPException e) {
            report.fail(url + ": added " + probe.getDN() + " but may not delete it, so remove it by hand: " + LdapFailures.describe(e));
        }
    }
}
