package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TestCertificates;

/** The real bin/imapd with a certificate: implicit TLS and STARTTLS, checked by clients against the authority that signed it. */
class ImapdTlsIT {

    private static final String TOPIC = "imapd-tls";
    private static final byte[] MAIL = MailCorpus.message("over TLS", "encrypted on the way\r\n");

    private static Slapd slapd;
    private static ImapdProcess imapd;
    private static TestCertificates certificates;
    private static int imapsPort;

    @BeforeAll
    static void aMailForAliceAndAServerWithACertificate() {
        slapd = Slapd.start();
        slapd.addMailbox("alice");
        StoreWorkerProcess.storeAll(TOPIC, slapd, slapd, List.of(Map.entry("alice@example.com", MAIL)));
        certificates = TestCertificates.create();
        imapsPort = FreePort.next();
        imapd = ImapdProcess.start(slapd, Map.of("imap.tls.certificate.file", certificates.serverCertificate().toString(),
                "imap.tls.key.file", certificates.serverKey().toString(), "imap.tls.listen", "inet:127.0.0.1:" + imapsPort));
    }

    @AfterAll
    static void stop() {
        if (imapd != null) {
            imapd.close();
        }
        if (slapd != null) {
            slapd.close();
        }
    }

    @Test
    void curlReadsTheMailOverImplicitTlsTrustingOnlyTheAuthority() {
        Command.Result curl = curl("imaps://localhost:" + imapsPort + "/INBOX;UID=1", "--cacert", certificates.authority().toString());
        assertEquals(0, curl.exitCode(), curl + "\n" + imapd.log());
        assertEquals(new String(MAIL, StandardCharsets.UTF_8), curl.stdout(), curl.toString());
        Command.Result stranger = curl("imaps://localhost:" + imapsPort + "/INBOX;UID=1", "--cacert",
                certificates.strangerAuthority().toString());
        assertTrue(stranger.exitCode() != 0, "a certificate no trusted authority signed is refused: " + stranger);
    }

    @Test
    void curlReadsTheMailAfterStarttlsAndImaplibLogsInAfterIt() {
        Command.Result curl = curl("imap://localhost:" + imapd.port() + "/INBOX;UID=1", "--ssl-reqd", "--cacert",
                certificates.authority().toString());
        assertEquals(0, curl.exitCode(), curl + "\n" + imapd.log());
        assertEquals(new String(MAIL, StandardCharsets.UTF_8), curl.stdout(), curl.toString());
        String program = """
                import imaplib, ssl
                box = imaplib.IMAP4('localhost', %d)
                before = 'STARTTLS' in box.capabilities
                box.starttls(ssl.create_default_context(cafile='%s'))
                box.login('alice', 'alice-secret')
                typ, count = box.select('INBOX')
                print(before, 'STARTTLS' in box.capabilities, count[0].decode())
                """.formatted(imapd.port(), certificates.authority());
        Command.Result python = Command.of(List.of("python3", "-")).run(program.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
        assertEquals(0, python.exitCode(), python + "\n" + imapd.log());
        assertEquals("True False 1", python.stdout().strip(), "offered before, not after; the mail there: " + python);
    }

    @Test
    void commandsSentAfterStarttlsBeforeTheHandshakeAreNotAnsweredInsideTls() {
        // RFC 3501 6.2.1: what a client pipelines after STARTTLS could be an attacker's injection.
        String program = """
                import socket, ssl
                s = socket.create_connection(('localhost', %d), timeout=20)
                f = s.makefile('rb')
                f.readline()
                s.sendall(b'a STARTTLS\\r\\nb LOGIN alice alice-secret\\r\\n')
                f.readline()
                t = ssl.create_default_context(cafile='%s').wrap_socket(s, server_hostname='localhost')
                t.sendall(b'c NOOP\\r\\n')
                print(t.recv(1000).decode().strip())
                """.formatted(imapd.port(), certificates.authority());
        Command.Result python = Command.of(List.of("python3", "-")).run(program.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
        assertEquals(0, python.exitCode(), python + "\n" + imapd.log());
        assertEquals("c OK NOOP completed", python.stdout().strip(), "no answer to b, which was sent in the clear: " + python);
    }

    private static Command.Result curl(String url, String... options) {
        List<String> argv = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--user", "alice:alice-secret"));
        argv.addAll(List.of(options));
        argv.add(url);
        return Command.of(argv).run(new byte[0], Duration.ofSeconds(40));
    }
}
