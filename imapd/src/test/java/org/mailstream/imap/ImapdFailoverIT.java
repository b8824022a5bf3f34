package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailstream.local.FreePort;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MetricsScrape;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;

/**
 * One IMAP session of the real bin/imapd while the back end's two real providers stop in turn:
 * it goes on on the other, reading and setting flags; with both stopped its commands get NO [UNAVAILABLE] and it stays, and
 * a login gets NO [UNAVAILABLE] rather than AUTHENTICATIONFAILED; with one back it goes on again.
 * The view of the folder it leaves, read from one provider, is read whole by the next session,
 * bound to the other: what one provider says is new, by its CSNs, is not what the other holds.
 * And a back end whose schema was not upgraded with imapd: a clear NO, a warning, no mail lost;
 * one whose schema cannot keep flags where UIDs were given: flags kept as before; one whose rules
 * are older than its schema: a clear NO saying how to mend it.
 */
class ImapdFailoverIT {

    private static final String TOPIC = "imapd-failover";

    @Test
    void aSessionGoesOnWhileEitherProviderAnswersAndIsToldUnavailableWhileNone() throws IOException {
        List<Slapd> providers = Slapd.startProviders(2);
        Slapd first = providers.get(0);
        Slapd second = providers.get(1);
        try {
            first.addMailbox("alice");
            // Several mails, so that a FETCH of all of them has reads sent ahead on the connection that is lost.
            StoreWorkerProcess.storeAll(TOPIC, first, second, List.of(
                    Map.entry("alice@example.com", MailCorpus.message("failover 1", "body\r\n")),
                    Map.entry("alice@example.com", MailCorpus.message("failover 2", "body\r\n")),
                    Map.entry("alice@example.com", MailCorpus.message("failover 3", "body\r\n"))));
            int metricsPort = FreePort.next();
            try (ImapdProcess imapd = ImapdProcess.start(first, Map.of("ldap.urls", first.url() + "," + second.url(),
                    "ldap.connect.timeout.ms", "1000", "ldap.response.timeout.ms", "3000", "metrics.listen", "127.0.0.1:" + metricsPort));
                    Socket socket = new Socket("127.0.0.1", imapd.port())) {
                socket.setSoTimeout(30_000);
                Session session = new Session(socket);
                session.answer("a1 LOGIN alice alice-secret", "a1 OK");
                session.answer("a2 SELECT INBOX", "a2 OK");
                first.stop();
                assertEquals(3, fetched(session.answer("a3 FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "a3 OK", imapd)));
                first.restart();
                second.stop();
                assertEquals(3, fetched(session.answer("a4 FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "a4 OK", imapd)));
                second.restart();
                first.stop();
                // UIDs 2 and 3 keep their flags in UID 1's entry: setting them reads that entry, then changes it, on the provider left.
                session.answer("a4s UID STORE 1:3 FLAGS.SILENT (\\Flagged)", "a4s OK", imapd);
                second.stop();
                session.answer("a5 NOOP", "a5 NO [UNAVAILABLE]", imapd);
                try (Socket late = new Socket("127.0.0.1", imapd.port())) {
                    late.setSoTimeout(30_000);
                    new Session(late).answer("b1 LOGIN alice alice-secret", "b1 NO [UNAVAILABLE]", imapd);
                }
                second.restart();
                assertEquals(3, fetched(session.answer("a6 FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "a6 OK", imapd)));
                String flags = session.answer("a6f FETCH 1:* (FLAGS)", "a6f OK", imapd);
                assertEquals(3, flags.split("FLAGS \\(\\\\Flagged\\)", -1).length - 1, "the flags set across the provider's loss: " + flags);
                // A look at the folder reads its view from the provider the session is on now, the second.
                session.answer("a7 NOOP", "a7 OK", imapd);
                session.answer("a8 LOGOUT", "a8 OK", imapd);
                first.restart();
                second.stop();
                double wholeReads = MetricsScrape.of(metricsPort).sum("mailstream_imap_folder_reads_total", Map.of("kind", "whole"));
                try (Socket next = new Socket("127.0.0.1", imapd.port())) {
                    next.setSoTimeout(30_000);
                    Session other = new Session(next);
                    other.answer("c1 LOGIN alice alice-secret", "c1 OK", imapd);
                    assertTrue(other.answer("c2 SELECT INBOX", "c2 OK", imapd).contains("* 3 EXISTS"));
                }
                assertEquals(wholeReads + 1, MetricsScrape.of(metricsPort).sum("mailstream_imap_folder_reads_total", Map.of("kind", "whole")),
                        "the view left by a session on the other provider is read whole");
            }
        } finally {
            providers.forEach(Slapd::close);
        }
    }

    @Test
    void aBackEndWhoseSchemaPredatesUidsGivenManyToAnEntryGetsNoServerbugNamingTheTypeAndKeepsEveryMail() throws IOException {
        try (Slapd earlier = Slapd.startWithSchema(schema -> Slapd.withoutType(schema, "mailStoreGivenUid"))) {
            earlier.addMailbox("alice");
            StoreWorkerProcess.storeAll(TOPIC + "-schema", earlier, earlier, List.of(
                    Map.entry("alice@example.com", MailCorpus.message("schema 1", "body\r\n")),
                    Map.entry("alice@example.com", MailCorpus.message("schema 2", "body\r\n"))));
            try (ImapdProcess imapd = ImapdProcess.start(earlier, Map.of());
                    Socket socket = new Socket("127.0.0.1", imapd.port())) {
                socket.setSoTimeout(30_000);
                Session session = new Session(socket);
                session.answer("a1 LOGIN alice alice-secret", "a1 OK", imapd);
                String refused = session.answer("a2 SELECT INBOX", "a2 NO [SERVERBUG]", imapd);
                assertTrue(refused.contains("mailStoreGivenUid") && refused.contains("imapd check"), refused);
                session.answer("a3 LOGOUT", "a3 OK", imapd);
                assertTrue(imapd.log().contains("NO [SERVERBUG]"), "the operator is told too:\n" + imapd.log());
            }
            assertEquals(2, earlier.messages("1.1").size(), "both mails are still stored");
        }
    }

    @Test
    void aBackEndWhoseStateClassCannotHoldTheFlagsAnEntryGivesKeepsEachInAnEntryOfItsOwn() throws Exception {
        try (Slapd earlier = Slapd.startWithSchema(schema -> schema.replace(" $ mailStoreGivenFlag ", " "))) {
            storeThreeMailsForAlice(earlier, "state-class");
            try (ImapdProcess imapd = ImapdProcess.start(earlier, Map.of());
                    Socket socket = new Socket("127.0.0.1", imapd.port())) {
                Session session = selected(socket, imapd);
                session.answer("a3 UID STORE 1:3 +FLAGS.SILENT (\\Seen)", "a3 OK", imapd);
                session.answer("a4 UID STORE 3 FLAGS.SILENT (\\Flagged)", "a4 OK", imapd);
                session.answer("a5 UNSELECT", "a5 OK", imapd);
                session.answer("a6 EXAMINE INBOX", "a6 OK", imapd);
                String flags = session.answer("a7 UID FETCH 1:3 FLAGS", "a7 OK", imapd);
                assertTrue(flags.contains("UID 1 FLAGS (\\Seen)") && flags.contains("UID 2 FLAGS (\\Seen)")
                        && flags.contains("UID 3 FLAGS (\\Flagged)"), flags);
            }
            try (var root = earlier.rootConnection()) {
                assertEquals(3, root.search("cn=INBOX,uid=alice," + Slapd.PEOPLE, com.unboundid.ldap.sdk.SearchScope.ONE,
                        "(objectClass=mailStoreState)", "1.1").getEntryCount(), "an entry a flagged message, as before");
            }
        }
    }

    @Test
    void aBackEndWhoseAccessRulesPredateItsSchemaAddsGivenFlagsAndRefusesToRemoveThemSayingHowToMendIt() throws Exception {
        try (Slapd earlier = Slapd.start()) {
            // The first record alone: it replaces every rule, and the rest would add cn=config's twice.
            earlier.applyShipped("mailstore.database.ldif",
                    rules -> rules.substring(0, rules.indexOf("\n\n") + 1).replace("attrs=mailStoreFlag,mailStoreGivenFlag", "attrs=mailStoreFlag"));
            storeThreeMailsForAlice(earlier, "access-rules");
            try (ImapdProcess imapd = ImapdProcess.start(earlier, Map.of());
                    Socket socket = new Socket("127.0.0.1", imapd.port())) {
                Session session = selected(socket, imapd);
                session.answer("a3 UID STORE 1:3 +FLAGS.SILENT (\\Seen)", "a3 OK", imapd);
                String refused = session.answer("a4 UID STORE 3 -FLAGS.SILENT (\\Seen)", "a4 NO [SERVERBUG]", imapd);
                assertTrue(refused.contains("mailstore.database.ldif"), refused);
                session.answer("a5 LOGOUT", "a5 OK", imapd);
                assertTrue(imapd.log().contains("mailstore.database.ldif"), "the operator is told too:\n" + imapd.log());
            }
        }
    }

    @Test
    void aBackEndWhoseSchemaPredatesTheHeaderKeptApartStoresAnAppendedMessageWithoutItAndListsItFromTheWhole() throws IOException {
        try (Slapd earlier = Slapd.startWithSchema(schema -> Slapd.withoutType(schema, "mailStoreHeader"))) {
            earlier.addMailbox("alice");
            try (ImapdProcess imapd = ImapdProcess.start(earlier, Map.of());
                    Socket socket = new Socket("127.0.0.1", imapd.port())) {
                socket.setSoTimeout(30_000);
                Session session = new Session(socket);
                session.answer("a1 LOGIN alice alice-secret", "a1 OK", imapd);
                String mail = "Subject: drafted\r\n\r\nbody\r\n";
                session.answer("a2 APPEND INBOX {" + mail.length() + "+}\r\n" + mail, "a2 OK", imapd);
                session.answer("a3 SELECT INBOX", "a3 OK", imapd);
                String listed = session.answer("a4 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "a4 OK", imapd);
                assertTrue(listed.contains("Subject: drafted"), listed);
                session.answer("a5 LOGOUT", "a5 OK", imapd);
            }
            assertEquals(1, earlier.messages("mailStoreRaw").size(), "the message is stored");
            assertFalse(earlier.messages("mailStoreHeader").get(0).hasAttribute("mailStoreHeader"), "without the copy its schema cannot hold");
        }
    }

    private static void storeThreeMailsForAlice(Slapd backEnd, String topic) {
        backEnd.addMailbox("alice");
        StoreWorkerProcess.storeAll(TOPIC + "-" + topic, backEnd, backEnd, List.of(
                Map.entry("alice@example.com", MailCorpus.message("flags 1", "body\r\n")),
                Map.entry("alice@example.com", MailCorpus.message("flags 2", "body\r\n")),
                Map.entry("alice@example.com", MailCorpus.message("flags 3", "body\r\n"))));
    }

    /** A session over {@code socket} logged in as alice with her INBOX selected. */
    private static Session selected(Socket socket, ImapdProcess imapd) throws IOException {
        socket.setSoTimeout(30_000);
        Session session = new Session(socket);
        session.answer("a1 LOGIN alice alice-secret", "a1 OK", imapd);
        session.answer("a2 SELECT INBOX", "a2 OK", imapd);
        return session;
    }

    /** How many messages an answer's lines gave. */
    private static long fetched(String answer) {
        return answer.lines().filter(line -> line.matches("\\* \\d+ FETCH .*")).count();
    }

    /** A plain IMAP conversation over a socket: a command, then the lines up to its tagged answer. */
    private static final class Session {
        private final BufferedReader in;
        private final OutputStream out;

        Session(Socket socket) throws IOException {
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            out = socket.getOutputStream();
            in.readLine();
        }

        String answer(String command, String expected) throws IOException {
            return answer(command, expected, null);
        }

        /** Sends {@code command} and returns every line up to its tagged answer, which must start with {@code expected}. */
        String answer(String command, String expected, ImapdProcess imapd) throws IOException {
            out.write((command + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String tag = command.substring(0, command.indexOf(' ') + 1);
            StringBuilder seen = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null) {
                seen.append(line).append('\n');
                if (line.startsWith(tag)) {
                    assertTrue(line.startsWith(expected), command + " got:\n" + seen + (imapd == null ? "" : imapd.log()));
                    return seen.toString();
                }
            }
            throw new AssertionError(command + ": the server closed the connection after:\n" + seen + (imapd == null ? "" : imapd.log()));
        }
    }
}
