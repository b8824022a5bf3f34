package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mailstream.local.Command;
import org.mailstream.local.Dovecot;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;

/**
 * The same awkward mails served by imapd (stored by the real worker in real slapd) and by Debian's
 * Dovecot from a Maildir, asked the same questions: every FETCH item and SEARCH gives the same
 * answer, octet for octet.
 */
class DovecotReferenceIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "dovecot-reference";

    private static Slapd slapd;
    private static StoreWorkerProcess worker;
    private static ImapdProcess imapd;
    private static Dovecot dovecot;
    private static final Map<String, byte[]> MAILS = new LinkedHashMap<>();
    private static JsonNode ours;
    private static JsonNode theirs;

    static List<String> questions() {
        return List.of("FETCH 1:* (ENVELOPE)", "FETCH 1:* (BODYSTRUCTURE)", "FETCH 1:* (BODY)", "FETCH 1:* (RFC822.SIZE)",
                "FETCH 1:* (BODY.PEEK[])", "FETCH 1:* (BODY.PEEK[HEADER])", "FETCH 1:* (BODY.PEEK[TEXT])",
                "FETCH 1:* (BODY.PEEK[1])", "FETCH 1:* (BODY.PEEK[1.MIME])", "FETCH 1:* (BODY.PEEK[2])",
                "FETCH 1:* (BODY.PEEK[2.MIME])", "FETCH 1:* (BODY.PEEK[2.HEADER])", "FETCH 1:* (BODY.PEEK[2.TEXT])",
                "FETCH 1:* (BODY.PEEK[2.1])", "FETCH 1:* (BODY.PEEK[2.2])", "FETCH 1:* (BODY.PEEK[1.1])", "FETCH 1:* (BODY.PEEK[1.1.MIME])",
                "FETCH 1:* (BODY.PEEK[2.1.1])", "FETCH 1:* (BODY.PEEK[1]<0.5>)", "FETCH 1:* (BODY.PEEK[]<3.40>)",
                "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])", "FETCH 1:* (BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT)])",
                "SEARCH SUBJECT parameters", "SEARCH FROM alice", "SEARCH TEXT html", "SEARCH BODY plain",
                "SEARCH HEADER Content-Type mixed", "SEARCH LARGER 300", "SEARCH TO bob", "SEARCH NOT SMALLER 200 UNSEEN",
                "SEARCH SENTON 30-Nov-2026", "SEARCH SENTON 1-Dec-2026", "SEARCH SENTBEFORE 1-Dec-2026", "SEARCH SENTSINCE 3-Dec-2026",
                "SEARCH SENTBEFORE 2-Jan-1970", "SEARCH (OR FROM carol TO bob) (LARGER 100)",
                // Header fields searched as a reader sees them: encoded words decoded, whatever their charset, in any case.
                "SEARCH CHARSET UTF-8 SUBJECT {5+}\r\nKöln", "SEARCH CHARSET UTF-8 SUBJECT {7+}\r\nGRÜßE", "SEARCH CHARSET UTF-8 FROM {5+}\r\nJörg",
                "SEARCH SUBJECT \"e und K\"", "SEARCH SUBJECT ISO-8859-1", "SEARCH FROM SsO2cmc",
                "SEARCH CHARSET UTF-8 BODY {8+}\r\nbelow é", "SEARCH BODY =C3=A9", "SEARCH BODY JVBERg", "SEARCH BODY %PDF", "SEARCH BODY aGk",
                // An encoded word naming a charset no one has: the words beside it are still decoded, and what ASCII it
                // holds before its first octet that is not UTF-8 is found. (Past that octet Dovecot finds nothing, its
                // normalizer stopping there; imapd reads on, the octet replaced: not asked here.)
                "SEARCH CHARSET UTF-8 SUBJECT {8+}\r\nBrüssel", "SEARCH SUBJECT \"W\"", "SEARCH SUBJECT und", "SEARCH SUBJECT =FC",
                "SEARCH SUBJECT NO-SUCH", "SEARCH FROM Ann",
                "SEARCH BODY Leipzig", "SEARCH BODY =DF", "SEARCH BODY innermost", "SEARCH BODY \"level 104\"", "SEARCH TEXT \"level 104\"", "SEARCH BODY held", "SEARCH TEXT carol");
    }

    @BeforeAll
    static void theSameMailInBothServers() {
        MAILS.putAll(MailCorpus.awkwardMime());
        MailCorpus.awkward().forEach((name, mail) -> {
            if (mail.length < 100_000) {
                MAILS.put(name, mail);
            }
        });
        KafkaCluster kafka = KafkaCluster.shared();
        kafka.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(TOPIC + ".dlq", 1, 1, Map.of());
        slapd = Slapd.start();
        slapd.addMailbox("alice");
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), TOPIC)) {
            MAILS.values().forEach(mail -> publisher.publish(List.of(Map.entry("alice@example.com", mail))));
        }
        worker = StoreWorkerProcess.start(StoreWorkerProcess.config(kafka, TOPIC, slapd, Map.of()));
        Awaitility.await("all mail stored").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> slapd.messages("1.1").size() >= MAILS.size());
        imapd = ImapdProcess.start(slapd, Map.of());
        dovecot = Dovecot.start(Map.of("alice", "alice-secret"));
        dovecot.deliver("alice", List.copyOf(MAILS.values()));
        ours = ask(imapd.port());
        theirs = ask(dovecot.port());
    }

    @AfterAll
    static void stopEverything() {
        for (AutoCloseable running : new AutoCloseable[] {dovecot, imapd, worker, slapd}) {
            try {
                if (running != null) {
                    running.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("questions")
    void eachMailGetsDovecotsAnswer(String question) {
        List<String> mine = responses(ours, question);
        List<String> reference = responses(theirs, question);
        assertEquals(reference.size(), mine.size(), question + "\nDovecot: " + reference + "\nimapd:   " + mine);
        List<String> differences = new ArrayList<>();
        List<String> names = List.copyOf(MAILS.keySet());
        for (int i = 0; i < mine.size(); i++) {
            if (!mine.get(i).equals(reference.get(i))) {
                differences.add((question.startsWith("FETCH") ? names.get(i) : "") + "\n  Dovecot: " + reference.get(i) + "\n  imapd:   "
                        + mine.get(i));
            }
        }
        assertEquals(List.of(), differences, question);
    }

    private static List<String> responses(JsonNode answers, String question) {
        List<String> responses = new ArrayList<>();
        answers.get(question).forEach(response -> responses.add(new String(Base64.getDecoder().decode(response.asText()),
                StandardCharsets.ISO_8859_1)));
        return responses;
    }

    /** Every question's untagged responses from the server on {@code port}, each with its literals, as base64. */
    private static JsonNode ask(int port) {
        String program = """
                import base64, json, socket, sys
                s = socket.create_connection(('127.0.0.1', %d), timeout=30)
                f = s.makefile('rb')
                def response():
                    data = b''
                    while True:
                        line = f.readline()
                        if not line:
                            sys.exit('the server closed the connection after: %%r' %% data)
                        data += line
                        if line.endswith(b'}\\r\\n'):
                            size = int(line[line.rindex(b'{') + 1:-3])
                            data += f.read(size)
                        else:
                            return data
                def ask(tag, command):
                    s.sendall(tag.encode() + b' ' + command.encode() + b'\\r\\n')
                    untagged = []
                    while True:
                        r = response()
                        if r.startswith(tag.encode() + b' '):
                            if not r.startswith(tag.encode() + b' OK'):
                                untagged.append(r)
                            return untagged
                        untagged.append(r)
                response()
                ask('l', 'LOGIN alice alice-secret')
                ask('s', 'EXAMINE INBOX')
                answers = {}
                for i, question in enumerate(json.loads(sys.argv[1])):
                    answers[question] = [base64.b64encode(r).decode() for r in ask('q%%d' %% i, question)]
                print(json.dumps(answers))
                """.formatted(port);
        try {
            Command.Result run = Command.of(List.of("python3", "-c", program, JSON.writeValueAsString(questions())))
                    .run(new byte[0], Duration.ofSeconds(120));
            assertEquals(0, run.exitCode(), run + "\nimapd:\n" + imapd.log() + "\ndovecot:\n" + dovecot.log());
            return JSON.readTree(run.stdout());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
