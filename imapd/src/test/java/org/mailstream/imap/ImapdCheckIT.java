package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.testsupport.Slapd;
import org.mailstream.testsupport.TempFiles;
import org.mailstream.testsupport.TestCertificates;

/** The real {@code bin/imapd check} against real slapd instances and real certificates. */
class ImapdCheckIT {

    private static final String LAUNCHER = Command.repositoryRoot().resolve("bin/imapd").toString();

    @Test
    void aProviderWithTheSchemaAndAMatchingCertificatePass() {
        TestCertificates certificates = TestCertificates.create();
        try (Slapd slapd = Slapd.start()) {
            Command.Result check = check(slapd.url(), Map.of("imap.tls.certificate.file", certificates.serverCertificate().toString(),
                    "imap.tls.key.file", certificates.serverKey().toString()));
            assertEquals(0, check.exitCode(), check.toString());
            assertTrue(check.stdout().contains("ok    " + slapd.url() + ": its schema defines mailStoreFolder, mailStoreMessage, mailStoreState"),
                    check.toString());
            assertTrue(check.stdout().contains("ok    TLS: the certificate and key belong together (CN=localhost)"), check.toString());
        }
    }

    @Test
    void aProviderWithoutTheReadPathsSchemaAnUnreachableOneAndAKeyOfAnotherCertificateFailByName() {
        TestCertificates certificates = TestCertificates.create();
        try (Slapd bare = Slapd.startWithoutProjectSchema()) {
            String nowhere = "ldap://127.0.0.1:" + FreePort.next();
            Command.Result check = check(bare.url() + "," + nowhere, Map.of("imap.tls.certificate.file",
                    certificates.serverCertificate().toString(), "imap.tls.key.file", certificates.strangerKey().toString()));
            assertEquals(78, check.exitCode(), check.toString());
            assertTrue(check.stdout().contains("FAIL  " + bare.url() + ": its schema lacks mailStoreFolder, mailStoreMessage, mailStoreState"),
                    check.toString());
            assertTrue(check.stdout().contains("FAIL  " + nowhere + ": does not answer"), check.toString());
            assertTrue(check.stdout().contains("FAIL  TLS: a handshake with the certificate and key fails"), check.toString());
        }
    }

    private static Command.Result check(String urls, Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(Map.of("ldap.urls", urls, "ldap.base.dn", Slapd.PEOPLE, "ldap.connect.timeout.ms", "2000"));
        settings.putAll(overrides);
        return Command.of(List.of(LAUNCHER, "check", "-c", TempFiles.properties("imapd.properties", settings).toString()))
                .run(new byte[0], Duration.ofSeconds(60));
    }
}
