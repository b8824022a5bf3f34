package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchResultEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Postfix;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TempFiles;

/**
 * Bounces for real: mail accepted by a real Postfix (its RCPT lookup found the mailbox) and
 * published over LMTP, then the mailbox removed before the worker stores it. The worker's bounces
 * go through that Postfix's own sendmail, back over LMTP, and are stored like any mail: in the
 * sender's mailbox, where the test reads them.
 */
class BounceIT {

    private static final String SUBJECT = "Undelivered Mail Returned to Sender";
    /** Python's smtplib sends MAIL and RCPT parameters as given; swaks has none for DSN. */
    private static final String SEND = """
            import smtplib, sys
            port, sender, recipient, mail_options, rcpt_options = sys.argv[1:6]
            with smtplib.SMTP("127.0.0.1", int(port)) as smtp:
                smtp.sendmail(sender, [recipient], sys.stdin.buffer.read(), mail_options.split(), rcpt_options.split())
            """;

    @Test
    void theSenderOfMailToAMailboxRemovedAfterPostfixTookItIsToldOnceAsAskedAndNeverAgainOnAReplay() throws IOException {
        KafkaCluster kafka = KafkaCluster.shared();
        Path socket = Postfix.lmtpSocketPath();
        try (Backend backend = new Backend(kafka, "bounces", 2);
                LmtpdProcess lmtpd = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", "bounces",
                        "deadline.ms", "8000", "lmtp.listen", "unix:" + socket, "lmtp.socket.group", "postfix"));
                Postfix postfix = Postfix.startLmtp(backend.slapd, socket)) {
            backend.addMailboxes("carol", "gone");
            send(postfix, "carol@example.com", "headers only", "RET=HDRS ENVID=env-hdrs", "NOTIFY=FAILURE");
            send(postfix, "carol@example.com", "whole message", "", "");
            send(postfix, "", "from the null sender", "", "");
            send(postfix, "carol@example.com", "no notice wanted", "", "NOTIFY=NEVER");
            assertTrue(postfix.awaitLogLines(line -> line.contains("to=<gone@example.com>") && line.contains("status=sent"), 4,
                    Duration.ofMinutes(1)), postfix::diagnostics);
            removeMailbox(backend.slapd, "gone");

            Map<String, String> bouncing = Map.of("bounce.command", postfix.sendmailCommand());
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(bouncing))) {
                Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertEquals(2, bounces(backend).size(), () -> postfix.diagnostics() + worker.log()));
                assertEquals(2, worker.logLines("status=bounced (no such mailbox"), worker::log);
                String headersOnly = raw(bounces(backend), "Original-Envelope-Id: env-hdrs");
                assertTrue(headersOnly.contains("Content-Type: text/rfc822-headers") && headersOnly.contains("Subject: headers only")
                        && !headersOnly.contains("the body of headers only"), headersOnly);
                assertTrue(headersOnly.contains("Final-Recipient: rfc822; gone@example.com\nAction: failed\nStatus: 5.1.1\n"),
                        headersOnly);
                assertFalse(headersOnly.contains(Slapd.PEOPLE), "the directory's names stay in the dead letter: " + headersOnly);
                String whole = raw(bounces(backend), "Subject: whole message");
                assertTrue(whole.contains("Content-Type: message/rfc822") && whole.contains("the body of whole message"), whole);
                assertTrue(bounces(backend).stream().noneMatch(e -> e.hasAttribute("mailStoreSender")), "sent with the null sender");

                List<ConsumerRecord<byte[], byte[]>> letters = backend.deadLetters(4);
                assertEquals(4, letters.size());
                assertEquals(2, letters.stream().filter(letter -> "true".equals(header(letter, DeadLetters.BOUNCED_HEADER))).count());
            }

            // Stored again from the start, as a replay or a new back end would: no second notice.
            int submitted = postfix.logLines(line -> line.contains("postfix/pickup")).size();
            assertEquals(2, submitted, postfix::diagnostics);
            Map<String, String> again = Map.of("bounce.command", postfix.sendmailCommand(), "kafka.group.id", "bounces-again");
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(again))) {
                Backend.awaitCaughtUp(kafka, "bounces", "bounces-again", worker::log);
                assertEquals(2, worker.logLines("; bounced before"), worker::log);
                assertEquals(0, worker.logLines("status=bounced"), worker::log);
            }
            assertTrue(postfix.awaitEmptyQueue(Duration.ofSeconds(30)), postfix::diagnostics);
            assertEquals(submitted, postfix.logLines(line -> line.contains("postfix/pickup")).size(), postfix::diagnostics);
            assertEquals(2, bounces(backend).size());
        }
    }

    @Test
    void aBounceCommandThatFailsHoldsItsRecordAndThoseAfterItUntilOneThatWorksTakesTheNoticeAndOneThatIsNoFileStopsTheWorker()
            throws IOException {
        KafkaCluster kafka = KafkaCluster.shared();
        try (Backend backend = new Backend(kafka, "bounce-failing", 1)) {
            backend.addMailboxes("carol");
            try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), "bounce-failing")) {
                publisher.publish(List.of(Map.entry("gone@example.com", MailCorpus.message("for a mailbox gone", "x\r\n")),
                        Map.entry("carol@example.com", MailCorpus.message("behind it", "y\r\n"))));
            }
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(Map.of("bounce.command", "/bin/false")))) {
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> worker.logged("cannot send its bounce, the record waits"));
                assertEquals(0, backend.messageCount(), "the mail behind it waits in its partition");
                assertEquals(0, backend.deadLetters(0).size(), worker::log);
            }

            Path notices = TempFiles.directory("notices");
            Path sink = notices.resolve("sink");
            Files.writeString(sink, "#!/bin/sh\ncat > " + notices.resolve("notice") + "\necho \"$@\" > " + notices.resolve("argv") + "\n");
            Files.setPosixFilePermissions(sink, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(Map.of("bounce.command", sink.toString())))) {
                backend.awaitMessages(1, Duration.ofSeconds(60), worker::log);
                List<ConsumerRecord<byte[], byte[]>> letters = backend.deadLetters(1);
                assertEquals(1, letters.size(), worker::log);
                assertEquals("true", header(letters.get(0), DeadLetters.BOUNCED_HEADER));
                assertTrue(Files.readString(notices.resolve("notice")).contains("Final-Recipient: rfc822; gone@example.com\n"));
                assertEquals("sender@example.org\n", Files.readString(notices.resolve("argv")), "the sender, after the command's words");
            }

            Map<String, String> noFile = Map.of("bounce.command", "/nonexistent/sendmail -i --");
            try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig(noFile))) {
                assertEquals(78, worker.awaitExitStatus(Duration.ofSeconds(60)), worker::log);
                assertTrue(worker.logged("bounce.command: /nonexistent/sendmail is not an executable file"), worker::log);
            }
        }
    }

    private static void send(Postfix postfix, String sender, String subject, String mailOptions, String rcptOptions) {
        byte[] message = MailCorpus.message(subject, "the body of " + subject + "\r\n");
        Command.Result sent = Command.of(Command.argv("python3", "-c", SEND, postfix.port(), sender, "gone@example.com", mailOptions,
                rcptOptions)).run(message, Duration.ofSeconds(30));
        assertEquals(0, sent.exitCode(), sent::toString);
    }

    private static void removeMailbox(Slapd slapd, String name) {
        try (LDAPConnection root = slapd.rootConnection()) {
            root.delete("uid=" + name + "," + Slapd.PEOPLE);
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<SearchResultEntry> bounces(Backend backend) {
        return backend.messages().stream().filter(e -> SUBJECT.equals(e.getAttributeValue("mailStoreSubject"))).toList();
    }

    private static String raw(List<SearchResultEntry> bounces, String containing) {
        return bounces.stream().map(e -> new String(e.getAttributeValueBytes("mailStoreRaw"), StandardCharsets.UTF_8).replace("\r\n", "\n"))
                .filter(text -> text.contains(containing)).findFirst().orElseThrow(() -> new AssertionError("no bounce has " + containing));
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
