package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.LDAPConnection;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.Slapd;
import org.mailstream.local.TempFiles;
import org.mailstream.local.TestCertificates;

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
            assertTrue(check.stdout().contains("ok    " + slapd.url() + ": its schema defines mailStoreFolder, mailStoreMessage, mailStoreState, mailStoreGivenUid, mailStoreGivenFlag"),
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
            assertTrue(check.stdout().contains("FAIL  " + bare.url() + ": its schema lacks mailStoreFolder, mailStoreMessage, mailStoreState, mailStoreGivenUid, mailStoreGivenFlag"),
                    check.toString());
            assertTrue(check.stdout().contains("FAIL  " + nowhere + ": does not answer"), check.toString());
            assertTrue(check.stdout().contains("FAIL  TLS: a handshake with the certificate and key fails"), check.toString());
        }
    }

    @Test
    void aProviderWhoseSchemaPredatesUidsGivenManyToAnEntryFailsNamingTheType() {
        assertLacks("mailStoreGivenUid", schema -> Slapd.withoutType(schema, "mailStoreGivenUid"));
    }

    @Test
    void aProviderGivenTheTypeButNotTheStateClassThatMayHoldItFailsNamingTheType() {
        assertLacks("mailStoreGivenUid", schema -> schema.replace(" $ mailStoreGivenUid ", " "));
    }

    @Test
    void aProviderWhoseStateClassCannotHoldTheFlagsAnEntryGivesFailsNamingTheType() {
        assertLacks("mailStoreGivenFlag", schema -> schema.replace(" $ mailStoreGivenFlag ", " "));
    }

    private static void assertLacks(String types, UnaryOperator<String> upgradedSoFar) {
        try (Slapd earlier = Slapd.startWithSchema(upgradedSoFar)) {
            Command.Result check = check(earlier.url(), Map.of());
            assertEquals(78, check.exitCode(), check.toString());
            assertTrue(check.stdout().contains("FAIL  " + earlier.url() + ": its schema lacks " + types + ": load the release's"),
                    check.toString());
        }
    }

    @Test
    void aLookupIdentityThatReadsOnlyUidAndMailPassesAndOneThatReadsMailOrHasAWrongPasswordFails() throws Exception {
        try (Slapd slapd = Slapd.start()) {
            slapd.addMailbox("alice");
            try (LDAPConnection root = slapd.rootConnection()) {
                String inbox = "cn=INBOX,uid=alice," + Slapd.PEOPLE;
                root.add("dn: " + inbox, "objectClass: mailStoreFolder", "cn: INBOX");
                root.add("dn: mailStoreId=1," + inbox, "objectClass: mailStoreMessage", "mailStoreId: 1", "mailStoreRaw: Subject: hi",
                        "mailStoreSize: 10", "mailStoreSha256: 00", "mailStoreReceived: 20261205000000Z", "mailStoreRecipient: alice@example.com");
            }
            Command.Result postfixs = check(slapd.url(), lookup(Slapd.LOOKUP_DN, Slapd.LOOKUP_PASSWORD));
            assertEquals(0, postfixs.exitCode(), postfixs.toString());
            assertTrue(postfixs.stdout().contains("ok    " + slapd.url() + ": the lookup identity " + Slapd.LOOKUP_DN
                    + " binds, and finds no message and no password"), postfixs.toString());

            Command.Result roots = check(slapd.url(), lookup(Slapd.ROOT_DN, Slapd.ROOT_PASSWORD));
            assertEquals(78, roots.exitCode(), roots.toString());
            assertTrue(roots.stdout().contains("FAIL  " + slapd.url() + ": the lookup identity " + Slapd.ROOT_DN + " finds "),
                    roots.toString());

            Command.Result wrong = check(slapd.url(), lookup(Slapd.LOOKUP_DN, "not-the-password"));
            assertEquals(78, wrong.exitCode(), wrong.toString());
            assertTrue(wrong.stdout().contains("FAIL  " + slapd.url() + ": the lookup identity " + Slapd.LOOKUP_DN + " cannot bind"),
                    wrong.toString());
        }
    }

    private static Map<String, String> lookup(String dn, String password) {
        return Map.of("ldap.lookup.bind.dn", dn, "ldap.lookup.bind.password.file", TempFiles.write("lookup-password", password + "\n").toString());
    }

    private static Command.Result check(String urls, Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(Map.of("ldap.urls", urls, "ldap.base.dn", Slapd.PEOPLE, "ldap.connect.timeout.ms", "2000"));
        settings.putAll(overrides);
        return Command.of(List.of(LAUNCHER, "check", "-c", TempFiles.properties("imapd.properties", settings).toString()))
                .run(new byte[0], Duration.ofSeconds(60));
    }
}
