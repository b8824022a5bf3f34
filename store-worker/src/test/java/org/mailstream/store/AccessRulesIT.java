package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ModificationType;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;

/**
 * The shipped access rules (mailstore.database.ldif) in a real slapd, with mail the worker stored:
 * on a fresh database here, on the database Debian's package configures in
 * {@link AccessRulesOnDebianDatabaseIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessRulesIT {

    private static final String ALICE = "uid=alice," + Slapd.PEOPLE;
    private static final String BOB = "uid=bob," + Slapd.PEOPLE;
    private Backend backend;
    private String aliceMessage;

    /** The slapd whose database the rules were applied to. */
    Slapd slapd() {
        return Slapd.start();
    }

    @BeforeAll
    void aliceAndBobHaveMail() {
        backend = new Backend(KafkaCluster.shared(), "access-rules-" + getClass().getSimpleName(), 1, slapd());
        backend.addMailboxes("alice", "bob");
        try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
            publisher.publish(List.of(Map.entry("alice@example.com", MailCorpus.message("for alice only", "secret\r\n")),
                    Map.entry("bob@example.com", MailCorpus.message("for bob", "hi\r\n"))));
        }
        try (StoreWorkerProcess worker = StoreWorkerProcess.start(backend.workerConfig())) {
            backend.awaitMessages(2, Duration.ofSeconds(60), worker::log);
        }
        aliceMessage = backend.messages().stream().filter(e -> e.getDN().endsWith(ALICE)).findFirst().orElseThrow().getDN();
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @Test
    void anOwnerReadsItsOwnMail() throws Exception {
        try (LDAPConnection alice = backend.slapd.connection(ALICE, "alice-secret")) {
            assertEquals(1, alice.search("cn=INBOX," + ALICE, SearchScope.SUB, "(objectClass=mailStoreMessage)").getEntryCount());
            assertEquals("for alice only", alice.getEntry(aliceMessage).getAttributeValue("mailStoreSubject"));
        }
    }

    @Test
    void noSearchReadOrCompareByBobReachesAlicesMail() throws Exception {
        try (LDAPConnection bob = backend.slapd.connection(BOB, "bob-secret")) {
            assertEquals(1, bob.search(BOB, SearchScope.SUB, "(objectClass=mailStoreMessage)").getEntryCount(), "his own");
            assertNoSuchObject(() -> bob.search(Slapd.SUFFIX, SearchScope.SUB, "(mailStoreSubject=for alice only)"));
            assertNoSuchObject(() -> bob.search(Slapd.PEOPLE, SearchScope.SUB, "(objectClass=mailStoreMessage)"));
            assertNoSuchObject(() -> bob.search(ALICE, SearchScope.SUB, "(objectClass=*)"));
            assertNull(bob.getEntry(aliceMessage));
            assertNoSuchObject(() -> bob.compare(aliceMessage, "mailStoreSubject", "for alice only"));
        }
    }

    @Test
    void anonymousSeesNothing() throws Exception {
        try (LDAPConnection anonymous = new LDAPConnection("127.0.0.1", backend.slapd.port())) {
            assertNoSuchObject(() -> anonymous.search(Slapd.SUFFIX, SearchScope.SUB, "(objectClass=*)"));
            assertNull(anonymous.getEntry(aliceMessage));
        }
    }

    @Test
    void theServiceAccountWritesOnlyBelowMailboxOwners() throws Exception {
        try (LDAPConnection service = backend.slapd.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
            LDAPException changeOwner = assertThrows(LDAPException.class, () -> service.modify("dn: " + ALICE,
                    "changetype: modify", "replace: mail", "mail: stolen@example.com"));
            assertEquals(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, changeOwner.getResultCode());
            LDAPException outside = assertThrows(LDAPException.class, () -> service.add("dn: cn=elsewhere," + Slapd.SUFFIX,
                    "objectClass: mailStoreFolder", "cn: elsewhere"));
            assertEquals(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, outside.getResultCode());
            assertFalse(service.search(ALICE, SearchScope.BASE, "(objectClass=*)", "userPassword").getSearchEntries().get(0)
                    .hasAttribute("userPassword"));
        }
    }

    @Test
    void theServiceAccountMayNeitherDeleteAMessageNorChangeOrReadItsBytesNorReadAnotherApplicationsEntries() throws Exception {
        try (LDAPConnection root = backend.slapd.rootConnection()) {
            root.add("dn: cn=other-application," + Slapd.SUFFIX, "objectClass: organizationalRole", "cn: other-application",
                    "description: its secret");
        }
        try (LDAPConnection service = backend.slapd.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
            LDAPException delete = assertThrows(LDAPException.class, () -> service.delete(aliceMessage));
            assertEquals(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, delete.getResultCode());
            LDAPException rewrite = assertThrows(LDAPException.class, () -> service.modify("dn: " + aliceMessage,
                    "changetype: modify", "replace: mailStoreRaw", "mailStoreRaw: forged"));
            assertEquals(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, rewrite.getResultCode());
            LDAPException rename = assertThrows(LDAPException.class, () -> service.modifyDN(aliceMessage, "mailStoreId=forged", true));
            assertEquals(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, rename.getResultCode());
            LDAPException folder = assertThrows(LDAPException.class, () -> service.delete("cn=INBOX," + ALICE));
            assertEquals(ResultCode.NOT_ALLOWED_ON_NONLEAF, folder.getResultCode(), "a folder that holds mail stays");
            assertFalse(service.getEntry(aliceMessage, "*").hasAttribute("mailStoreRaw"));
            assertFalse(service.getEntry(aliceMessage, "*").hasAttribute("mailStoreHeader"), "nor the header section kept apart");
            assertRefused(() -> service.modify("dn: " + aliceMessage, "changetype: modify", "replace: mailStoreHeader", "mailStoreHeader: forged"));
            assertEquals("for alice only", service.getEntry(aliceMessage, "mailStoreSubject").getAttributeValue("mailStoreSubject"));
            assertNull(service.getEntry("cn=other-application," + Slapd.SUFFIX));
            assertEquals(Set.of("objectClass", "mail"), service.getEntry(ALICE, "*").getAttributes().stream()
                    .map(Attribute::getName).collect(Collectors.toSet()), "of an owner, only what finds it");
        }
    }

    @Test
    void theServiceAccountFindsAnOwnersFolderByNameToDeliverAnExtensionThereButReadsNothingOfIt() throws Exception {
        try (LDAPConnection service = backend.slapd.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
            SearchResultEntry inbox = service.getEntry("cn=inbox," + ALICE, "*");
            assertEquals("cn=INBOX," + ALICE, inbox.getDN(), "found by its name, whatever its case");
            assertEquals(List.of(), List.copyOf(inbox.getAttributes()));
        }
    }

    @Test
    void anOwnerReadsItsQuotaAndUsageAndChangesNoneOfThemWhileTheServiceKeepsTheUsageAndAddsNoOtherClass() throws Exception {
        backend.slapd.addMailbox("carl");
        String carl = "uid=carl," + Slapd.PEOPLE;
        try (LDAPConnection root = backend.slapd.rootConnection()) {
            root.modify(carl, new Modification(ModificationType.ADD, "objectClass", "mailStoreQuotaOwner"),
                    new Modification(ModificationType.ADD, "mailStoreQuotaMessages", "10"));
        }
        try (LDAPConnection service = backend.slapd.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
            service.modify(carl, new Modification(ModificationType.REPLACE, "mailStoreUsedMessages", "11"),
                    new Modification(ModificationType.REPLACE, "mailStoreOverQuota", "TRUE"));
            assertEquals("10", service.getEntry(carl, "mailStoreQuotaMessages").getAttributeValue("mailStoreQuotaMessages"));
            assertRefused(() -> service.modify(carl, new Modification(ModificationType.REPLACE, "mailStoreQuotaMessages", "1000")));
            assertRefused(() -> service.modify(carl, new Modification(ModificationType.ADD, "objectClass", "posixAccount")));
        }
        try (LDAPConnection owner = backend.slapd.connection(carl, "carl-secret")) {
            SearchResultEntry own = owner.getEntry(carl, "mailStoreQuotaMessages", "mailStoreUsedMessages", "mailStoreOverQuota");
            assertEquals(List.of("10", "11", "TRUE"), List.of(own.getAttributeValue("mailStoreQuotaMessages"),
                    own.getAttributeValue("mailStoreUsedMessages"), own.getAttributeValue("mailStoreOverQuota")));
            for (String attribute : List.of("mailStoreQuotaMessages", "mailStoreUsedMessages", "mailStoreOverQuota")) {
                assertRefused(() -> owner.modify(carl, new Modification(ModificationType.DELETE, attribute)));
            }
        }
        try (LDAPConnection postfix = backend.slapd.connection(Slapd.LOOKUP_DN, Slapd.LOOKUP_PASSWORD)) {
            assertEquals(1, postfix.search(Slapd.PEOPLE, SearchScope.SUB, "(&(mail=carl@example.com)(mailStoreOverQuota=TRUE))", "mail")
                    .getEntryCount(), "Postfix finds the mark, to refuse mail");
        }
    }

    @Test
    void postfixsLookupAccountFindsOwnersByAddressAndReadsNothingElse() throws Exception {
        try (LDAPConnection postfix = backend.slapd.connection(Slapd.LOOKUP_DN, Slapd.LOOKUP_PASSWORD)) {
            SearchResultEntry owner = postfix.searchForEntry(Slapd.PEOPLE, SearchScope.SUB, "(mail=alice@example.com)", "*");
            assertEquals(ALICE, owner.getDN());
            assertEquals(Set.of("objectClass", "mail"), owner.getAttributes().stream().map(Attribute::getName).collect(Collectors.toSet()));
            assertEquals(0, postfix.search(Slapd.PEOPLE, SearchScope.SUB, "(objectClass=mailStoreMessage)").getEntryCount());
            assertNull(postfix.getEntry(aliceMessage));
            LDAPException write = assertThrows(LDAPException.class, () -> postfix.modify("dn: " + ALICE,
                    "changetype: modify", "replace: mail", "mail: stolen@example.com"));
            assertEquals(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, write.getResultCode());
        }
    }

    @Test
    void anOwnerGivesItsMailUidsAndFlagsAndKeepsItsFoldersButNeverChangesItsBytesNorUndoesAnExpunge() throws Exception {
        String state = "mailStoreUid=1,cn=INBOX," + ALICE;
        String id = aliceMessage.substring("mailStoreId=".length(), aliceMessage.indexOf(','));
        try (LDAPConnection alice = backend.slapd.connection(ALICE, "alice-secret")) {
            alice.add("dn: " + state, "objectClass: mailStoreState", "mailStoreUid: 1", "mailStoreId: " + id);
            alice.modify("dn: " + state, "changetype: modify", "add: mailStoreFlag", "mailStoreFlag: \\Seen", "mailStoreFlag: $Work");
            alice.modify("dn: " + state, "changetype: modify", "delete: mailStoreFlag", "mailStoreFlag: $Work");
            assertEquals(List.of("\\Seen"), List.of(alice.getEntry(state).getAttributeValues("mailStoreFlag")));
            // The flags of messages whose UIDs the entry gives beside its own, removed as well as added.
            alice.modify("dn: " + state, "changetype: modify", "add: mailStoreGivenFlag", "mailStoreGivenFlag: 2 \\Flagged",
                    "mailStoreGivenFlag: 2 $Work");
            alice.modify("dn: " + state, "changetype: modify", "delete: mailStoreGivenFlag", "mailStoreGivenFlag: 2 $Work");
            assertEquals(List.of("2 \\Flagged"), List.of(alice.getEntry(state).getAttributeValues("mailStoreGivenFlag")));
            assertRefused(() -> alice.modify("dn: " + state, "changetype: modify", "replace: mailStoreId", "mailStoreId: " + "0".repeat(64)));
            assertRefused(() -> alice.modify("dn: " + aliceMessage, "changetype: modify", "replace: mailStoreRaw", "mailStoreRaw: forged"));
            assertRefused(() -> alice.modify("dn: " + aliceMessage, "changetype: modify", "delete: mailStoreRaw"));
            assertRefused(() -> alice.modify("dn: " + aliceMessage, "changetype: modify", "replace: mailStoreHeader", "mailStoreHeader: forged"));
            assertRefused(() -> alice.modify("dn: " + aliceMessage, "changetype: modify", "replace: mailStoreSubject", "mailStoreSubject: x"));
            alice.modify("dn: " + state, "changetype: modify", "add: mailStoreExpunged", "mailStoreExpunged: TRUE");
            assertRefused(() -> alice.modify("dn: " + state, "changetype: modify", "delete: mailStoreExpunged"));
            assertRefused(() -> alice.modify("dn: " + ALICE, "changetype: modify", "replace: mail", "mail: bob@example.com"));
            alice.add("dn: cn=Archive," + ALICE, "objectClass: mailStoreFolder", "cn: Archive");
            alice.modify("dn: cn=Archive," + ALICE, "changetype: modify", "replace: mailStoreSubscribed", "mailStoreSubscribed: TRUE");
            alice.modifyDN("cn=Archive," + ALICE, "cn=Old", true);
            alice.delete("cn=Old," + ALICE);
        } finally {
            try (LDAPConnection root = backend.slapd.rootConnection()) {
                root.delete(state);
            }
        }
    }

    @Test
    void anOwnerAddsMessagesStatesAndFoldersOnlyWhereTheLayoutPutsThemAndNothingElseInItsMailbox() throws Exception {
        String id = "c".repeat(64);
        try (LDAPConnection alice = backend.slapd.connection(ALICE, "alice-secret")) {
            assertRefused(() -> alice.add("dn: mailStoreId=" + id + "," + ALICE, "objectClass: mailStoreMessage", "mailStoreId: " + id,
                    "mailStoreRaw: x", "mailStoreSize: 1", "mailStoreSha256: " + id, "mailStoreReceived: 20261206120000Z",
                    "mailStoreRecipient: alice@example.com"));
            assertRefused(() -> alice.add("dn: mailStoreUid=11," + ALICE, "objectClass: mailStoreState", "mailStoreUid: 11",
                    "mailStoreId: " + id));
            assertRefused(() -> alice.add("dn: cn=Nested,cn=INBOX," + ALICE, "objectClass: mailStoreFolder", "cn: Nested"));
            assertRefused(() -> alice.add("dn: mailStoreUid=12,cn=INBOX," + ALICE, "objectClass: organizationalRole",
                    "objectClass: extensibleObject", "cn: not a state", "mailStoreUid: 12", "userPassword: planted"));
            assertRefused(() -> alice.add("dn: mailStoreUid=13,cn=INBOX," + ALICE, "objectClass: mailStoreState",
                    "objectClass: extensibleObject", "mailStoreUid: 13", "mailStoreId: " + id, "userPassword: planted"));
        }
    }

    @Test
    void theServiceAccountPlantsNoEntryAnyoneCouldBindAs() throws Exception {
        try (LDAPConnection service = backend.slapd.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
            assertRefused(() -> service.add("dn: mailStoreBounce=" + "d".repeat(64) + "," + Slapd.PEOPLE, "objectClass: mailStoreBounceMarker",
                    "objectClass: extensibleObject", "mailStoreBounce: " + "d".repeat(64), "mailStoreRecipient: alice@example.com",
                    "mail: alice@example.com", "userPassword: planted"));
            assertRefused(() -> service.add("dn: cn=Planted,cn=INBOX," + ALICE, "objectClass: mailStoreFolder",
                    "objectClass: extensibleObject", "cn: Planted", "userPassword: planted"));
        }
    }

    @Test
    void bobNeitherReadsNorGivesNorFlagsTheStatesOfAlicesMailNorPlantsAFolderInHerMailbox() throws Exception {
        String state = "mailStoreUid=9,cn=INBOX," + ALICE;
        try (LDAPConnection root = backend.slapd.rootConnection()) {
            root.add("dn: " + state, "objectClass: mailStoreState", "mailStoreUid: 9", "mailStoreId: " + "a".repeat(64));
        }
        try (LDAPConnection bob = backend.slapd.connection(BOB, "bob-secret")) {
            assertNull(bob.getEntry(state));
            LDAPException flag = assertThrows(LDAPException.class, () -> bob.modify("dn: " + state, "changetype: modify",
                    "add: mailStoreFlag", "mailStoreFlag: \\Deleted"));
            assertTrue(Set.of(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, ResultCode.NO_SUCH_OBJECT).contains(flag.getResultCode()), flag::getMessage);
            LDAPException give = assertThrows(LDAPException.class, () -> bob.add("dn: mailStoreUid=10,cn=INBOX," + ALICE,
                    "objectClass: mailStoreState", "mailStoreUid: 10", "mailStoreId: " + "b".repeat(64)));
            assertTrue(Set.of(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, ResultCode.NO_SUCH_OBJECT).contains(give.getResultCode()), give::getMessage);
            LDAPException folder = assertThrows(LDAPException.class, () -> bob.add("dn: cn=Planted," + ALICE,
                    "objectClass: mailStoreFolder", "cn: Planted"));
            assertTrue(Set.of(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, ResultCode.NO_SUCH_OBJECT).contains(folder.getResultCode()), folder::getMessage);
            LDAPException expunge = assertThrows(LDAPException.class, () -> bob.delete(aliceMessage));
            assertTrue(Set.of(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, ResultCode.NO_SUCH_OBJECT).contains(expunge.getResultCode()),
                    expunge::getMessage);
        } finally {
            try (LDAPConnection root = backend.slapd.rootConnection()) {
                root.delete(state);
            }
        }
    }

    private static void assertRefused(org.junit.jupiter.api.function.Executable denied) {
        LDAPException refused = assertThrows(LDAPException.class, denied);
        assertEquals(ResultCode.INSUFFICIENT_ACCESS_RIGHTS, refused.getResultCode(), refused::getMessage);
    }

    private static void assertNoSuchObject(org.junit.jupiter.api.function.Executable denied) {
        LDAPException refused = assertThrows(LDAPException.class, denied);
        assertEquals(ResultCode.NO_SUCH_OBJECT, refused.getResultCode(), refused::getMessage);
    }
}
