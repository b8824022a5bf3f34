package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.SearchResultEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Chores;
import org.mailstream.local.Command;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.schemas.MessageIdentity;

/** What store-worker writes into a real slapd, and what it sends to the dead-letter topic. */
class StoreWorkerStorageIT {

    private static final Path INGEST_CLI = Command.repositoryRoot().resolve("bin/ingest-cli");
    /** Mails the pipe test delivers, four ingest-cli at a time: one JVM a mail, so this count is the test's time. */
    private static final int MAILS = 100;

    @Test
    void aHundredMailsToTenMailboxesThroughIngestCliAreStoredOnceEachByteForByteUnderTheirOwners() throws Exception {
        try (Backend backend = new Backend("storage-100", 6)) {
            String[] owners = {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"};
            backend.addMailboxes(owners);
            Path ingest = backend.ingestConfig();
            Map<String, String> ownerById = new HashMap<>();
            List<Future<Command.Result>> runs = new ArrayList<>();
            ExecutorService postfix = Executors.newFixedThreadPool(4);
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                for (int i = 0; i < MAILS; i++) {
                    String owner = owners[i % owners.length];
                    byte[] mail = MailCorpus.ofSize(2000 + i, i);
                    ownerById.put(MessageIdentity.of(mail), owner);
                    runs.add(postfix.submit(() -> Command.likePipe(Command.argv(INGEST_CLI, "-c", ingest,
                            "-f", "sender@example.org", "-d", owner + "@example.com")).run(mail, Duration.ofSeconds(60))));
                }
                for (Future<Command.Result> run : runs) {
                    Command.Result result = run.get();
                    assertEquals(0, result.exitCode(), result::toString);
                }
                backend.awaitMessages(MAILS, Duration.ofSeconds(120), worker::log);
            } finally {
                postfix.shutdownNow();
            }
            for (SearchResultEntry entry : backend.messages()) {
                byte[] raw = entry.getAttributeValueBytes("mailStoreRaw");
                String id = entry.getAttributeValue("mailStoreId");
                assertEquals(id, MessageIdentity.sha256Hex(raw), "raw bytes unchanged");
                assertEquals(new DN("uid=" + ownerById.get(id) + "," + Slapd.PEOPLE), entry.getParsedDN().getParent().getParent());
            }
            assertEquals(MAILS, backend.messages().stream().map(e -> e.getAttributeValue("mailStoreId")).distinct().count());
            assertEquals(0, backend.deadLetters(0).size());
        }
    }

    @Test
    void theSameMailTwiceAReplayFromTheStartAndARestartStillLeaveOneEntryPerMail() {
        try (Backend backend = new Backend("storage-duplicates", 3)) {
            backend.addMailboxes("bob", "alice");
            Path ingest = backend.ingestConfig();
            byte[] first = MailCorpus.message("first", "one\r\n");
            byte[] second = MailCorpus.message("second", "two\r\n");
            for (byte[] mail : List.of(first, first, second)) {
                Command.Result result = Command.likePipe(Command.argv(INGEST_CLI, "-c", ingest, "-d", "bob@example.com",
                        "alice@example.com")).run(mail, Duration.ofSeconds(60));
                assertEquals(0, result.exitCode(), result::toString);
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(4, Duration.ofSeconds(60), worker::log);
                assertEquals(143, worker.stop(), worker::log);
            }
            // A new group reads the topic again from its first record.
            try (StoreWorkerProcess replay = StoreWorkerProcess.start(backend.workerConfig(Map.of("kafka.group.id", "replay")))) {
                backend.awaitCaughtUp("replay", replay::log);
                assertEquals(143, replay.stop(), replay::log);
                assertTrue(replay.log().contains("stored 0, already stored 6, dead letters 0"), replay::log);
            }
            try (StoreWorkerProcess restarted = StoreWorkerProcess.start(backend.workerConfig())) {
                Chores.pause(3000);
                assertEquals(4, backend.messageCount(), restarted::log);
            }
            assertEquals(4, backend.messageCount());
        }
    }

    @Test
    void theIndexAttributesComeFromTheDecodedHeaderAndTheEnvelope() {
        try (Backend backend = new Backend("storage-index", 1)) {
            backend.addMailboxes("bob");
            byte[] mail = ("From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@example.org>\r\nTo: bob@example.com\r\n"
                    + "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= und mehr\r\nMessage-ID: <abc.123@example.org>\r\n"
                    + "Date: Wed, 25 Nov 2026 13:14:15 +0100\r\n\r\nHallo\r\n").getBytes(StandardCharsets.US_ASCII);
            Command.Result result = Command.likePipe(Command.argv(INGEST_CLI, "-c", backend.ingestConfig(), "-f", "joerg@example.org",
                    "-q", "4XyZ", "-a", "bob.alias@example.com", "-i", "192.0.2.9", "-d", "bob@example.com"))
                    .run(mail, Duration.ofSeconds(60));
            assertEquals(0, result.exitCode(), result::toString);
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(1, Duration.ofSeconds(60), worker::log);
            }
            SearchResultEntry entry = backend.messages().get(0);
            assertEquals("Grüße und mehr", entry.getAttributeValue("mailStoreSubject"));
            assertEquals("Jörg Müller <joerg@example.org>", entry.getAttributeValue("mailStoreFrom"));
            assertEquals("<abc.123@example.org>", entry.getAttributeValue("mailStoreMessageId"));
            assertEquals("20261125121415.000Z", entry.getAttributeValue("mailStoreDate"));
            assertEquals("joerg@example.org", entry.getAttributeValue("mailStoreSender"));
            assertEquals("bob@example.com", entry.getAttributeValue("mailStoreRecipient"));
            assertEquals("bob.alias@example.com", entry.getAttributeValue("mailStoreOriginalRecipient"));
            assertEquals("4XyZ", entry.getAttributeValue("mailStoreQueueId"));
            assertEquals("192.0.2.9", entry.getAttributeValue("mailStoreClientAddress"));
            assertEquals(Integer.toString(mail.length), entry.getAttributeValue("mailStoreSize"));
            assertEquals(MessageIdentity.sha256Hex(mail), entry.getAttributeValue("mailStoreSha256"));
            assertNotNull(entry.getAttributeValue("mailStoreReceived"));
            assertNull(entry.getAttributeValue("mailStoreParseError"));
        }
    }

    @Test
    void aMailJakartaMailCannotParseIsStoredRawWithTheParseError() {
        try (Backend backend = new Backend("storage-unparseable", 1)) {
            backend.addMailboxes("bob");
            byte[] mail = "From: \"unterminated <alice@example.org>\r\nSubject: x\r\n\r\nbody\0with NUL\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            Command.Result result = Command.likePipe(Command.argv(INGEST_CLI, "-c", backend.ingestConfig(), "-d", "bob@example.com"))
                    .run(mail, Duration.ofSeconds(60));
            assertEquals(0, result.exitCode(), result::toString);
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                backend.awaitMessages(1, Duration.ofSeconds(60), worker::log);
            }
            SearchResultEntry entry = backend.messages().get(0);
            assertArrayEquals(mail, entry.getAttributeValueBytes("mailStoreRaw"));
            assertNotNull(entry.getAttributeValue("mailStoreParseError"), entry.toLDIFString());
            assertNull(entry.getAttributeValue("mailStoreFrom"));
            assertEquals(0, backend.deadLetters(0).size());
        }
    }

    @Test
    void anUnknownRecipientAndAnEntryTooLargeForTheBackEndGoToTheDeadLetterTopicByteIdenticalWithReasons() {
        try (Backend backend = new Backend("storage-dlq", 1)) {
            backend.addMailboxes("bob");
            byte[] unknown = MailCorpus.message("to nobody", "x\r\n");
            byte[] large = MailCorpus.ofSize(300_000, 3);
            try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
                publisher.publish(List.of(Map.entry("nobody@example.com", unknown), Map.entry("bob@example.com", large)));
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(Map.of("ldap.max.write.bytes", "200000")))) {
                List<ConsumerRecord<byte[], byte[]>> letters = backend.deadLetters(2);
                assertEquals(2, letters.size(), worker::log);
                ConsumerRecord<byte[], byte[]> toNobody = letters.get(0);
                assertArrayEquals(unknown, toNobody.value());
                assertEquals("nobody@example.com", new String(toNobody.key(), StandardCharsets.UTF_8));
                assertNotNull(toNobody.headers().lastHeader("mailstream.envelope"), "original headers kept");
                assertTrue(reason(toNobody).startsWith("no such mailbox"), reason(toNobody));
                assertTrue(source(toNobody).startsWith(backend.topic + "/0/"), source(toNobody));
                assertArrayEquals(large, letters.get(1).value());
                assertTrue(reason(letters.get(1)).startsWith("too large for the back end"), reason(letters.get(1)));
                assertEquals(0, backend.messageCount());
            }
        }
    }

    @Test
    void hostileRecipientsNeitherWidenTheSearchNorWriteOutsideTheOwnersSubtree() throws Exception {
        try (Backend backend = new Backend("storage-hostile", 1)) {
            backend.addMailboxes("bob", "alice");
            // An owner whose address is itself full of DN and filter metacharacters.
            try (var root = backend.slapd.rootConnection()) {
                root.add("dn: uid=odd," + Slapd.PEOPLE, "objectClass: inetOrgPerson", "uid: odd", "cn: odd", "sn: odd",
                        "mail: a,ou=x+cn=y@example.com");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            List<String> hostile = List.of("*)(uid=*@example.com", "*@example.com", "a,ou=x@example.com",
                    "bob\0@example.com", "back\\slash@example.com", "bob@example.com)(mail=*");
            List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
            for (String recipient : hostile) {
                mails.add(Map.entry(recipient, MailCorpus.message("hostile " + recipient, "x\r\n")));
            }
            byte[] toOdd = MailCorpus.message("to the odd one", "x\r\n");
            mails.add(Map.entry("a,ou=x+cn=y@example.com", toOdd));
            try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
                publisher.publish(mails);
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
                List<ConsumerRecord<byte[], byte[]>> letters = backend.deadLetters(hostile.size());
                assertEquals(hostile.size(), letters.size(), worker::log);
                Set<String> keys = new HashSet<>();
                letters.forEach(l -> keys.add(new String(l.key(), StandardCharsets.UTF_8)));
                assertEquals(new HashSet<>(hostile), keys);
                backend.awaitMessages(1, Duration.ofSeconds(30), worker::log);
            }
            SearchResultEntry stored = backend.messages().get(0);
            assertArrayEquals(toOdd, stored.getAttributeValueBytes("mailStoreRaw"));
            assertEquals("cn=INBOX,uid=odd," + Slapd.PEOPLE, stored.getParsedDN().getParent().toString());
        }
    }

    private static String reason(ConsumerRecord<byte[], byte[]> record) {
        return header(record, "mailstream.dlq.reason");
    }

    private static String source(ConsumerRecord<byte[], byte[]> record) {
        return header(record, "mailstream.dlq.source");
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? "(no " + name + ")" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
