package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchResultEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MetricsScrape;
import org.mailstream.local.Postfix;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;

/**
 * Quota end to end: real Postfix with the shipped main.cf and access table, the real ingest-cli,
 * worker and slapd with the shipped rules, and store-worker quota recalc as an operator runs it.
 */
class QuotaIT {

    private static final String DORA = "uid=dora," + Slapd.PEOPLE;

    @Test
    void aMailboxTakesMailUntilItPassesItsQuotaThenRcptGets452AndNothingQueuesUntilRecalcCountsWhatWasRemoved()
            throws LDAPException, IOException {
        KafkaCluster kafka = KafkaCluster.shared();
        try (Backend backend = new Backend(kafka, "quota", 2);
                Postfix postfix = Postfix.start(backend.slapd, Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic",
                        "quota", "deadline.ms", "8000"))) {
            backend.addMailboxes("dora", "erin");
            int metricsPort = FreePort.next();
            Path config = backend.workerConfig(Map.of("quota.messages", "3", "metrics.listen", "127.0.0.1:" + metricsPort));
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(config)) {
                for (int i = 1; i <= 4; i++) {
                    Command.Result sent = postfix.send("sender@example.org", "dora@example.com", MailCorpus.message("mail " + i, "x\r\n"));
                    assertEquals(0, sent.exitCode(), sent::toString);
                }
                Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertEquals("TRUE", dora(backend).getAttributeValue("mailStoreOverQuota"), () -> postfix.diagnostics() + worker.log()));
                List<SearchResultEntry> stored = backend.messages();
                assertEquals(4, stored.size(), "mail already accepted is stored: the quota is soft");
                assertEquals("4", dora(backend).getAttributeValue("mailStoreUsedMessages"));
                assertEquals(Long.toString(stored.stream().mapToLong(e -> e.getAttributeValueAsLong("mailStoreSize")).sum()),
                        dora(backend).getAttributeValue("mailStoreUsedBytes"));
                assertEquals(1, MetricsScrape.of(metricsPort).sum("mailstream_owners_over_quota"), worker::log);
            }

            Command.Result full = postfix.tryRecipient("dora@example.com");
            assertTrue(full.stdout().contains("<** 452 4.2.2 <dora@example.com>: Recipient address rejected: Mailbox full"), full::toString);
            assertTrue(postfix.queueIsEmpty(), postfix::diagnostics);
            Command.Result other = postfix.tryRecipient("erin@example.com");
            assertTrue(other.stdout().contains("<-  250 2.1.5 Ok"), other::toString);

            removeTwoOf(backend);
            Command.Result recalc = Command.of(Command.argv(Command.repositoryRoot().resolve("bin/store-worker"), "quota", "recalc",
                    "-c", config)).run(new byte[0], Duration.ofMinutes(1));
            assertEquals(0, recalc.exitCode(), recalc::toString);
            assertTrue(recalc.stdout().contains(DORA + ": 2 messages, "), recalc::toString);
            assertEquals("FALSE", dora(backend).getAttributeValue("mailStoreOverQuota"));
            Command.Result again = postfix.tryRecipient("dora@example.com");
            assertTrue(again.stdout().contains("<-  250 2.1.5 Ok"), again::toString);
        }
    }

    private static SearchResultEntry dora(Backend backend) throws LDAPException {
        try (LDAPConnection root = backend.slapd.rootConnection()) {
            return root.getEntry(DORA, "mailStoreUsedMessages", "mailStoreUsedBytes", "mailStoreOverQuota");
        }
    }

    private static void removeTwoOf(Backend backend) {
        try (LDAPConnection root = backend.slapd.rootConnection()) {
            for (SearchResultEntry message : backend.messages().subList(0, 2)) {
                root.delete(message.getDN());
            }
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }
    }
}
