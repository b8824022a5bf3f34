package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.SearchResultEntry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;
import org.mailstream.schemas.MessageIdentity;

/**
 * Records no honest ingest would write, owners the rules do not let the worker write below, an
 * address that has passed to someone else, and a back end that takes smaller writes than the
 * worker lets through, each against real slapd and a real broker: none of them may hold a
 * partition for good or put mail where it does not belong.
 */
class HostileRecordsIT {

    @Test
    void aForgedEnvelopeAndAForgedAttemptCountGoToDeadLettersOrAreStoredAndTheMailAfterThemIsStored() {
        try (Backend backend = new Backend("hostile-forged", 1)) {
            backend.addMailboxes("bob");
            byte[] farFuture = MailCorpus.message("received in the year 999999999", "x\r\n");
            ProducerRecord<byte[], byte[]> forgedAttempts = MailPublisher.record(backend.topic, "bob@example.com",
                    MailCorpus.message("attempts header forged", "x\r\n"));
            forgedAttempts.headers().add(DeadLetters.ATTEMPTS_HEADER, "many".getBytes(StandardCharsets.US_ASCII));
            forgedAttempts.headers().add(DeadLetters.TIME_HEADER, "yesterday".getBytes(StandardCharsets.US_ASCII));
            byte[] after = MailCorpus.message("after the forged ones", "x\r\n");
            try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
                publisher.send(List.of(
                        withReceivedAt(backend.topic, "bob@example.com", farFuture, "+999999999-01-01T00:00:00Z"),
                        forgedAttempts,
                        MailPublisher.record(backend.topic, "bob@example.com", after)));
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(2, Duration.ofSeconds(60), worker::log);
                List<ConsumerRecord<byte[], byte[]>> letters = backend.deadLetters(1);
                assertEquals(1, letters.size(), worker::log);
                assertArrayEquals(farFuture, letters.get(0).value());
                assertTrue(reason(letters.get(0)).contains("outside the years 0001 to 9999"), reason(letters.get(0)));
            }
        }
    }

    @Test
    void aDateHeaderInTheYear99999IsLeftOutOfTheIndexAndTheMailIsStored() {
        try (Backend backend = new Backend("hostile-date", 1)) {
            backend.addMailboxes("bob");
            byte[] mail = ("From: a@example.org\r\nTo: bob@example.com\r\nSubject: far future\r\n"
                    + "Date: Mon, 1 Jan 99999 00:00:00 +0000\r\n\r\nx\r\n").getBytes(StandardCharsets.US_ASCII);
            try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
                publisher.publish(List.of(Map.entry("bob@example.com", mail)));
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(1, Duration.ofSeconds(60), worker::log);
            }
            SearchResultEntry stored = backend.messages().get(0);
            assertArrayEquals(mail, stored.getAttributeValueBytes("mailStoreRaw"));
            assertEquals("far future", stored.getAttributeValue("mailStoreSubject"));
            assertNull(stored.getAttributeValue("mailStoreDate"));
            assertEquals(0, backend.deadLetters(0).size());
        }
    }

    @Test
    void anOwnerTheRulesDoNotLetTheWorkerWriteBelowIsNamedOnceAndItsMailIsStoredOnceTheOperatorGrantsIt() {
        try (Backend backend = new Backend("hostile-rights", 1)) {
            try (LDAPConnection root = backend.slapd.rootConnection()) {
                root.add("dn: ou=elsewhere," + Slapd.PEOPLE, "objectClass: organizationalUnit", "ou: elsewhere");
                root.add("dn: uid=deep,ou=elsewhere," + Slapd.PEOPLE, "objectClass: inetOrgPerson", "uid: deep", "cn: deep",
                        "sn: deep", "mail: deep@example.com");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
                publisher.publish(List.of(Map.entry("deep@example.com", MailCorpus.message("to a deep owner", "x\r\n"))));
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(Map.of("retry.backoff.max.ms", "400")))) {
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> worker.logLines("not stored, retrying") >= 4);
                assertEquals(1, worker.logLines("which only the operator can mend"), worker::log);
                assertEquals(0, backend.messageCount());
                backend.slapd.modifyConfig("""
                        dn: olcDatabase={1}mdb,cn=config
                        changetype: modify
                        add: olcAccess
                        olcAccess: {0}to dn.subtree="ou=elsewhere,%s" by dn.exact="%s" write by * break
                        """.formatted(Slapd.PEOPLE, Slapd.SERVICE_DN));
                backend.awaitMessages(1, Duration.ofSeconds(30), worker::log);
                assertTrue(worker.logged("storing again after"), worker::log);
            }
            assertEquals(0, backend.deadLetters(0).size());
        }
    }

    @Test
    void mailReceivedBeforeItsMailboxExistedGoesToDeadLettersUnlessTheCheckIsTurnedOffToMoveAMailbox() {
        try (Backend backend = new Backend("hostile-reuse", 1)) {
            byte[] toEarlierHolder = MailCorpus.message("for the address's earlier holder", "x\r\n");
            byte[] toNewHolder = MailCorpus.message("for carol", "x\r\n");
            try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
                publisher.send(List.of(withReceivedAt(backend.topic, "carol@example.com", toEarlierHolder,
                        Instant.now().minus(Duration.ofDays(30)).toString())));
                backend.addMailboxes("carol");
                publisher.publish(List.of(Map.entry("carol@example.com", toNewHolder)));
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(1, Duration.ofSeconds(60), worker::log);
                List<ConsumerRecord<byte[], byte[]>> letters = backend.deadLetters(1);
                assertEquals(1, letters.size(), worker::log);
                assertArrayEquals(toEarlierHolder, letters.get(0).value());
                assertTrue(reason(letters.get(0)).startsWith("mailbox newer than the mail"), reason(letters.get(0)));
                worker.stop(); // leaves the group, which the replay below takes over
            }
            assertArrayEquals(toNewHolder, backend.messages().get(0).getAttributeValueBytes("mailStoreRaw"));
            Command.Result moved = Command.of(List.of(Command.repositoryRoot().resolve("bin/store-worker").toString(), "replay",
                    "-c", backend.workerConfig(Map.of("mailbox.created.after.mail.ms", "-1")).toString(), "--from-earliest", "--execute"))
                    .run(new byte[0], Duration.ofSeconds(120));
            assertEquals(0, moved.exitCode(), moved::toString);
            assertEquals(2, backend.messageCount(), moved::toString);
        }
    }

    @Test
    void aProviderThatTakesSmallerWritesThanTheWorkerLetsThroughIsRefusedAtStartNamingBothSettings() {
        try (Backend backend = new Backend("hostile-sockbuf", 1)) {
            backend.slapd.modifyConfig("""
                    dn: cn=config
                    changetype: modify
                    replace: olcSockbufMaxIncomingAuth
                    olcSockbufMaxIncomingAuth: 4194303
                    """);
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                assertEquals(78, worker.awaitExitStatus(Duration.ofSeconds(60)), worker::log);
                assertTrue(worker.logged("olcSockbufMaxIncomingAuth 4194303 is below ldap.max.write.bytes (16777215)"), worker::log);
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(Map.of("ldap.max.write.bytes", "4194303")))) {
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> worker.logged("assigned"));
                assertTrue(worker.isAlive(), worker::log);
            }
        }
    }

    /** The record ingest would write for {@code message}, but with {@code receivedAt} as given. */
    private static ProducerRecord<byte[], byte[]> withReceivedAt(String topic, String recipient, byte[] message, String receivedAt) {
        String envelope = """
                {"version":%d,"sender":"s@example.org","recipient":"%s","receivedAt":"%s","size":%d,"sha256":"%s","ingestHost":"test"}"""
                .formatted(Envelope.VERSION, recipient, receivedAt, message.length, MessageIdentity.sha256Hex(message));
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, recipient.getBytes(StandardCharsets.UTF_8), message);
        record.headers().add(MailRecord.ENVELOPE_HEADER, envelope.getBytes(StandardCharsets.UTF_8));
        return record;
    }

    private static String reason(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(DeadLetters.REASON_HEADER);
        return header == null ? "(no reason)" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
