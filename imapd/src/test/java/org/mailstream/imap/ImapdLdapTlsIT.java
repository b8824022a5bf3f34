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
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.Slapd;
import org.mailstream.local.TempFiles;
import org.mailstream.local.TestCertificates;

/** imapd reaching a real slapd over StartTLS and ldaps, trusting only the configured authority: a login's password never crosses in the clear. */
class ImapdLdapTlsIT {

    private static TestCertificates certificates;
    private static Slapd slapd;

    @BeforeAll
    static void slapdWithTls() {
        certificates = TestCertificates.create();
        slapd = Slapd.startWithTls(certificates);
        slapd.addMailbox("bob");
    }

    @AfterAll
    static void stop() {
        slapd.close();
    }

    @Test
    void aUserLogsInAndListsFoldersOverStartTlsAndOverLdaps() {
        for (Map<String, String> transport : List.of(
                Map.of("ldap.urls", slapd.url(), "ldap.tls", "starttls", "ldap.tls.ca.file", certificates.authority().toString()),
                Map.of("ldap.urls", slapd.ldapsUrl(), "ldap.tls", "ldaps", "ldap.tls.ca.file", certificates.authority().toString()))) {
            try (ImapdProcess imapd = ImapdProcess.start(slapd, transport)) {
                Command.Result session = python(imapd.port(), "print(box.login('bob', 'bob-secret')[0], box.list()[0])");
                assertEquals("OK OK", session.stdout().strip(), session + "\nimapd:\n" + imapd.log());
            }
        }
    }

    @Test
    void aProviderWhoseCertificateAnotherAuthoritySignedGetsNoPasswordAndTheLoginIsUnavailable() {
        Map<String, String> stranger = Map.of("ldap.urls", slapd.url(), "ldap.tls", "starttls",
                "ldap.tls.ca.file", certificates.strangerAuthority().toString());
        try (ImapdProcess imapd = ImapdProcess.start(slapd, stranger)) {
            Command.Result session = python(imapd.port(), """
                    try:
                        box.login('bob', 'bob-secret')
                        print('logged in')
                    except imaplib.IMAP4.error as refused:
                        print(refused)
                    """);
            assertTrue(session.stdout().contains("[UNAVAILABLE]"), session + "\nimapd:\n" + imapd.log());
        }
    }

    @Test
    void checkSaysTheProviderAnswersOverTls() {
        Command.Result check = Command.of(List.of(Command.repositoryRoot().resolve("bin/imapd").toString(), "check", "-c",
                TempFiles.properties("imapd.properties", Map.of("ldap.urls", slapd.ldapsUrl(), "ldap.base.dn", Slapd.PEOPLE,
                        "ldap.tls", "ldaps", "ldap.tls.ca.file", certificates.authority().toString())).toString()))
                .run(new byte[0], Duration.ofSeconds(60));
        assertEquals(0, check.exitCode(), check.toString());
        assertTrue(check.stdout().contains("ok    " + slapd.ldapsUrl() + ": answers, over TLS with a certificate for its host"),
                check.toString());
    }

    private static Command.Result python(int port, String program) {
        String prelude = "import imaplib\nbox = imaplib.IMAP4('127.0.0.1', %d)\n".formatted(port);
        return Command.of(List.of("python3", "-")).run((prelude + program + "\n").getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(60));
    }
}
