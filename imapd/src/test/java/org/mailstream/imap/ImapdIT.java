package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ModificationType;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Mbsync;
import org.mailstream.local.MetricsScrape;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TempFiles;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.schemas.ServedForm;
import org.mailstream.testsupport.CuttableRelay;

/**
 * The real bin/imapd over a real slapd with the shipped schema and access rules, holding mail
 * that the real bin/store-worker stored from the topic; read by clients no one here wrote:
 * Python's imaplib, curl and mbsync.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ImapdIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "imapd-it";

    private static Slapd slapd;
    private static StoreWorkerProcess worker;
    private static ImapdProcess imapd;
    private static int metricsPort;
    /** Alice's mails by name, as published. */
    private static final Map<String, byte[]> ALICES = new LinkedHashMap<>();

    @BeforeAll
    static void mailStoredForAliceAndBobAndAnImapServerOverIt() {
        KafkaCluster kafka = KafkaCluster.shared();
        kafka.createTopic(TOPIC, 2, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(TOPIC + ".dlq", 1, 1, Map.of("max.message.bytes", "17000000"));
        slapd = Slapd.start();
        slapd.addMailbox("alice");
        slapd.addMailbox("bob");
        ALICES.putAll(MailCorpus.awkward());
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        ALICES.values().forEach(mail -> mails.add(Map.entry("alice@example.com", mail)));
        mails.add(Map.entry("bob@example.com", MailCorpus.message("for bob", "bob's own\r\n")));
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), TOPIC)) {
            // One at a time, so that each is received after the one before: UIDs follow arrival.
            mails.forEach(mail -> publisher.publish(List.of(mail)));
        }
        worker = StoreWorkerProcess.start(StoreWorkerProcess.config(kafka, TOPIC, slapd, Map.of()));
        awaitMessageEntries(ALICES.size() + 1);
        metricsPort = FreePort.next();
        imapd = ImapdProcess.start(slapd, Map.of("metrics.listen", "127.0.0.1:" + metricsPort));
    }

    @AfterAll
    static void stopEverything() {
        if (imapd != null) {
            imapd.close();
        }
        if (worker != null) {
            worker.close();
        }
        if (slapd != null) {
            slapd.close();
        }
    }

    @Test
    @Order(1)
    void everyMailIsServedByteForByteWithBareLineFeedsAsCrlfInArrivalOrderAndItsSizeCountsWhatIsServed() {
        JsonNode fetched = python("""
                box = login('alice', 'alice-secret')
                typ, data = box.select('INBOX')
                messages = []
                typ, data = box.uid('FETCH', '1:*', '(UID RFC822.SIZE BODY.PEEK[])')
                for item in data:
                    if isinstance(item, tuple):
                        head = item[0].decode()
                        uid = int(re.search(r'UID (\\d+)', head).group(1))
                        size = int(re.search(r'RFC822.SIZE (\\d+)', head).group(1))
                        messages.append({'uid': uid, 'size': size, 'sha256': hashlib.sha256(item[1]).hexdigest(), 'length': len(item[1])})
                print(json.dumps(messages))
                """);
        List<String> servedInArrivalOrder = ALICES.values().stream().map(mail -> MessageIdentity.sha256Hex(ServedForm.of(mail))).toList();
        List<String> fetchedInUidOrder = new ArrayList<>();
        long expectedUid = 1;
        for (JsonNode message : fetched) {
            assertEquals(expectedUid++, message.get("uid").asLong(), "UIDs ascend from 1 without a gap: " + fetched);
            assertEquals(message.get("length").asLong(), message.get("size").asLong(), "RFC822.SIZE counts what BODY[] sends");
            fetchedInUidOrder.add(message.get("sha256").asText());
        }
        assertEquals(servedInArrivalOrder, fetchedInUidOrder, "each mail as served (bare LF as CRLF), UIDs in the order received");
    }

    @Test
    @Order(2)
    void curlFetchesAMessageByUidAsAnyClientWould() {
        Command.Result curl = Command.of(List.of("curl", "-sS", "--max-time", "30", "--user", "alice:alice-secret",
                "imap://127.0.0.1:" + imapd.port() + "/INBOX;UID=1")).run(new byte[0], Duration.ofSeconds(40));
        assertEquals(0, curl.exitCode(), curl.toString());
        byte[] first = ServedForm.of(ALICES.values().iterator().next());
        assertEquals(new String(first, StandardCharsets.UTF_8), curl.stdout(), curl.toString());
    }

    @Test
    @Order(3)
    void aWrongPasswordAnUnknownUserAndANameNoEntryCanHaveGetTheSameAnswer() {
        JsonNode answers = python("""
                answers = []
                # Last, a name longer than any the directory takes as a DN (it answers "invalid DN syntax").
                for user, password in [('alice', 'wrong'), ('nobody', 'alice-secret'), ('alice', ''), ('a' * 20000, 'x')]:
                    box = imaplib.IMAP4('127.0.0.1', port)
                    try:
                        box.login(user, password)
                        answers.append('logged in')
                    except imaplib.IMAP4.error as e:
                        answers.append(str(e))
                print(json.dumps(answers))
                """);
        assertTrue(answers.get(0).asText().contains("[AUTHENTICATIONFAILED]"), answers.toString());
        assertEquals(answers.get(0), answers.get(1), "an unknown user is answered as a wrong password is");
        assertEquals(answers.get(0), answers.get(2), "an empty password is no anonymous bind");
        assertEquals(answers.get(0), answers.get(3), "a name no entry can have is an unknown user, not the directory out of reach");
    }

    @Test
    @Order(4)
    void flagsOneSessionSetsReachAnotherAndSurviveItsLogout() {
        JsonNode flags = python("""
                first = login('alice', 'alice-secret')
                first.select('INBOX')
                first.uid('STORE', '2', '+FLAGS', '(\\\\Seen $Work)')
                # No flag to remove: nothing removed, from a message given its UID by another's entry
                # (UID 2) or from the one whose entry gave it (UID 1).
                first.uid('STORE', '1:2', '+FLAGS', '($Kept)')
                first.uid('STORE', '1:2', '-FLAGS', '()')
                first.uid('STORE', '3', '+FLAGS.SILENT', '(\\\\Flagged)')
                first.uid('STORE', '3', '-FLAGS', '(\\\\Flagged)')
                # UID 4 has never had a flag: no entry of its own to take one from.
                removed, data = first.uid('STORE', '4', '-FLAGS', '(\\\\Answered)')
                first.logout()
                second = login('alice', 'alice-secret')
                second.select('INBOX', readonly=True)
                typ, data = second.uid('FETCH', '1:4', '(FLAGS)')
                print(json.dumps([d.decode() for d in data] + [removed]))
                """);
        assertTrue(flags.get(0).asText().matches(".*UID 1 FLAGS \\(.*\\$Kept.*\\).*"), flags.toString());
        assertTrue(flags.get(1).asText().contains("UID 2 FLAGS ($Kept $Work \\Seen)"), flags.toString());
        assertTrue(flags.get(2).asText().contains("UID 3 FLAGS ()"), flags.toString());
        assertTrue(flags.get(3).asText().contains("UID 4 FLAGS ()"), flags.toString());
        assertEquals("OK", flags.get(4).asText(), "removing a flag a message never had is no error: " + flags);
    }

    @Test
    @Order(5)
    void anExpungedMailStaysGoneWhenItsRecordIsStoredAgain() throws Exception {
        byte[] plain = ALICES.get("plain");
        JsonNode before = python("""
                box = login('alice', 'alice-secret')
                box.select('INBOX')
                typ, data = box.uid('STORE', '1', '+FLAGS', '(\\\\Deleted)')
                typ, data = box.expunge()
                typ, count = box.select('INBOX')
                print(json.dumps([d.decode() if d else None for d in data] + [count[0].decode()]))
                """);
        assertEquals("1", before.get(0).asText(), "the EXPUNGE response names message 1: " + before);
        assertEquals(ALICES.size() - 1, before.get(1).asInt(), before.toString());
        String dn = "mailStoreId=" + MessageIdentity.of(plain) + ",cn=INBOX,uid=alice," + Slapd.PEOPLE;
        try (LDAPConnection root = slapd.rootConnection()) {
            assertEquals(null, root.getEntry(dn), "the expunged message's entry is deleted");
            try (MailPublisher publisher = new MailPublisher(KafkaCluster.shared().bootstrapServers(), TOPIC)) {
                publisher.publish(List.of(Map.entry("alice@example.com", plain)));
            }
            Awaitility.await("the record stored again").atMost(Duration.ofSeconds(60)).until(() -> root.getEntry(dn) != null);
            JsonNode after = python("""
                    box = login('alice', 'alice-secret')
                    typ, count = box.select('INBOX')
                    typ, data = box.uid('SEARCH', 'ALL')
                    print(json.dumps([count[0].decode(), data[0].decode()]))
                    """);
            assertEquals(ALICES.size() - 1, after.get(0).asInt(), "still gone: " + after);
            assertFalse((" " + after.get(1).asText() + " ").contains(" 1 "), "UID 1 is not given again: " + after);
            assertEquals(null, root.getEntry(dn), "the message stored again is deleted again");
            SearchResultEntry state = root.searchForEntry("cn=INBOX,uid=alice," + Slapd.PEOPLE, SearchScope.ONE, "(mailStoreUid=1)");
            assertEquals("TRUE", state.getAttributeValue("mailStoreExpunged"), state.toLDIFString());
        }
    }

    @Test
    @Order(6)
    void bobReachesNothingOfAlicesByAnyFolderNameOrSearch() {
        JsonNode answers = python("""
                box = login('bob', 'bob-secret')
                answers = {}
                for name in ['../uid=alice', 'uid=alice', 'INBOX,uid=alice', '#user/alice', 'Other Users/alice', 'cn=INBOX,uid=alice', '*']:
                    typ, data = box.select('"' + name + '"')
                    answers['select ' + name] = typ
                    typ, data = box.status('"' + name + '"', '(MESSAGES)')
                    answers['status ' + name] = typ
                typ, data = box.list()
                answers['list'] = [d.decode() for d in data]
                box.select('INBOX')
                typ, data = box.search(None, 'ALL')
                answers['search'] = data[0].decode()
                typ, data = box.search(None, 'TEXT', 'Plain')
                answers['search text'] = data[0].decode()
                print(json.dumps(answers))
                """);
        answers.fields().forEachRemaining(answer -> {
            if (answer.getKey().startsWith("select ") || answer.getKey().startsWith("status ")) {
                assertEquals("NO", answer.getValue().asText(), answer.getKey() + ": " + answers);
            }
        });
        assertEquals(List.of("(\\HasNoChildren) \"/\" \"INBOX\""), JSON.convertValue(answers.get("list"), List.class), answers.toString());
        assertEquals("1", answers.get("search").asText(), "bob's one mail: " + answers);
        assertEquals("", answers.get("search text").asText(), "alice's 'Plain' mail is not bob's: " + answers);
    }

    @Test
    @Order(7)
    void malformedCommandsGetBadAndTheSessionGoesOnWhileAnOversizedLiteralIsRefusedUnread() {
        JsonNode replies = python("""
                s = socket.create_connection(('127.0.0.1', port), timeout=10)
                f = s.makefile('rb')
                replies = [f.readline().decode()]
                def send(line):
                    s.sendall(line)
                    return f.readline().decode()
                replies.append(send(b'a1 FROBNICATE\\r\\n'))
                replies.append(send(b'a2 FETCH 1 (FLAGS)\\r\\n'))
                replies.append(send(b'(((\\r\\n'))
                replies.append(send(b'a2b\\r\\n'))
                replies.append(send(b'a2c CAPABILITY a\\rb\\x00\\xc3\\xa9 c\\r\\n'))
                replies.append(send(b'a2d FROB{3} now\\r\\n'))
                replies.append(send(b'a3 LOGIN {4000000000}\\r\\n'))
                replies.append(send(b'a4 LOGIN alice {12+}\\r\\nalice-secret\\r\\n'))
                replies.append(send(b'a5 SELECT INBOX\\r\\n'))
                replies.append(send(b'a6 LOGIN {4000000000+}\\r\\n'))
                print(json.dumps(replies))
                """);
        assertTrue(replies.get(0).asText().startsWith("* OK [CAPABILITY IMAP4rev1"), replies.toString());
        assertTrue(replies.get(1).asText().startsWith("a1 BAD"), replies.toString());
        assertTrue(replies.get(2).asText().startsWith("a2 BAD"), "FETCH before log in: " + replies);
        assertTrue(replies.get(3).asText().startsWith("* BAD"), "no tag to answer with: " + replies);
        assertTrue(replies.get(4).asText().startsWith("a2b BAD"), "a tag and nothing after it: answered with the tag: " + replies);
        assertEquals("a2c BAD unexpected text at \" a\\x0Db\\x00\\xC3\\xA9 c\"\r\n", replies.get(5).asText(),
                "what it quotes of the command shows its bare CR, NUL and 8-bit octets as \\xNN, not as sent: " + replies);
        assertEquals("a2d BAD no such command: FROB\\x7B3}\r\n", replies.get(6).asText(),
                "no answer ends as a literal's announcement would, which imaplib takes for one: " + replies);
        assertTrue(replies.get(7).asText().startsWith("a3 BAD"), "refused, never invited: " + replies);
        assertTrue(replies.get(8).asText().startsWith("a4 OK"), "a LITERAL+ password logs in: " + replies);
        assertTrue(replies.get(9).asText().startsWith("* FLAGS"), replies.toString());
    }

    @Test
    @Order(8)
    void mbsyncPullsEveryMailAndAResyncFindsNothingNew() throws IOException {
        Mbsync mbsync = Mbsync.of(imapd.port(), "alice", "alice-secret");
        Command.Result pull = mbsync.pull();
        assertEquals(0, pull.exitCode(), pull.toString());
        Set<String> pulled = new HashSet<>();
        for (Path file : mbsync.files()) {
            // mbsync adds an X-TUID line to each file it writes, its own bookkeeping, and writes no CR at all.
            pulled.add(withoutCr(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).replaceFirst("X-TUID: [^\\n]*\\n", "")
                    .getBytes(StandardCharsets.ISO_8859_1)));
        }
        Map<String, String> served = new HashMap<>();
        ALICES.forEach((name, mail) -> served.put(withoutCr(ServedForm.of(mail)), name));
        // Expunged above: "plain". mbsync skips mails with no empty line after the header ("incomplete header").
        Set<String> expected = new HashSet<>(served.keySet());
        expected.remove(withoutCr(ServedForm.of(ALICES.get("plain"))));
        expected.remove(withoutCr(ServedForm.of(ALICES.get("headers-only"))));
        expected.remove(withoutCr(ServedForm.of(ALICES.get("headers-only-no-final-newline"))));
        assertEquals(expected.stream().map(served::get).sorted().toList(), pulled.stream().map(sha -> served.getOrDefault(sha, sha))
                .sorted().toList(), pull.toString());
        Command.Result resync = mbsync.pull();
        assertEquals(0, resync.exitCode(), resync.toString());
        assertTrue(resync.stdout().contains("near side: " + pulled.size() + " messages"), "the resync found each mail it pulled: " + resync);
        assertEquals(pulled.size(), mbsync.files().size(), "nothing pulled twice: " + resync);
    }

    @Test
    @Order(9)
    void aUserMakesFoldersAndAppendsCopiesAndMovesMailWithUidplusAnswers() {
        JsonNode answers = python("""
                box = login('alice', 'alice-secret')
                answers = {}
                answers['create'] = [box.create(name)[0] for name in ['Archive', 'Trash', 'Archive']]
                box.append('Archive', '(\\\\Seen)', None, b'From: me@example.com\\r\\nSubject: draft\\r\\n\\r\\nappended\\r\\n')
                answers['append'] = box.response('APPENDUID')[1][0].decode()
                typ, count = box.select('INBOX')
                answers['inbox before'] = int(count[0])
                box.uid('COPY', '2', 'Archive')
                answers['copy'] = box.response('COPYUID')[1][0].decode()
                typ, data = box.uid('MOVE', '3', 'Trash')
                answers['move'] = [typ, [d.decode() for d in box.response('EXPUNGE')[1]]]
                typ, data = box.uid('COPY', '2', 'Nowhere')
                answers['copy to nowhere'] = [typ, box.response('TRYCREATE')[0]]
                typ, count = box.select('INBOX', readonly=True)
                answers['inbox after'] = int(count[0])
                box.select('Archive')
                typ, data = box.fetch('1:*', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
                answers['archive'] = [(d[0] + d[1]).decode() for d in data if isinstance(d, tuple)]
                box.subscribe('Trash')
                answers['lsub'] = [d.decode() for d in box.lsub()[1]]
                answers['rename'] = box.rename('Archive', 'Archive/2026')[0]
                typ, data = box.status('Archive/2026', '(MESSAGES)')
                answers['status'] = data[0].decode()
                answers['delete'] = box.delete('Archive/2026')[0]
                answers['list'] = [d.decode() for d in box.list()[1]]
                print(json.dumps(answers))
                """);
        assertEquals(List.of("OK", "OK", "NO"), JSON.convertValue(answers.get("create"), List.class), answers.toString());
        assertTrue(answers.get("append").asText().matches("\\d+ 1"), "APPENDUID: " + answers);
        assertTrue(answers.get("copy").asText().matches("\\d+ 2 2"), "COPYUID: " + answers);
        assertEquals("OK", answers.get("move").get(0).asText(), answers.toString());
        assertEquals(1, answers.get("move").get(1).size(), "one EXPUNGE for the mail moved: " + answers);
        assertEquals("NO", answers.get("copy to nowhere").get(0).asText(), answers.toString());
        assertEquals("TRYCREATE", answers.get("copy to nowhere").get(1).asText(), answers.toString());
        assertEquals(answers.get("inbox before").asInt() - 1, answers.get("inbox after").asInt(), "the moved mail left INBOX: " + answers);
        assertEquals(2, answers.get("archive").size(), answers.toString());
        assertTrue(answers.get("archive").get(0).asText().matches("(?s)1 \\(FLAGS \\(\\\\Seen\\) .*Subject: draft.*"), answers.toString());
        assertEquals(List.of("(\\HasNoChildren) \"/\" \"INBOX\"", "(\\HasNoChildren \\Trash) \"/\" \"Trash\""),
                JSON.convertValue(answers.get("lsub"), List.class), "INBOX and what was subscribed to: " + answers);
        assertEquals("\"Archive/2026\" (MESSAGES 2)", answers.get("status").asText(), answers.toString());
        assertEquals("OK", answers.get("delete").asText());
        assertFalse(answers.get("list").toString().contains("Archive"), answers.toString());
    }

    @Test
    @Order(10)
    void anAppendOverTheMessageLimitIsTooBigBeforeAnyOfItIsSent() {
        JsonNode replies = python("""
                box = login('alice', 'alice-secret')
                box.send(b'a1 APPEND INBOX {20000000}\\r\\n')
                print(json.dumps([box.readline().decode()]))
                """);
        assertTrue(replies.get(0).asText().startsWith("a1 NO [TOOBIG]"), replies.toString());
    }

    @Test
    @Order(11)
    void newMailReachesAnIdlingClientAsExistsAndTheIdlingSessionIsCounted() throws Exception {
        CompletableFuture<JsonNode> idling = CompletableFuture.supplyAsync(() -> python("""
                import time
                box = login('alice', 'alice-secret')
                typ, count = box.select('INBOX')
                box.send(b'i1 IDLE\\r\\n')
                started = box.readline().decode()
                box.sock.settimeout(60)
                line = box.readline().decode()
                seen = time.time()
                box.send(b'DONE\\r\\n')
                done = box.readline().decode()
                print(json.dumps([int(count[0]), started, line, seen, done]))
                """));
        Thread.sleep(3_000);
        assertEquals(1, MetricsScrape.of(metricsPort).sum("mailstream_imap_idle_sessions"));
        long published;
        try (MailPublisher publisher = new MailPublisher(KafkaCluster.shared().bootstrapServers(), TOPIC)) {
            publisher.publish(List.of(Map.entry("alice@example.com", MailCorpus.message("while idling", "new\r\n"))));
            published = System.currentTimeMillis();
        }
        JsonNode answers = idling.get(90, TimeUnit.SECONDS);
        assertTrue(answers.get(1).asText().startsWith("+ "), answers.toString());
        assertEquals("* " + (answers.get(0).asInt() + 1) + " EXISTS\r\n", answers.get(2).asText(), answers.toString());
        assertTrue(answers.get(4).asText().startsWith("i1 OK"), answers.toString());
        System.out.printf("IDLE: the new mail's EXISTS came %d ms after it was published%n",
                (long) (answers.get(3).asDouble() * 1000) - published);
    }

    @Test
    @Order(12)
    void aUserLogsInByMailAddressWhereALookupIdentityIsConfiguredAndAWrongPasswordStillLooksLikeAnUnknownAddress() {
        Map<String, String> lookup = Map.of("ldap.lookup.bind.dn", Slapd.LOOKUP_DN,
                "ldap.lookup.bind.password.file", TempFiles.write("lookup-password", Slapd.LOOKUP_PASSWORD + "\n").toString());
        try (ImapdProcess byAddress = ImapdProcess.start(slapd, lookup)) {
            JsonNode answers = python("""
                    def attempt(at, user, password):
                        box = imaplib.IMAP4('127.0.0.1', at)
                        try:
                            box.login(user, password)
                            return box.select('INBOX')[0]
                        except imaplib.IMAP4.error as e:
                            return str(e)
                    print(json.dumps({
                        'address': attempt(%1$d, 'alice@example.com', 'alice-secret'),
                        'otherCase': attempt(%1$d, 'ALICE@Example.COM', 'alice-secret'),
                        'uid': attempt(%1$d, 'alice', 'alice-secret'),
                        'wrongPassword': attempt(%1$d, 'alice@example.com', 'nope'),
                        'unknownAddress': attempt(%1$d, 'nobody@example.com', 'alice-secret'),
                        'withoutLookup': attempt(port, 'alice@example.com', 'alice-secret')}))
                    """.formatted(byAddress.port()));
            for (String accepted : List.of("address", "otherCase", "uid")) {
                assertEquals("OK", answers.get(accepted).asText(), accepted + ": " + answers + "\n" + byAddress.log());
            }
            for (String refused : List.of("wrongPassword", "unknownAddress", "withoutLookup")) {
                assertTrue(answers.get(refused).asText().contains("[AUTHENTICATIONFAILED]"), refused + ": " + answers);
            }
        }
    }

    @Test
    @Order(13)
    void aUserSeesTheQuotaTheDirectoryHoldsForThemAndCannotSetIt() throws Exception {
        try (LDAPConnection root = slapd.rootConnection()) {
            root.modify("uid=alice," + Slapd.PEOPLE, new Modification(ModificationType.ADD, "objectClass", "mailStoreQuotaOwner"),
                    new Modification(ModificationType.ADD, "mailStoreQuotaBytes", "1048576"),
                    new Modification(ModificationType.ADD, "mailStoreQuotaMessages", "100"),
                    new Modification(ModificationType.ADD, "mailStoreUsedBytes", "2049"),
                    new Modification(ModificationType.ADD, "mailStoreUsedMessages", "3"));
        }
        JsonNode answers = python("""
                alice = login('alice', 'alice-secret')
                bob = login('bob', 'bob-secret')
                def lines(answer):
                    return [x.decode() for x in sum(answer[1], []) if x]
                print(json.dumps({
                    'capability': alice.capability()[1][0].decode(),
                    'alice': lines(alice.getquotaroot('INBOX')),
                    'aliceRoot': [x.decode() for x in alice.getquota('""')[1]],
                    'bob': lines(bob.getquotaroot('INBOX')),
                    'bobRoot': bob.getquota('""')[0],
                    'set': alice.setquota('""', '(STORAGE 999999)')[0]}))
                """);
        assertTrue(answers.get("capability").asText().contains(" QUOTA"), answers.toString());
        String quota = "\"\" (STORAGE 3 1024 MESSAGE 3 100)";
        assertEquals(List.of("\"INBOX\" \"\"", quota), texts(answers.get("alice")), answers.toString());
        assertEquals(List.of(quota), texts(answers.get("aliceRoot")), answers.toString());
        assertEquals(List.of("\"INBOX\""), texts(answers.get("bob")), "bob has no limit, so no quota root: " + answers);
        assertEquals("NO", answers.get("bobRoot").asText(), answers.toString());
        assertEquals("NO", answers.get("set").asText(), "a quota is the operator's: " + answers);
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(node -> texts.add(node.asText()));
        return texts;
    }

    @Test
    @Order(14)
    void metricsCountLoginsByResultCommandsByNameAndResultOctetsSentAndSessionsInIdle() throws Exception {
        MetricsScrape scrape = MetricsScrape.of(metricsPort);
        assertTrue(scrape.sum("mailstream_imap_logins_total", Map.of("result", "ok")) >= 10, scrape.text());
        assertTrue(scrape.sum("mailstream_imap_logins_total", Map.of("result", "failed")) >= 2, scrape.text());
        assertTrue(scrape.sum("mailstream_imap_commands_total", Map.of("command", "FETCH", "result", "OK")) >= 1, scrape.text());
        assertTrue(scrape.sum("mailstream_imap_commands_total", Map.of("command", "unknown", "result", "BAD")) >= 1, scrape.text());
        assertTrue(scrape.sum("mailstream_imap_message_bytes_total") >= 9_961_472, "the 9.5 MB mail at least: " + scrape.text());
        assertTrue(scrape.sum("mailstream_imap_connections_total") >= 10, scrape.text());
        assertEquals(0, scrape.sum("mailstream_imap_idle_sessions"), "the idling session has said DONE: " + scrape.text());
    }

    @Test
    @Order(15)
    void sessionsThatFindNewMailAtOnceGiveEachMessageOneUidInArrivalOrderAndNoUidTwice() throws Exception {
        slapd.addMailbox("carol");
        // More UIDs than one state entry gives (256): the sessions race for the second and third too.
        int mails = 600;
        List<Map.Entry<String, byte[]>> batch = new ArrayList<>();
        for (int i = 0; i < mails; i++) {
            batch.add(Map.entry("carol@example.com", MailCorpus.message("for carol " + i, "mail " + i + "\r\n")));
        }
        try (MailPublisher publisher = new MailPublisher(KafkaCluster.shared().bootstrapServers(), TOPIC)) {
            publisher.publish(batch);
        }
        String inbox = "cn=INBOX,uid=carol," + Slapd.PEOPLE;
        try (LDAPConnection root = slapd.rootConnection()) {
            awaitMessagesIn(root, inbox, mails);
            JsonNode exists = python("""
                    import threading
                    counts = []
                    def look():
                        try:
                            box = login('carol', 'carol-secret')
                            typ, data = box.select('INBOX')
                            counts.append(int(data[0]))
                            box.logout()
                        except Exception as e:
                            counts.append(repr(e))
                    sessions = [threading.Thread(target=look) for _ in range(4)]
                    for session in sessions: session.start()
                    for session in sessions: session.join()
                    print(json.dumps(counts))
                    """);
            assertEquals(4, exists.size(), exists.toString());
            exists.forEach(count -> assertEquals(mails, count.asInt(), "every session sees every mail: " + exists));
            Map<String, String> received = new HashMap<>();
            root.search(inbox, SearchScope.ONE, "(objectClass=mailStoreMessage)", "mailStoreId", "mailStoreReceived").getSearchEntries()
                    .forEach(message -> received.put(message.getAttributeValue("mailStoreId"), message.getAttributeValue("mailStoreReceived")));
            List<Map.Entry<Long, String>> uids = new ArrayList<>(uidsOf(root, inbox).entrySet());
            Set<String> named = new HashSet<>();
            uids.forEach(uid -> assertTrue(named.add(uid.getValue()), "one UID a message: " + uid));
            assertEquals(received.keySet(), named, "every message has a UID");
            assertEquals((long) mails, uids.get(uids.size() - 1).getKey(), "no UID given twice or skipped");
            for (int i = 1; i < uids.size(); i++) {
                String earlier = received.get(uids.get(i - 1).getValue());
                String later = received.get(uids.get(i).getValue());
                assertTrue(earlier.compareTo(later) <= 0, "UIDs follow arrival: " + uids.get(i - 1) + " " + earlier + ", " + uids.get(i) + " "
                        + later);
            }
            assertEquals((mails + Mailstore.UIDS_PER_ENTRY - 1) / Mailstore.UIDS_PER_ENTRY,
                    root.search(inbox, SearchScope.ONE, "(objectClass=mailStoreState)", "1.1").getEntryCount(),
                    "one synced write gives up to " + Mailstore.UIDS_PER_ENTRY + " UIDs");
        }
    }

    @Test
    @Order(16)
    void aFolderViewASessionLeftIsReadOnByTheNextFromWhereItWasLeftAndSeesWhatChangedMeanwhile() throws Exception {
        slapd.addMailbox("dave");
        publishFor("dave", 3, 0);
        String inbox = "cn=INBOX,uid=dave," + Slapd.PEOPLE;
        try (LDAPConnection root = slapd.rootConnection()) {
            awaitMessagesIn(root, inbox, 3);
            assertEquals("[3]", python(selectAndList("dave")).get(0).toString(), "the first look gives UIDs 1 to 3");
            // Changed while no session has the folder open, as another server's session would: UID 1's
            // entry gave UIDs 2 and 3 too, and UID 2's first flag is an entry of its own.
            try (LDAPConnection dave = slapd.connection("uid=dave," + Slapd.PEOPLE, "dave-secret")) {
                dave.modify("mailStoreUid=1," + inbox, new Modification(ModificationType.ADD, "mailStoreExpunged", "TRUE"));
                dave.add("dn: mailStoreUid=2," + inbox, "objectClass: mailStoreState", "mailStoreUid: 2",
                        "mailStoreId: " + uidsOf(root, inbox).get(2L), "mailStoreFlag: \\Flagged");
            }
            publishFor("dave", 1, 3);
            awaitMessagesIn(root, inbox, 4);
        }
        MetricsScrape before = MetricsScrape.of(metricsPort);
        JsonNode after = python(selectAndList("dave"));
        MetricsScrape then = MetricsScrape.of(metricsPort);
        assertEquals(3, after.get(0).get(0).asInt(), "message 1 expunged, the new one there: " + after);
        assertTrue(after.get(1).toString().contains("UID 2 FLAGS (\\\\Flagged)"), after.toString());
        assertTrue(after.get(1).toString().contains("UID 3 FLAGS ()"), after.toString());
        assertTrue(after.get(1).toString().contains("UID 4 FLAGS ()"), "the new mail's UID follows the last: " + after);
        assertEquals(before.sum("mailstream_imap_folder_reads_total", Map.of("kind", "whole")),
                then.sum("mailstream_imap_folder_reads_total", Map.of("kind", "whole")), "not read whole: " + then.text());
        assertTrue(then.sum("mailstream_imap_folder_reads_total", Map.of("kind", "changes"))
                > before.sum("mailstream_imap_folder_reads_total", Map.of("kind", "changes")), then.text());
        assertTrue(then.sum("mailstream_imap_folder_view_entries") >= 7, "dave's INBOX kept (4 states, 3 messages) among others: "
                + then.text());
    }

    @Test
    @Order(17)
    void aFolderMadeAnewUnderTheNameOfOneWhoseViewWasLeftStartsAnew() {
        JsonNode looks = python("""
                box = login('dave', 'dave-secret')
                fill(box, 'Projects', ['old 0', 'old 1'])
                typ, old = box.select('Projects')
                box.logout()
                box = login('dave', 'dave-secret')
                box.delete('Projects')
                fill(box, 'Projects', ['new'])
                typ, new = box.select('Projects')
                typ, data = box.uid('FETCH', '1:*', '(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
                print(json.dumps([old[0].decode(), new[0].decode(), [d[1].decode().strip() for d in data if isinstance(d, tuple)]]))
                """);
        assertEquals("2", looks.get(0).asText(), looks.toString());
        assertEquals("1", looks.get(1).asText(), "nothing of the old folder's view: " + looks);
        assertEquals("[\"Subject: new\"]", looks.get(2).toString(), looks.toString());
    }

    @Test
    @Order(18)
    void fetchCommandsSentWithoutWaitingEachGetTheirOwnMessageAsMbsyncSendsThem() {
        JsonNode pulled = python("""
                box = login('alice', 'alice-secret')
                box.select('INBOX', readonly=True)
                typ, data = box.uid('FETCH', '1:*', '(UID BODY.PEEK[])')
                expected = {}
                for item in data:
                    if isinstance(item, tuple):
                        expected[re.search(r'UID (\\d+)', item[0].decode()).group(1)] = hashlib.sha256(item[1]).hexdigest()
                box.logout()
                s = socket.create_connection(('127.0.0.1', port))
                f = s.makefile('rb')
                f.readline()
                s.sendall(b'a LOGIN alice alice-secret\\r\\nb EXAMINE INBOX\\r\\n')
                while not f.readline().startswith(b'b '):
                    pass
                commands = []
                for i, uid in enumerate(sorted(expected, key=int)):
                    commands.append(b'f%s UID FETCH %s (BODY.PEEK[])\\r\\n' % (uid.encode(), uid.encode()))
                    if i == 3:
                        commands.append(b'n NOOP\\r\\nh UID FETCH 1:* (FLAGS)\\r\\n')
                s.sendall(b''.join(commands) + b'z LOGOUT\\r\\n')
                got = {}
                answers = []
                while True:
                    line = f.readline()
                    m = re.match(rb'\\* \\d+ FETCH \\(UID (\\d+) BODY\\[\\] \\{(\\d+)\\}\\r\\n', line)
                    if m:
                        got[m.group(1).decode()] = hashlib.sha256(f.read(int(m.group(2)))).hexdigest()
                        f.readline()
                    elif re.match(rb'[fnhz]\\S* ', line):
                        answers.append(line.decode().split(' ')[1])
                    if not line or line.startswith(b'z '):
                        break
                print(json.dumps([expected, got, answers]))
                """);
        assertTrue(pulled.get(0).size() >= 3, "several mails: " + pulled.get(0));
        assertEquals(pulled.get(0), pulled.get(1), "each FETCH answered with its own message");
        assertEquals(pulled.get(0).size() + 3, pulled.get(2).size(), pulled.get(2).toString());
        pulled.get(2).forEach(answer -> assertEquals("OK", answer.asText(), pulled.get(2).toString()));
    }

    @Test
    @Order(19)
    void aFolderAnotherSessionDeletesIsEmptiedForTheSessionThatHasItSelectedAndOneMadeAnewUnderItsNameIsNotMixedIn() {
        JsonNode answers = python("""
                box = login('dave', 'dave-secret')
                fill(box, 'Doomed', ['doomed 0', 'doomed 1'])
                box.select('Doomed')
                before = box.response('UIDVALIDITY')[1][0].decode()
                other = login('dave', 'dave-secret')
                other.delete('Doomed')
                answers = {}
                def answer(name, command):
                    box.response('EXPUNGE'), box.response('EXISTS')
                    try:
                        typ, data = command()
                        answers[name] = answered(typ, data) + [[d.decode() for d in box.response('EXPUNGE')[1] if d],
                                                               [d.decode() for d in box.response('EXISTS')[1] if d]]
                    except box.error as e:
                        answers[name] = ['BAD', str(e)]
                answer('store', lambda: box.store('1', '+FLAGS', '(\\\\Seen)'))
                answer('fetch', lambda: box.fetch('2', '(BODY.PEEK[])'))
                answer('noop', lambda: box.noop())
                fill(other, 'Doomed', ['reborn'])
                answer('noop after it was made anew', lambda: box.noop())
                typ, count = box.select('Doomed')
                answers['selected again'] = [count[0].decode(), int(box.response('UIDVALIDITY')[1][0]) > int(before)]
                # Deleted and made anew between two looks of the session: what it reads is of another folder.
                fill(other, 'Phoenix', ['first life 0', 'first life 1'])
                box.select('Phoenix')
                other.delete('Phoenix')
                fill(other, 'Phoenix', ['second life'])
                other.select('Phoenix')
                answer('noop after a life between two looks', lambda: box.noop())
                print(json.dumps(answers))
                """);
        assertRefused("NONEXISTENT", answers.get("store"), answers);
        assertRefused("EXPUNGEISSUED", answers.get("fetch"), answers);
        assertEquals("[\"2\",\"1\"]", answers.get("noop").get(2).toString(), "both announced expunged: " + answers);
        assertEquals("[[],[]]", JSON.valueToTree(List.of(answers.get("noop after it was made anew").get(2),
                answers.get("noop after it was made anew").get(3))).toString(), "nothing of the new folder in the old: " + answers);
        assertEquals("[\"1\",true]", answers.get("selected again").toString(), "the new folder, with a greater UIDVALIDITY: " + answers);
        assertEquals("[\"2\",\"1\"]", answers.get("noop after a life between two looks").get(2).toString(),
                "both of the first life's messages expunged, none of the second's announced: " + answers);
        assertEquals("[]", answers.get("noop after a life between two looks").get(3).toString(), answers.toString());
    }

    @Test
    @Order(20)
    void aFolderMadeUnderTheNameOfOneJustRenamedGetsAGreaterUidvalidityAndTheRenamedOneKeepsItsOwn() {
        JsonNode validities = python("""
                box = login('dave', 'dave-secret')
                def validity(folder):
                    typ, data = box.status(folder, '(UIDVALIDITY)')
                    return int(re.search(r'UIDVALIDITY (\\d+)', data[0].decode()).group(1))
                box.create('Moving')
                old = validity('Moving')
                box.rename('Moving', 'Moved')
                box.create('Moving')
                print(json.dumps([old, validity('Moving'), validity('Moved')]))
                """);
        assertTrue(validities.get(1).asLong() > validities.get(0).asLong(), "made a moment after the name was freed: " + validities);
        assertEquals(validities.get(0).asLong(), validities.get(2).asLong(), "UIDs and UIDVALIDITY go with the rename: " + validities);
    }

    @Test
    @Order(21)
    void anInboxSelectedBeforeItsFirstMailHasAnEntryShowsThatMailOnceItIsStored() throws Exception {
        slapd.addMailbox("erin");
        Path selected = TempFiles.write("erin-selected", "");
        CompletableFuture<JsonNode> looking = CompletableFuture.supplyAsync(() -> python("""
                import time
                box = login('erin', 'erin-secret')
                typ, count = box.select('INBOX')
                box.response('EXISTS')
                open('%s', 'w').write('selected')
                exists = None
                for attempt in range(120):
                    box.noop()
                    exists = box.response('EXISTS')[1][0]
                    if exists and int(exists) > 0:
                        break
                    time.sleep(0.5)
                print(json.dumps([int(count[0]), exists.decode() if exists else None]))
                """.formatted(selected)));
        Awaitility.await("erin's session selected INBOX").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> Files.readString(selected).equals("selected") || looking.isDone());
        publishFor("erin", 1, 0);
        JsonNode seen = looking.get(90, TimeUnit.SECONDS);
        assertEquals("[0,\"1\"]", seen.toString(), "no INBOX entry at SELECT, then its first mail: " + seen);
    }

    @Test
    @Order(22)
    void aCopyOrMoveOfAMessageAnotherSessionExpungedCopiesAndExpungesNothing() {
        slapd.addMailbox("frank");
        JsonNode answers = python("""
                box = login('frank', 'frank-secret')
                other = login('frank', 'frank-secret')
                # The target holds 'kept 0' before: a copy that fails leaves it as it was.
                fill(box, 'Copies', ['kept 0'])
                def attempt(folder, command):
                    fill(box, folder, ['kept 0', 'expunged 1', 'kept 2'])
                    box.select(folder)
                    other.select(folder)
                    other.store('2', '+FLAGS', '(\\\\Deleted)')
                    other.expunge()
                    typ, data = box.uid(command, '1:3', 'Copies')
                    expunged = [d.decode() for d in box.response('EXPUNGE')[1] if d]
                    typ_, count = box.select(folder)
                    return answered(typ, data) + [expunged, int(count[0])]
                answers = {'copy': attempt('CopyFrom', 'COPY'), 'move': attempt('MoveFrom', 'MOVE')}
                typ, data = box.status('Copies', '(MESSAGES)')
                answers['target'] = data[0].decode()
                print(json.dumps(answers))
                """);
        for (String command : List.of("copy", "move")) {
            JsonNode answer = answers.get(command);
            assertRefused("EXPUNGEISSUED", answer, answers);
            assertEquals("[\"2\"]", answer.get(2).toString(), command + ": the expunge announced with the answer: " + answers);
            assertEquals(2, answer.get(3).asInt(), command + ": both messages still there, none moved away: " + answers);
        }
        assertTrue(answers.get("target").asText().contains("MESSAGES 1"), "the target as it was before: " + answers);
    }

    @Test
    @Order(23)
    void aMoveThatMeetsAMessageDeletedOutsideImapStopsThereAndExpungesNothing() throws LDAPException {
        slapd.addMailbox("grace");
        python("""
                box = login('grace', 'grace-secret')
                fill(box, 'RaceFrom', ['kept 0', 'deleted 1', 'kept 2'])
                box.create('RaceTo')
                box.select('RaceFrom')
                box.logout()
                print('[]')
                """);
        String from = "cn=RaceFrom,uid=grace," + Slapd.PEOPLE;
        try (LDAPConnection root = slapd.rootConnection()) {
            // Deleted as ldapdelete would, with no state saying expunged: the view the session left, read on from its
            // cursor, still holds it, so the MOVE meets it gone only when it copies it.
            root.delete("mailStoreId=" + MessageIdentity.of("Subject: deleted 1\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII))
                    + "," + from);
            JsonNode moved = python("""
                    box = login('grace', 'grace-secret')
                    box.select('RaceFrom')
                    typ, data = box.uid('MOVE', '1:3', 'RaceTo')
                    print(json.dumps(answered(typ, data)))
                    """);
            assertRefused("EXPUNGEISSUED", moved, moved);
            assertEquals(2, root.search(from, SearchScope.ONE, "(objectClass=mailStoreMessage)", "1.1").getEntryCount(),
                    "nothing expunged from the source: " + moved);
            assertEquals(1, root.search("cn=RaceTo,uid=grace," + Slapd.PEOPLE, SearchScope.ONE, "(objectClass=mailStoreMessage)", "1.1")
                    .getEntryCount(), "the copy made before the message found gone stays");
        }
    }

    @Test
    @Order(24)
    void aMessageMovedBackToAFolderItWasExpungedFromArrivesThereUnderANewUid() {
        slapd.addMailbox("heidi");
        JsonNode answers = python("""
                box = login('heidi', 'heidi-secret')
                moved_away(box, 'there and back')
                typ, data = box.uid('MOVE', '1', 'Here')
                answers = {'move back': typ}
                for folder in ['Here', 'There']:
                    typ, data = box.status(folder, '(MESSAGES)')
                    answers[folder] = int(re.search(r'MESSAGES (\\d+)', data[0].decode()).group(1))
                box.select('Here')
                typ, data = box.uid('FETCH', '1:*', '(BODY.PEEK[])')
                answers['back'] = [[int(re.search(rb'UID (\\d+)', d[0]).group(1)), d[1].decode()] for d in data if isinstance(d, tuple)]
                print(json.dumps(answers))
                """);
        assertEquals("OK", answers.get("move back").asText(), answers.toString());
        assertEquals(0, answers.get("There").asInt(), "moved away: " + answers);
        assertEquals(1, answers.get("Here").asInt(), "not deleted as a record stored again, nor lost: " + answers);
        assertEquals("Subject: there and back\r\n\r\nbody\r\n", answers.get("back").get(0).get(1).asText(), answers.toString());
        assertTrue(answers.get("back").get(0).get(0).asLong() > 1, "UID 1, expunged, is not given again: " + answers);
    }

    @Test
    @Order(25)
    void aMoveIntoTheFolderTheMessageIsInIsRefusedAndTheMessageStays() {
        slapd.addMailbox("ivan");
        JsonNode answers = python("""
                box = login('ivan', 'ivan-secret')
                fill(box, 'Stay', ['going nowhere'])
                box.select('Stay')
                typ, data = box.uid('MOVE', '1', 'Stay')
                answer = answered(typ, data)
                typ, count = box.select('Stay')
                print(json.dumps(answer + [int(count[0])]))
                """);
        assertRefused("CANNOT", answers, answers);
        assertEquals(1, answers.get(2).asInt(), "still there: " + answers);
    }

    @Test
    @Order(26)
    void theSameMessageAppendedAgainAfterItWasExpungedArrivesOnceUnderANewUid() {
        slapd.addMailbox("judy");
        JsonNode answers = python("""
                box = login('judy', 'judy-secret')
                fill(box, 'Drafts', ['the same draft'])
                box.select('Drafts')
                box.uid('STORE', '1', '+FLAGS', '(\\\\Deleted)')
                box.expunge()
                answers = []
                for attempt in range(2):
                    typ, data = box.append('Drafts', None, None, b'Subject: the same draft\\r\\n\\r\\nbody\\r\\n')
                    answers.append([typ, data[0].decode()])
                typ, count = box.select('Drafts')
                print(json.dumps(answers + [int(count[0])]))
                """);
        for (int attempt = 0; attempt < 2; attempt++) {
            assertEquals("OK", answers.get(attempt).get(0).asText(), answers.toString());
            assertTrue(answers.get(attempt).get(1).asText().matches("\\[APPENDUID \\d+ 2\\].*"),
                    "a new UID, not 1 again, and the same one for a client's retry: " + answers);
        }
        assertEquals(1, answers.get(2).asInt(), "there once, not deleted as a record stored again: " + answers);
    }

    @Test
    @Order(27)
    void aMessageCopiedTwiceBackIntoTheFolderItWasExpungedFromIsThereOnce() {
        slapd.addMailbox("mallory");
        JsonNode answers = python("""
                box = login('mallory', 'mallory-secret')
                moved_away(box, 'back twice')
                answers = {'copies': []}
                for attempt in range(2):
                    typ, data = box.uid('COPY', '1', 'Here')
                    typ_, code = box.response('COPYUID')
                    answers['copies'].append([typ, code[0].decode() if code[0] else None])
                typ, count = box.select('Here')
                answers['Here'] = int(count[0])
                print(json.dumps(answers))
                """);
        JsonNode copies = answers.get("copies");
        assertEquals("OK", copies.get(0).get(0).asText(), answers.toString());
        assertTrue(copies.get(0).get(1).asText().matches("\\d+ 1 2"), "UID 2, not 1 again: " + answers);
        assertEquals(copies.get(0), copies.get(1), "the second COPY names the copy the first made: " + answers);
        assertEquals(1, answers.get("Here").asInt(), "one message, as a COPY into a folder that holds it already adds none: " + answers);
    }

    @Test
    @Order(28)
    void aFetchOfSeveralMessagesOneOfWhichWasDeletedOutsideImapSendsEveryOtherAndSaysOneIsGone() throws LDAPException {
        slapd.addMailbox("niaj");
        python("""
                box = login('niaj', 'niaj-secret')
                fill(box, 'Several', ['several %d' % i for i in range(6)])
                box.select('Several')
                # A state entry names the first message by its id too, as a message's: it has no bytes to serve.
                box.uid('STORE', '1', '+FLAGS', '(\\\\Flagged)')
                box.logout()
                print('[]')
                """);
        try (LDAPConnection root = slapd.rootConnection()) {
            root.delete("mailStoreId=" + MessageIdentity.of("Subject: several 3\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII))
                    + ",cn=Several,uid=niaj," + Slapd.PEOPLE);
        }
        JsonNode answers = python("""
                box = login('niaj', 'niaj-secret')
                box.select('Several')
                typ, data = box.uid('FETCH', '1:6', '(BODY.PEEK[])')
                served = [item[1].decode().split('\\r\\n')[0] for item in box.response('FETCH')[1] if isinstance(item, tuple)]
                print(json.dumps([answered(typ, data), served]))
                """);
        assertRefused("EXPUNGEISSUED", answers.get(0), answers);
        assertEquals("[\"Subject: several 0\",\"Subject: several 1\",\"Subject: several 2\",\"Subject: several 4\",\"Subject: several 5\"]",
                answers.get(1).toString(), "every other message, each its own, in order: " + answers);
    }

    @Test
    @Order(29)
    void aStoreOnEveryMessageRewritesTheEntriesThatGaveTheUidsNotAnEntryAMessage() throws Exception {
        // carol's 600 mails got their UIDs from three state entries (test 15).
        JsonNode flags = python("""
                box = login('carol', 'carol-secret')
                box.select('INBOX')
                # None has a flag yet: neither the entries that gave the UIDs nor the UIDs they gave.
                unflagged, data = box.uid('STORE', '1:*', '-FLAGS.SILENT', '(\\\\Answered)')
                box.uid('STORE', '1:*', '+FLAGS.SILENT', '(\\\\Seen $Work)')
                box.uid('STORE', '300', '-FLAGS.SILENT', '($Work)')
                box.uid('STORE', '301', 'FLAGS.SILENT', '(\\\\Flagged)')
                box.uid('STORE', '302', 'FLAGS.SILENT', '()')
                box.logout()
                other = login('carol', 'carol-secret')
                other.select('INBOX', readonly=True)
                typ, data = other.uid('FETCH', '1:*', '(FLAGS)')
                other.logout()
                print(json.dumps([unflagged, [d.decode() for d in data]]))
                """);
        assertEquals("OK", flags.get(0).asText(), "removing a flag no message has is no error: " + flags.get(0));
        assertEquals(600, flags.get(1).size(), flags.toString());
        for (JsonNode message : flags.get(1)) {
            String uid = message.asText().replaceAll(".*UID (\\d+).*", "$1");
            String expected = switch (uid) {
                case "300" -> "(\\Seen)";
                case "301" -> "(\\Flagged)";
                case "302" -> "()";
                default -> "($Work \\Seen)";
            };
            assertTrue(message.asText().endsWith("FLAGS " + expected + ")"), "UID " + uid + ": " + message);
        }
        try (LDAPConnection root = slapd.rootConnection()) {
            assertEquals(3, root.search("cn=INBOX,uid=carol," + Slapd.PEOPLE, SearchScope.ONE, "(objectClass=mailStoreState)", "1.1")
                    .getEntryCount(), "still the three entries that gave the 600 UIDs, no entry a message");
        }
    }

    @Test
    @Order(30)
    void aRemovalNamingFlagsAMessageLacksStillRemovesTheOnesItHas() throws Exception {
        // After test 29 carol's messages have $Work and \Seen, but UID 300 only \Seen, 301 only \Flagged and 302
        // none. slapd refuses a removal that names one value an entry lacks, and then removes none of them.
        JsonNode flags = python("""
                box = login('carol', 'carol-secret')
                box.select('INBOX')
                every, data = box.uid('STORE', '1:*', '-FLAGS.SILENT', '($Work \\\\Answered)')
                one, data = box.uid('STORE', '301', '-FLAGS', '(\\\\Flagged \\\\Seen)')
                box.logout()
                other = login('carol', 'carol-secret')
                other.select('INBOX', readonly=True)
                typ, data = other.uid('FETCH', '1:*', '(FLAGS)')
                other.logout()
                print(json.dumps([every, one, [d.decode() for d in data]]))
                """);
        assertEquals("OK", flags.get(0).asText(), flags.toString());
        assertEquals("OK", flags.get(1).asText(), flags.toString());
        List<String> wrong = new ArrayList<>();
        for (JsonNode message : flags.get(2)) {
            String uid = message.asText().replaceAll(".*UID (\\d+).*", "$1");
            String expected = uid.equals("301") || uid.equals("302") ? "()" : "(\\Seen)";
            if (!message.asText().endsWith("FLAGS " + expected + ")")) {
                wrong.add(message.asText());
            }
        }
        assertEquals(List.of(), wrong, "every message read by another session after the removals");
    }

    @Test
    @Order(31)
    void anotherSessionsChangesReachAnIdlingSessionOfTheUserAtOnceNotAtItsNextLook() {
        // Looks a minute apart: only being woken by the writing session brings each change within the 20 s allowed.
        try (ImapdProcess slowLooks = ImapdProcess.start(slapd, Map.of("imap.idle.poll.ms", "60000"))) {
            JsonNode heard = python("""
                    import time
                    port = %d
                    watcher = login('bob', 'bob-secret')
                    watcher.select('INBOX')
                    writer = login('bob', 'bob-secret')
                    writer.select('INBOX')
                    watcher.send(b'w IDLE\\r\\n')
                    started = watcher.readline().decode()
                    watcher.sock.settimeout(20)
                    def heard(change):
                        began = time.time()
                        change()
                        return [watcher.readline().decode(), round(time.time() - began, 3)]
                    flagged = heard(lambda: writer.uid('STORE', '1', '+FLAGS', '(\\\\Flagged)'))
                    unflagged = heard(lambda: writer.uid('STORE', '1', '-FLAGS', '(\\\\Flagged)'))
                    appended = heard(lambda: writer.append('INBOX', None, None, b'Subject: woken\\r\\n\\r\\nbody\\r\\n'))
                    writer.noop()
                    uid = writer.uid('SEARCH', 'SUBJECT', 'woken')[1][0].decode()
                    deleted = heard(lambda: writer.uid('STORE', uid, '+FLAGS', '(\\\\Deleted)'))
                    expunged = heard(lambda: writer.expunge())
                    watcher.send(b'DONE\\r\\n')
                    print(json.dumps([started, flagged, unflagged, appended, uid, deleted, expunged, watcher.readline().decode()]))
                    """.formatted(slowLooks.port()));
            assertTrue(heard.get(0).asText().startsWith("+ "), heard.toString());
            assertTrue(heard.get(1).get(0).asText().matches("\\* 1 FETCH \\(UID 1 FLAGS \\(.*\\\\Flagged.*\\)\\)\r\n"), heard.toString());
            assertTrue(heard.get(2).get(0).asText().matches("\\* 1 FETCH \\(UID 1 FLAGS \\([^)]*\\)\\)\r\n")
                    && !heard.get(2).get(0).asText().contains("Flagged"), heard.toString());
            assertEquals("* 2 EXISTS\r\n", heard.get(3).get(0).asText(), heard.toString());
            assertEquals("* 2 FETCH (UID " + heard.get(4).asText() + " FLAGS (\\Deleted))\r\n", heard.get(5).get(0).asText(), heard.toString());
            assertEquals("* 2 EXPUNGE\r\n", heard.get(6).get(0).asText(), heard.toString());
            assertTrue(heard.get(7).asText().startsWith("w OK"), heard.toString());
            System.out.printf("IDLE, looks 60 s apart: another session's +FLAGS, -FLAGS, APPEND, +FLAGS (\\Deleted) and EXPUNGE heard"
                    + " %s, %s, %s, %s and %s s after each was sent%n", heard.get(1).get(1), heard.get(2).get(1), heard.get(3).get(1),
                    heard.get(5).get(1), heard.get(6).get(1));
        }
    }

    /** {@code answer} ([result, text], as the prelude's {@code answered} gives it) is a NO with response code {@code code}. */
    @Test
    @Order(32)
    void folderNamesAreTakenAsRfc3501WritesThemAndARenameTakesTheFoldersBelowAlong() {
        JsonNode answers = python("""
                box = login('alice', 'alice-secret')
                answers = {}
                names = ['Projects/', 'Projects/2026/Q1', 'a//b', '/x', 'Bad&name', 'Entw&APw-rfe']
                answers['create'] = [box.create(name)[0] for name in names]
                answers['listed'] = [d.decode() for d in box.list()[1]]
                box.create('Taken/2026/Q1')
                answers['below taken'] = box.rename('Projects', 'Taken')[0]
                box.delete('Taken/2026/Q1')
                answers['rename'] = box.rename('projects', 'Done')[0]
                answers['renamed'] = [d.decode() for d in box.list('""', 'Done*')[1] + box.list('""', 'Projects*')[1] if d]
                answers['below'] = box.select('Done/2026/Q1')[0]
                answers['not a folder'] = box.select('Done/2026')[0]
                answers['no name'] = [d.decode() for d in box.select('""')[1] + box.status('""', '(MESSAGES)')[1]]
                for name in ['Done/2026/Q1', 'Done', 'Entw&APw-rfe']:
                    box.delete(name)
                answers['after'] = [d.decode() for d in box.list()[1]]
                print(json.dumps(answers))
                """);
        assertEquals(List.of("OK", "OK", "NO", "NO", "NO", "OK"), JSON.convertValue(answers.get("create"), List.class),
                "a trailing / only declares children; an empty level or a name not in modified UTF-7 is refused: " + answers);
        List<?> listed = JSON.convertValue(answers.get("listed"), List.class);
        assertTrue(listed.contains("(\\HasChildren) \"/\" \"Projects\""), "made without its trailing /: " + answers);
        assertTrue(listed.contains("(\\Noselect \\HasChildren) \"/\" \"Projects/2026\""), "the level between, no folder: " + answers);
        assertEquals("NO", answers.get("below taken").asText(), "a new name of a folder below is taken: nothing renamed: " + answers);
        assertEquals("OK", answers.get("rename").asText(), "named in another case, as the directory compares: " + answers);
        assertEquals(Set.of("(\\HasChildren) \"/\" \"Done\"", "(\\HasNoChildren) \"/\" \"Done/2026/Q1\"",
                "(\\Noselect \\HasChildren) \"/\" \"Done/2026\""), Set.copyOf(JSON.convertValue(answers.get("renamed"), List.class)),
                "the folder below went with it, and nothing is left under the old name: " + answers);
        assertEquals("OK", answers.get("below").asText(), answers.toString());
        assertEquals("NO", answers.get("not a folder").asText(), answers.toString());
        assertEquals(List.of("[NONEXISTENT] no such folder", "[NONEXISTENT] no such folder"),
                JSON.convertValue(answers.get("no name"), List.class), "the empty name is no folder, not a directory error: " + answers);
        assertFalse(answers.get("after").toString().contains("Done") || answers.get("after").toString().contains("Entw"), answers.toString());
    }

    @Test
    @Order(33)
    void mailBuiltToExhaustAParserIsStoredAndServedAndTheSessionGoesOn() throws LDAPException {
        // Before the limits, one such mail ended every session that fetched its structure or searched its folder,
        // and so did a search nested as deep.
        slapd.addMailbox("olivia");
        try (MailPublisher publisher = new MailPublisher(KafkaCluster.shared().bootstrapServers(), TOPIC)) {
            MailCorpus.mimeBombs(11_000).values().forEach(mail -> publisher.publish(List.of(Map.entry("olivia@example.com", mail))));
        }
        try (LDAPConnection root = slapd.rootConnection()) {
            awaitMessagesIn(root, "cn=INBOX,uid=olivia," + Slapd.PEOPLE, 4);
        }
        JsonNode answers = python("""
                box = login('olivia', 'olivia-secret')
                box.select('INBOX', readonly=True)
                typ, data = box.uid('FETCH', '1:*', '(BODYSTRUCTURE ENVELOPE BODY.PEEK[1.1.1] BODY.PEEK[TEXT])')
                fetched = sorted({int(uid) for d in data if isinstance(d, tuple) for uid in re.findall(rb'UID (\\d+)', d[0])})
                found = box.uid('SEARCH', 'BODY', '"last words"')[1][0].decode()
                try:
                    nested = box.search(None, 'NOT ' * 15000 + 'ALL')[0]
                except imaplib.IMAP4.error as e:
                    nested = str(e)
                print(json.dumps([typ, fetched, found, box.noop()[0], nested]))
                """);
        assertEquals("OK", answers.get(0).asText(), answers.toString());
        assertEquals(List.of(1, 2, 3, 4), JSON.convertValue(answers.get(1), List.class), "each of the four: " + answers);
        assertEquals("2 3 4", answers.get(2).asText(), "the text past the limits is searched, as Dovecot searches it: in parts"
                + " declared a message or text, not in the body of a multipart nested too deep to be looked into: " + answers);
        assertTrue(answers.get(4).asText().contains("BAD") && answers.get(4).asText().contains("nested more than"),
                "a search nested 15,000 deep is refused: " + answers);
        assertEquals("OK", answers.get(3).asText(), "the session goes on: " + answers);
    }

    @Test
    @Order(34)
    void anExpungeTakesTheDeletedFlagsAsTheyAreNowNotAsTheSessionLastSawThem() {
        slapd.addMailbox("pat");
        JsonNode answers = python("""
                a, b = sessions('pat', 2)
                fill(a, 'Undo', ['one', 'two', 'three'])
                a.select('Undo')
                b.select('Undo')
                # The other session deletes UID 2: this one's UID EXPUNGE 2 takes it.
                b.uid('STORE', '2', '+FLAGS', '(\\\\Deleted)')
                typ, data = a.uid('EXPUNGE', '2')
                taken = a.response('EXPUNGE')[1]
                # This one deletes UID 3, the other takes the flag away again: this one's EXPUNGE leaves it.
                a.uid('STORE', '3', '+FLAGS', '(\\\\Deleted)')
                b.noop()
                b.uid('STORE', '3', '-FLAGS', '(\\\\Deleted)')
                a.expunge()
                c = login('pat', 'pat-secret')
                c.select('Undo', readonly=True)
                print(json.dumps([[d.decode() for d in taken if d], c.uid('SEARCH', 'ALL')[1][0].decode()]))
                """);
        assertEquals(List.of("2"), JSON.convertValue(answers.get(0), List.class), "UID EXPUNGE 2 expunged message 2: " + answers);
        assertEquals("1 3", answers.get(1).asText(), "UID 2 gone, UID 3 kept: " + answers);
    }

    @Test
    @Order(35)
    void anotherSessionUndoingThisOnesFlagChangeIsShownToThisOne() {
        slapd.addMailbox("quinn");
        JsonNode answers = python("""
                a, b = sessions('quinn', 2)
                fill(a, 'Flags', ['one'])
                a.select('Flags')
                b.select('Flags')
                a.uid('STORE', '1', '+FLAGS', '(\\\\Flagged)')
                b.uid('STORE', '1', '-FLAGS', '(\\\\Flagged)')
                a.noop()
                # imaplib hands over the NOOP's FETCH with the UID FETCH's.
                print(json.dumps([d.decode() for d in a.uid('FETCH', '1', '(FLAGS)')[1]]))
                """);
        assertEquals(Set.of("1 (UID 1 FLAGS ())"), Set.copyOf(JSON.convertValue(answers, List.class)),
                "the flags as the other session left them, not as this one set them: " + answers);
    }

    @Test
    @Order(36)
    void anExpungeTakesOnlyWhatTheDirectoryHoldsDeletedAtItsWriteNotWhatItsSessionLastRead() throws Exception {
        // The race EXPUNGE's own read cannot close: another session takes \Deleted away between that read and the
        // writes. Provoked by expunging from states read before that session's STORE, on the store a session uses.
        inboxAllDeleted("rosa", 4);
        try (Mailstore store = storeOf("rosa", slapd.url())) {
            List<Mailstore.State> asRead = store.snapshot("INBOX", store.folder("INBOX").orElseThrow().uuid()).states();
            assertEquals(List.of(false, true, true, true), asRead.stream().map(Mailstore.State::given).toList(),
                    "UID 1's entry gave UIDs 2 to 4 at the first look: both ways of holding flags are tried " + asRead);
            assertTrue(asRead.stream().allMatch(state -> state.flags().contains("\\Deleted")), asRead.toString());
            JsonNode undeleted = python("""
                    box = login('rosa', 'rosa-secret')
                    box.select('INBOX')
                    print(json.dumps(answered(*box.uid('STORE', '1,2', '-FLAGS.SILENT', '(\\\\Deleted)'))))
                    """);
            assertEquals("OK", undeleted.get(0).asText(), undeleted.toString());
            for (Mailstore.State state : asRead) {
                store.expungeIfDeleted("INBOX", state);
            }
        }
        JsonNode left = python(selectAndList("rosa"));
        assertEquals("[[2],[\"1 (UID 1 FLAGS ())\",\"2 (UID 2 FLAGS ())\"]]", left.toString(),
                "the two still deleted expunged, the two undeleted meanwhile kept: " + left);
    }

    @Test
    @Order(37)
    void aHeaderFetchOrSearchReadsTheHeaderSectionKeptApartAndAMessageWithoutOneWhole() throws Exception {
        slapd.addMailbox("sara");
        publishFor("sara", 4, 1);
        String inbox = "cn=INBOX,uid=sara," + Slapd.PEOPLE;
        try (LDAPConnection root = slapd.rootConnection()) {
            awaitMessagesIn(root, inbox, 4);
            TreeMap<String, SearchResultEntry> stored = new TreeMap<>();
            for (SearchResultEntry message : root.search(inbox, SearchScope.ONE, "(objectClass=mailStoreMessage)").getSearchEntries()) {
                assertEquals(new String(ServedForm.header(message.getAttributeValueBytes("mailStoreRaw")), StandardCharsets.ISO_8859_1),
                        message.getAttributeValue("mailStoreHeader"), "the worker keeps the header section apart, as served");
                stored.put(message.getAttributeValue("mailStoreSubject"), message);
            }
            // Marked, to see which a fetch reads: the first's header apart says otherwise than its message; the others'
            // are gone, as in entries stored before headers were kept apart.
            root.modify(stored.get("for sara 1").getDN(),
                    new Modification(ModificationType.REPLACE, "mailStoreHeader", "Subject: kept apart\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            for (String older : List.of("for sara 2", "for sara 3", "for sara 4")) {
                root.modify(stored.get(older).getDN(), new Modification(ModificationType.DELETE, "mailStoreHeader"));
            }
        }
        JsonNode answers = python("""
                box = login('sara', 'sara-secret')
                box.select('INBOX')
                headers = box.fetch('1:4', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1]
                whole = box.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])')[1]
                found = box.uid('SEARCH', 'SUBJECT', '"kept apart"')[1]
                appended = box.append('INBOX', None, None, b'Subject: appended\\r\\n\\r\\nbody\\r\\n')
                print(json.dumps([[h[1].decode() for h in headers if isinstance(h, tuple)], whole[0][1].decode(),
                        found[0].decode(), appended[0]]))
                """);
        assertEquals(List.of("Subject: kept apart\r\n\r\n", "Subject: for sara 2\r\n\r\n", "Subject: for sara 3\r\n\r\n",
                "Subject: for sara 4\r\n\r\n"), JSON.convertValue(answers.get(0), List.class),
                "the first from its header apart, the others, without one, from the whole message");
        assertEquals("Subject: for sara 1\r\n\r\n", answers.get(1).asText(), "a fetch that needs the body reads the message whole");
        assertEquals("1", answers.get(2).asText(), "a search of the subject reads the header apart");
        assertEquals("OK", answers.get(3).asText(), answers.toString());
        try (LDAPConnection root = slapd.rootConnection()) {
            List<SearchResultEntry> appended = root.search(inbox, SearchScope.ONE, "(objectClass=mailStoreMessage)", "mailStoreHeader", "mailStoreRaw")
                    .getSearchEntries().stream().filter(e -> new String(e.getAttributeValueBytes("mailStoreRaw"), StandardCharsets.ISO_8859_1)
                            .startsWith("Subject: appended")).toList();
            assertEquals(1, appended.size(), "the appended message is stored");
            assertEquals("Subject: appended\r\n\r\n", appended.get(0).getAttributeValue("mailStoreHeader"), "APPEND keeps its header apart too");
        }
    }

    @Test
    @Order(38)
    void aConnectionLostBetweenTheTwoWritesOfAnExpungeLeavesTheMessageThereUndeletedAndSaysUnavailable() throws Exception {
        // A message whose flags the entry that gave its UID keeps is expunged in two writes: "UID \Deleted" taken
        // from that entry, then its own entry marked expunged. A relay cuts the session's connection between the two
        // and refuses the reconnection.
        Optional<Mailstore.Failure> failure = expungeCutBetweenItsWrites("tina", CuttableRelay::cutAfterNextReply);
        assertEquals("UNAVAILABLE", failure.map(f -> f.code).orElse("none"), failure.toString());
        JsonNode left = python(selectAndList("tina"));
        assertEquals("[[2],[\"1 (UID 1 FLAGS (\\\\Deleted))\",\"2 (UID 2 FLAGS ())\"]]", left.toString(),
                "UID 2 neither expunged nor still \\Deleted, UID 1 untouched: " + left);
    }

    @Test
    @Order(39)
    void anExpungeWhoseConnectionIsLostBetweenItsTwoWritesConnectsAgainAndFinishes() throws Exception {
        Optional<Mailstore.Failure> failure = expungeCutBetweenItsWrites("ursa", CuttableRelay::dropAfterNextReply);
        assertTrue(failure.isEmpty(), failure.toString());
        JsonNode left = python(selectAndList("ursa"));
        assertEquals("[[1],[\"1 (UID 1 FLAGS (\\\\Deleted))\"]]", left.toString(), "UID 2 expunged, UID 1 untouched: " + left);
    }

    @Test
    @Order(40)
    void aRenameCutShortLeavesTheFolderUnderItsOldNameAndTheSameRenameAgainMovesTheRest() throws Exception {
        // A folder and each one below it are entries of their own, renamed a write each: a relay cuts the
        // session's connection after the first of the three, and the directory stays out of reach.
        slapd.addMailbox("vera");
        JsonNode made = python("""
                box = login('vera', 'vera-secret')
                print(json.dumps([box.create(name)[0] for name in ['Projects', 'Projects/2026', 'Projects/2027']]))
                """);
        assertEquals("[\"OK\",\"OK\",\"OK\"]", made.toString());
        try (CuttableRelay relay = CuttableRelay.to(slapd.port())) {
            try (Mailstore store = storeOf("vera", "ldap://127.0.0.1:" + relay.port())) {
                Map<Mailstore.Folder, String> below = new LinkedHashMap<>();
                for (Mailstore.Folder folder : store.folders()) {
                    if (folder.name().startsWith("Projects/")) {
                        below.put(folder, folder.name().replace("Projects/", "Done/"));
                    }
                }
                Mailstore.Folder projects = store.folder("Projects").orElseThrow();
                relay.cutAfterNextReply();
                Mailstore.Failure failure = assertThrows(Mailstore.Failure.class, () -> store.renameFolder(projects, "Done", below));
                assertEquals("UNAVAILABLE", failure.code, failure.toString());
            }
        }
        JsonNode renamed = python("""
                box = login('vera', 'vera-secret')
                listed = lambda: sorted(re.sub(r'^.* ', '', d.decode()).strip('"') for d in box.list()[1])
                answers = {'cut short': listed(), 'again': box.rename('Projects', 'Done')[0]}
                answers['finished'] = listed()
                print(json.dumps(answers))
                """);
        List<?> cutShort = JSON.convertValue(renamed.get("cut short"), List.class);
        assertTrue(cutShort.equals(List.of("Done", "Done/2026", "INBOX", "Projects", "Projects/2027"))
                || cutShort.equals(List.of("Done", "Done/2027", "INBOX", "Projects", "Projects/2026")),
                "one folder below moved, the folder itself and the other below it not yet (Done a level, no folder): " + renamed);
        assertEquals("OK", renamed.get("again").asText(), renamed.toString());
        assertEquals(List.of("Done", "Done/2026", "Done/2027", "INBOX"), JSON.convertValue(renamed.get("finished"), List.class),
                "the same rename again moved the rest, and nothing is left under the old name: " + renamed);
    }

    @Test
    @Order(41)
    void aCopyAndAMoveKeepEachMessagesFlags() throws LDAPException {
        slapd.addMailbox("wendy");
        publishFor("wendy", 3, 1);
        try (LDAPConnection root = slapd.rootConnection()) {
            awaitMessagesIn(root, "cn=INBOX,uid=wendy," + Slapd.PEOPLE, 3);
        }
        JsonNode flags = python("""
                box = login('wendy', 'wendy-secret')
                box.select('INBOX')
                box.uid('STORE', '1', '+FLAGS.SILENT', '(\\\\Seen)')
                box.uid('STORE', '2', '+FLAGS.SILENT', '(\\\\Seen \\\\Flagged $Work)')
                box.create('Kept')
                box.create('Moved')
                answers = {'copy': box.uid('COPY', '1:3', 'Kept')[0], 'move': box.uid('MOVE', '1:2', 'Moved')[0]}
                for name in ['Kept', 'Moved', 'INBOX']:
                    box.select(name)
                    answers[name] = [d.decode() for d in box.uid('FETCH', '1:*', '(FLAGS)')[1]]
                print(json.dumps(answers))
                """);
        assertEquals("OK", flags.get("copy").asText(), flags.toString());
        assertEquals("OK", flags.get("move").asText(), flags.toString());
        assertEquals(List.of("1 (UID 1 FLAGS (\\Seen))", "2 (UID 2 FLAGS ($Work \\Flagged \\Seen))", "3 (UID 3 FLAGS ())"),
                JSON.convertValue(flags.get("Kept"), List.class), "a copy keeps its flags (RFC 3501 6.4.7): " + flags);
        assertEquals(List.of("1 (UID 1 FLAGS (\\Seen))", "2 (UID 2 FLAGS ($Work \\Flagged \\Seen))"),
                JSON.convertValue(flags.get("Moved"), List.class), "moved mail stays read: " + flags);
        assertEquals(List.of("1 (UID 3 FLAGS ())"), JSON.convertValue(flags.get("INBOX"), List.class), flags.toString());
    }

    @Test
    @Order(42)
    void aCreateARenameAndADeleteWhoseAnswersAreLostWithTheConnectionAreDoneAndSaidToBeDone() throws Exception {
        // Each is a write tried once more on a fresh connection when the connection is lost under it. The relay
        // loses the directory's answer to the write, which the directory has made: tried again, it finds it made.
        slapd.addMailbox("xavier");
        try (CuttableRelay relay = CuttableRelay.to(slapd.port())) {
            try (Mailstore store = storeOf("xavier", "ldap://127.0.0.1:" + relay.port())) {
                relay.loseReplyAfter(0);
                assertTrue(store.createFolder("Lost"), "made by this CREATE, whose answer was lost: not ALREADYEXISTS");
                Mailstore.Folder lost = store.folder("Lost").orElseThrow();
                relay.loseReplyAfter(0);
                store.renameFolder(lost, "Found", Map.of());
                assertEquals(lost.uuid(), store.folder("Found").orElseThrow().uuid(), "the same folder, renamed");
                // The search for its mail and the write of its subscription are answered; the delete's answer is lost.
                relay.loseReplyAfter(2);
                store.deleteFolder(store.folder("Found").orElseThrow());
                assertEquals(List.of(), store.folders().stream().map(Mailstore.Folder::name).toList(), "nothing left, no INBOX yet");
                assertEquals(4, relay.connectionsMade(), "the session's connection, and one more after each answer lost");
            }
        }
    }

    @Test
    @Order(43)
    void aFolderNameLongerThanTheDirectoryCanNameIsRefusedAsSuchAndTheLongestItCanIsAFolderLikeAnyOther() {
        // slapd refuses an entry whose name, as written and normalized, outgrows mdb's 511-octet record: it said
        // "other", which read as the directory out of reach (NO [UNAVAILABLE]); the name is now refused first.
        JsonNode answers = python("""
                box = login('bob', 'bob-secret')
                answers = {}
                for label, name in [('237 letters', 'L' * 237), ('238 letters', 'L' * 238), ('250 letters', 'L' * 250),
                                    ('79 commas', ',' * 79), ('80 commas', ',' * 80)]:
                    answers[label] = answered(*box._simple_command('CREATE', '"%s"' % name))
                answers['select 237'] = box.select('L' * 237)[0]
                # As a literal, past the line limit: a regular expression checking such a name overflowed the session's stack.
                for verb in ['CREATE', 'SELECT']:
                    box.send(('l %s {60000}\\r\\n' % verb).encode())
                    box.readline()
                    box.send(b'N' * 60000 + b'\\r\\n')
                    answers['60,000 ' + verb] = box.readline().decode().strip()
                answers['after'] = box.noop()[0]
                box.create('Short')
                box.create('Short/' + 'M' * 230)
                answers['rename'] = answered(*box.rename('Short', 'Longer12'))
                listed = [d.decode() for d in box.list('""', '*')[1]]
                answers['kept'] = any(('Short/' + 'M' * 230) in line for line in listed)
                answers['moved'] = any('Longer12' in line for line in listed)
                print(json.dumps(answers))
                """);
        assertEquals("OK", answers.get("237 letters").get(0).asText(), answers.toString());
        assertEquals("OK", answers.get("79 commas").get(0).asText(), answers.toString());
        assertEquals("OK", answers.get("select 237").asText(), answers.toString());
        for (String tooLong : List.of("238 letters", "250 letters", "80 commas")) {
            assertRefused("CANNOT", answers.get(tooLong), answers);
            assertTrue(answers.get(tooLong).get(1).asText().contains("at most 237 characters"), answers.toString());
        }
        assertTrue(answers.get("60,000 CREATE").asText().startsWith("l NO [CANNOT]"), answers.toString());
        assertTrue(answers.get("60,000 SELECT").asText().startsWith("l NO [NONEXISTENT]"), answers.toString());
        assertEquals("OK", answers.get("after").asText(), "the session goes on: " + answers);
        assertRefused("CANNOT", answers.get("rename"), answers);
        assertTrue(answers.get("rename").get(1).asText().contains("a folder below"), answers.toString());
        assertTrue(answers.get("kept").asBoolean() && !answers.get("moved").asBoolean(),
                "the folder below would be named with 239 letters: nothing renamed: " + answers);
    }

    @Test
    @Order(44)
    void aFlagNamedTwiceInOneListInAnyCaseIsSetOnceNotRefusedByTheDirectory() {
        // slapd refuses a change that names one value twice, and compares flags ignoring case: it said
        // "attribute or value exists", which the client got as NO [SERVERBUG].
        slapd.addMailbox("yuri");
        JsonNode answers = python("""
                box = login('yuri', 'yuri-secret')
                answers = {'append': box.append('INBOX', '(\\\\Seen \\\\seen $Tag $tag)', None, b'Subject: twice\\r\\n\\r\\nbody\\r\\n')[0]}
                box.select('INBOX')
                answers['appended'] = box.fetch('1', '(FLAGS)')[1][0].decode()
                answers['add'] = box.store('1', '+FLAGS', '(\\\\Flagged \\\\FLAGGED $Other $OTHER)')[0]
                answers['remove'] = box.store('1', '-FLAGS', '($tag $TAG)')[0]
                answers['replace'] = box.store('1', 'FLAGS', '(\\\\Seen \\\\Seen $Last $last)')[0]
                answers['flags'] = box.fetch('1', '(FLAGS)')[1][0].decode()
                print(json.dumps(answers))
                """);
        assertEquals("OK", answers.get("append").asText(), answers.toString());
        assertEquals("1 (FLAGS ($Tag \\Seen))", answers.get("appended").asText(), answers.toString());
        for (String change : List.of("add", "remove", "replace")) {
            assertEquals("OK", answers.get(change).asText(), change + ": " + answers);
        }
        assertEquals("1 (FLAGS ($Last \\Seen))", answers.get("flags").asText(), answers.toString());
    }

    @Test
    @Order(45)
    void aRenameToANameTakenAsTheDirectoryComparesNamesIsRefusedBeforeAnyFolderMoves() {
        // The directory compares folder names ignoring case and runs of spaces; the rename compared them lower-cased
        // only, moved the folder below, and then met the taken name at its last write (NO [SERVERBUG]).
        slapd.addMailbox("zoe");
        JsonNode answers = python("""
                box = login('zoe', 'zoe-secret')
                for name in ['"Team  Notes"', 'Other', 'Other/Sub']:
                    box.create(name)
                answers = {'rename': answered(*box._simple_command('RENAME', 'Other', '" team notes"'))}
                answers['listed'] = sorted(d.decode() for d in box.list()[1])
                print(json.dumps(answers))
                """);
        assertRefused("ALREADYEXISTS", answers.get("rename"), answers);
        assertEquals(List.of("(\\HasChildren) \"/\" \"Other\"", "(\\HasNoChildren) \"/\" \"INBOX\"",
                "(\\HasNoChildren) \"/\" \"Other/Sub\"", "(\\HasNoChildren) \"/\" \"Team  Notes\""),
                JSON.convertValue(answers.get("listed"), List.class), "nothing moved: " + answers);
    }

    @Test
    @Order(46)
    void unsubscribingAFolderThatIsGoneIsDoneAndAStatusAskingForNothingIsBad() {
        // As Dovecot answers: a client unsubscribes a folder it has just deleted, and shows the user any NO it gets.
        JsonNode answers = python("""
                box = login('bob', 'bob-secret')
                box.create('Gone')
                box.subscribe('Gone')
                box.delete('Gone')
                answers = {'unsubscribe': box.unsubscribe('Gone')[0], 'subscribe': box.subscribe('Gone')[0]}
                try:
                    answers['status'] = answered(*box._simple_command('STATUS', 'INBOX', '()'))
                except imaplib.IMAP4.error as e:
                    answers['status'] = str(e)
                print(json.dumps(answers))
                """);
        assertEquals("OK", answers.get("unsubscribe").asText(), answers.toString());
        assertEquals("NO", answers.get("subscribe").asText(), "a subscription lives on its folder's entry: " + answers);
        assertTrue(answers.get("status").asText().startsWith("STATUS command error: BAD"), answers.toString());
    }

    /** {@code user}'s mail as a session of imapd sees it, bound as the user over {@code ldapUrl} (password NAME-secret). */
    private static Mailstore storeOf(String user, String ldapUrl) throws Mailstore.Failure {
        ImapConfig config = ImapConfig.of(Map.of("imap.listen", "inet:127.0.0.1:" + FreePort.next(), "ldap.urls", ldapUrl,
                "ldap.base.dn", Slapd.PEOPLE));
        return Mailstore.login(config, user, user + "-secret").orElseThrow();
    }

    /**
     * Expunges UID 2 of two \Deleted mails of a new mailbox of {@code user}'s, on the store a
     * session uses, connected through a relay that {@code cut} tells to cut after the first write's answer.
     */
    private static Optional<Mailstore.Failure> expungeCutBetweenItsWrites(String user, Consumer<CuttableRelay> cut) throws Exception {
        inboxAllDeleted(user, 2);
        try (CuttableRelay relay = CuttableRelay.to(slapd.port())) {
            Optional<Mailstore.Failure> failure;
            try (Mailstore store = storeOf(user, "ldap://127.0.0.1:" + relay.port())) {
                Mailstore.State second = store.snapshot("INBOX", store.folder("INBOX").orElseThrow().uuid()).states().get(1);
                assertTrue(second.given() && second.flags().contains("\\Deleted"), second.toString());
                cut.accept(relay);
                store.expungeIfDeleted("INBOX", second);
                failure = Optional.empty();
            } catch (Mailstore.Failure refused) {
                failure = Optional.of(refused);
            }
            assertEquals(2, relay.connectionsMade(), "the session's connection cut, and made again once");
            return failure;
        }
    }

    /** A new mailbox for {@code user} with {@code count} mails in INBOX, all \Deleted by a session: UID 1's entry gave the others their UIDs. */
    private static void inboxAllDeleted(String user, int count) throws LDAPException {
        slapd.addMailbox(user);
        publishFor(user, count, 1);
        try (LDAPConnection root = slapd.rootConnection()) {
            awaitMessagesIn(root, "cn=INBOX,uid=" + user + "," + Slapd.PEOPLE, count);
        }
        JsonNode deleted = python("""
                box = login('%1$s', '%1$s-secret')
                box.select('INBOX')
                print(json.dumps(answered(*box.uid('STORE', '1:%2$d', '+FLAGS.SILENT', '(\\\\Deleted)'))))
                """.formatted(user, count));
        assertEquals("OK", deleted.get(0).asText(), deleted.toString());
    }

    private static void assertRefused(String code, JsonNode answer, JsonNode context) {
        assertEquals("NO", answer.get(0).asText(), context.toString());
        assertTrue(answer.get(1).asText().startsWith("[" + code + "]"), context.toString());
    }

    /** A program that logs in as {@code user}, selects INBOX and prints its EXISTS count and every message's UID and flags. */
    private static String selectAndList(String user) {
        return """
                box = login('%s', '%s-secret')
                typ, count = box.select('INBOX')
                typ, data = box.uid('FETCH', '1:*', '(UID FLAGS)')
                box.logout()
                print(json.dumps([[int(count[0])], [d.decode() for d in data]]))
                """.formatted(user, user);
    }

    /** Publishes {@code count} small mails for {@code user}, numbered from {@code first}, one at a time so that each arrives after the last. */
    private static void publishFor(String user, int count, int first) {
        try (MailPublisher publisher = new MailPublisher(KafkaCluster.shared().bootstrapServers(), TOPIC)) {
            for (int i = first; i < first + count; i++) {
                publisher.publish(List.of(Map.entry(user + "@example.com", MailCorpus.message("for " + user + " " + i, "mail " + i + "\r\n"))));
            }
        }
    }

    /** Each UID of {@code folder} to its message's id, as the state entries give them, read as the root DN. */
    private static TreeMap<Long, String> uidsOf(LDAPConnection root, String folder) throws LDAPException {
        TreeMap<Long, String> uids = new TreeMap<>();
        for (SearchResultEntry state : root.search(folder, SearchScope.ONE, "(objectClass=mailStoreState)").getSearchEntries()) {
            uids.put(state.getAttributeValueAsLong("mailStoreUid"), state.getAttributeValue("mailStoreId"));
            for (String given : state.hasAttribute("mailStoreGivenUid") ? state.getAttributeValues("mailStoreGivenUid") : new String[0]) {
                uids.putIfAbsent(Long.parseLong(given.split(" ")[0]), given.split(" ")[1]);
            }
        }
        return uids;
    }

    private static void awaitMessagesIn(LDAPConnection root, String folder, int count) {
        Awaitility.await("mail stored in " + folder).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> root.getEntry(folder) != null
                        && root.search(folder, SearchScope.ONE, "(objectClass=mailStoreMessage)", "1.1").getEntryCount() >= count);
    }

    /** The SHA-256 of {@code mail} without its CRs: how mbsync's copy and the mail served compare. */
    private static String withoutCr(byte[] mail) {
        return MessageIdentity.sha256Hex(new String(mail, StandardCharsets.ISO_8859_1).replace("\r", "").getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Runs {@code program} under python3 with imaplib, json, re, hashlib and socket imported, {@code port} set and a {@code login} helper; returns what it printed as JSON. */
    private static JsonNode python(String program) {
        String prelude = """
                import hashlib, imaplib, json, re, socket
                port = %d
                def login(user, password):
                    box = imaplib.IMAP4('127.0.0.1', port)
                    box.login(user, password)
                    return box
                def sessions(user, count):
                    return [login(user, user + '-secret') for _ in range(count)]
                def answered(typ, data):
                    return [typ, data[0].decode() if data[0] else None]
                def fill(box, folder, subjects):
                    box.create(folder)
                    for subject in subjects:
                        box.append(folder, None, None, ('Subject: %%s\\r\\n\\r\\nbody\\r\\n' %% subject).encode())
                def moved_away(box, subject):
                    # One message, moved from Here (where it stays expunged) to There, which is left selected as UID 1.
                    fill(box, 'Here', [subject])
                    box.create('There')
                    box.select('Here')
                    box.uid('MOVE', '1', 'There')
                    box.select('There')
                """.formatted(imapd.port());
        Command.Result run = Command.of(List.of("python3", "-")).run((prelude + program).getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(120));
        assertEquals(0, run.exitCode(), run + "\nimapd:\n" + imapd.log() + "\nstore-worker:\n" + worker.log());
        try {
            return JSON.readTree(run.stdout());
        } catch (IOException e) {
            throw new UncheckedIOException(run.toString(), e);
        }
    }

    private static void awaitMessageEntries(int count) {
        Awaitility.await("all mail stored").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> slapd.messages("1.1").size() >= count);
    }
}
