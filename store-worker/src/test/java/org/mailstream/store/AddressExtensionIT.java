package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldif.LDIFException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.Postfix;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;

/**
 * Address extensions end to end: real Postfix configured as Debian configures it
 * ({@code recipient_delimiter = +}), over the pipe and over LMTP, ingest and two back ends with
 * {@code recipient.delimiter=+}, and a mailbox whose extended addresses the routing would send to
 * the other back end if it did not strip the extension. Owner entries are in both directories,
 * as a replicated people tree would put them; the mail must be in one.
 */
class AddressExtensionIT {

    private static final List<String> BACKENDS = List.of("a", "b");
    private static final String DELIMITER = "+";

    @Test
    void mailToAnExtendedAddressLandsBelowItsMailboxInTheFolderTheExtensionNamesOrInInboxWithNoDeadLetter() throws IOException {
        String name = mailboxWhoseExtensionsHashApart();
        String owner = BackendRouting.of("a", BACKENDS, List.of(), DELIMITER).ownerOf(name + "@example.com");
        KafkaCluster kafka = KafkaCluster.shared();
        Path socket = Postfix.lmtpSocketPath();
        Map<String, String> ingest = Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", "extensions",
                "deadline.ms", "8000", "recipient.delimiter", DELIMITER);
        try (Backend a = new Backend(kafka, "extensions", 4); Slapd b = Slapd.start()) {
            Map<String, Slapd> directories = Map.of("a", a.slapd, "b", b);
            directories.values().forEach(directory -> directory.addMailbox(name));
            addFolder(directories.get(owner), name, "news");
            try (StoreWorkerProcess workerA = StoreWorkerProcess.start(workerConfig(kafka, a.slapd, "a"));
                    StoreWorkerProcess workerB = StoreWorkerProcess.start(workerConfig(kafka, b, "b"));
                    LmtpdProcess lmtpd = LmtpdProcess.start(withLmtp(ingest, socket));
                    Postfix pipe = Postfix.start(a.slapd, ingest);
                    Postfix lmtp = Postfix.startLmtp(a.slapd, socket)) {
                for (Postfix postfix : List.of(pipe, lmtp)) {
                    // The last: DN and filter syntax if pasted into either, a folder name and a wildcard.
                    for (String recipient : List.of(name + "+news", name.toUpperCase() + "+News", name + "+other",
                            name + "+x=news*")) {
                        Command.Result sent = postfix.send("sender@example.org", recipient + "@example.com",
                                MailCorpus.message(recipient + " by " + (postfix == pipe ? "pipe" : "lmtp"), "x\r\n"));
                        assertEquals(0, sent.exitCode(), sent::toString);
                    }
                }
                Slapd stored = directories.get(owner);
                Slapd other = directories.get(owner.equals("a") ? "b" : "a");
                StoreWorkerProcess ownersWorker = owner.equals("a") ? workerA : workerB;
                Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertEquals(8, stored.messages("1.1").size(), () -> pipe.diagnostics() + lmtp.diagnostics() + ownersWorker.log()));
                assertEquals(4, below(stored, "cn=news,uid=" + name).size(), ownersWorker::log);
                List<SearchResultEntry> inInbox = below(stored, "cn=INBOX,uid=" + name);
                assertEquals(List.of(name + "+other@example.com", name + "+other@example.com", name + "+x=news*@example.com",
                        name + "+x=news*@example.com"), inInbox.stream().map(e -> e.getAttributeValue("mailStoreRecipient")).sorted().toList(),
                        ownersWorker::log);
                assertEquals(0, other.messages("1.1").size());
                assertEquals(0, a.deadLetters(0).size(), () -> workerA.log() + workerB.log());
                assertEquals(4, ownersWorker.logLines(", folder=news, "), ownersWorker::log);
                assertEquals(8, ownersWorker.logLines(", status=stored"), ownersWorker::log);
            }
        }
    }

    /** A name for which neither {@code NAME+news@} nor {@code NAME+other@}, taken whole, routes where {@code NAME@} does. */
    private static String mailboxWhoseExtensionsHashApart() {
        BackendRouting whole = BackendRouting.of("a", BACKENDS, List.of(), "");
        String name = IntStream.range(0, 100).mapToObj(i -> "alice" + i)
                .filter(n -> !whole.ownerOf(n + "+news@example.com").equals(whole.ownerOf(n + "@example.com"))
                        && !whole.ownerOf(n + "+other@example.com").equals(whole.ownerOf(n + "@example.com")))
                .findFirst().orElseThrow();
        assertNotEquals(whole.ownerOf(name + "@example.com"), whole.ownerOf(name + "+news@example.com"));
        return name;
    }

    private static Path workerConfig(KafkaCluster kafka, Slapd slapd, String backend) {
        return StoreWorkerProcess.config(kafka, "extensions", slapd, Map.of("backend", backend,
                "routing.backends", String.join(",", BACKENDS), "recipient.delimiter", DELIMITER));
    }

    private static Map<String, String> withLmtp(Map<String, String> ingest, Path socket) {
        Map<String, String> settings = new java.util.HashMap<>(ingest);
        settings.putAll(Map.of("lmtp.listen", "unix:" + socket, "lmtp.socket.group", "postfix"));
        return settings;
    }

    private static void addFolder(Slapd slapd, String owner, String folder) {
        try (LDAPConnection root = slapd.rootConnection()) {
            root.add("dn: cn=" + folder + ",uid=" + owner + "," + Slapd.PEOPLE, "objectClass: mailStoreFolder", "cn: " + folder);
        } catch (LDAPException | LDIFException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<SearchResultEntry> below(Slapd slapd, String parent) {
        return slapd.messages("mailStoreRecipient").stream().filter(e -> e.getDN().endsWith("," + parent + "," + Slapd.PEOPLE)).toList();
    }
}
