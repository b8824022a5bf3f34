package org.mailstream.demo;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.schema.Schema;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.mailstream.schemas.MailRecord;
import org.mailstream.local.Command;
import org.mailstream.local.Chores;
import org.mailstream.local.FreePort;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.ManagedProcess;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.TopicReader;

/**
 * Demo: the whole pipeline on embedded defaults, as bin/demo runs it. Starts a private Kafka
 * broker and UnboundID's in-memory directory server loaded with the project's schema, pipes
 * sample mails through the real bin/ingest-cli as Postfix's pipe(8) would (bare environment,
 * one process per delivery), runs the real bin/store-worker until they are stored, lists the
 * stored mails from the directory, then reads each user's INBOX back over IMAP through the real
 * bin/imapd, logged in as that user (Jakarta Mail's IMAP client), as a mail client would.
 *
 * <p>Usage: {@code Demo REPOSITORY_ROOT}, after bin/install. Exit status 0 when every accepted
 * mail was stored and read back over IMAP by its owner, 1 otherwise.
 */
public final class Demo {

    private static final String SUFFIX = "dc=example,dc=com";
    private static final String PEOPLE = "ou=people," + SUFFIX;
    private static final String SERVICE_DN = "cn=store-worker," + SUFFIX;
    private static final List<String> USERS = List.of("bob", "alice", "carol");

    private record Sample(String recipient, String name, byte[] message) {
    }

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(Path.of(args[0])) ? 0 : 1);
    }

    private static boolean run(Path root) throws Exception {
        Map<String, byte[]> corpus = MailCorpus.awkward();
        List<Sample> samples = List.of(
                new Sample("bob@example.com", "plain", corpus.get("plain")),
                new Sample("bob@example.com", "eight-bit", corpus.get("eight-bit")),
                new Sample("alice@Example.COM", "long-line", corpus.get("long-line")),
                new Sample("carol@example.com", "attachment-9.5MB", corpus.get("attachment-9.5MB")),
                new Sample("carol@example.com", "malformed", "no header here\n\nbody\n".getBytes(StandardCharsets.US_ASCII)),
                new Sample("nobody@example.com", "to-nobody", corpus.get("folded-header")));
        Path work = Files.createTempDirectory("demo");
        InMemoryDirectoryServer directory = directory();
        System.out.println("Starting a private Kafka broker ...");
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            kafka.createTopic(MailRecord.DEFAULT_TOPIC, 3, 1, Map.of("max.message.bytes", "10551296"));
            kafka.createTopic(MailRecord.DEFAULT_TOPIC + ".dlq", 1, 1, Map.of("max.message.bytes", "16777216"));
            System.out.printf("Kafka at %s, in-memory LDAP at ldap://127.0.0.1:%d with mailboxes bob, alice, carol (passwords NAME-secret)%n%n",
                    kafka.bootstrapServers(), directory.getListenPort());

            Path ingestConfig = Files.writeString(work.resolve("ingest.properties"), "kafka.bootstrap.servers=" + kafka.bootstrapServers() + "\n");
            int accepted = 0;
            for (Sample sample : samples) {
                Command.Result result = Command.likePipe(Command.argv(root.resolve("bin/ingest-cli"), "-c", ingestConfig,
                        "-f", "sender@example.org", "-d", sample.recipient())).run(sample.message(), Duration.ofSeconds(90));
                System.out.printf("bin/ingest-cli -d %-19s < %-17s exit %2d  %4d ms  %s%n", sample.recipient(), sample.name(),
                        result.exitCode(), result.elapsed().toMillis(), result.stdout().strip());
                accepted += result.exitCode() == 0 ? 1 : 0;
            }
            int storable = accepted - 1; // the mail to nobody@ has no mailbox: it becomes a dead letter

            Path password = Files.writeString(work.resolve("ldap.password"), "worker-secret\n");
            Path workerConfig = Files.writeString(work.resolve("store-worker.properties"), String.join("\n",
                    "kafka.bootstrap.servers=" + kafka.bootstrapServers(), "ldap.urls=ldap://127.0.0.1:" + directory.getListenPort(),
                    "ldap.bind.dn=" + SERVICE_DN, "ldap.bind.password.file=" + password, "ldap.base.dn=" + PEOPLE,
                    "# No bounces: a fresh machine may have no sendmail, and the demo's mail to nobody@ is a dead letter.",
                    "bounce.command=", ""));
            System.out.println("\nStarting bin/store-worker ...");
            ManagedProcess worker = ManagedProcess.start("bin/store-worker",
                    List.of(root.resolve("bin/store-worker").toString(), "-c", workerConfig.toString()), work.resolve("store-worker.log"));

            try {
                Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                        .failFast("bin/store-worker exited", () -> !worker.isAlive())
                        .until(() -> storedMessages(directory).size() >= storable);
            } catch (ConditionTimeoutException | TerminalFailureException e) {
                System.out.println(e.getMessage());
            }
            List<SearchResultEntry> stored = storedMessages(directory);
            int deadLetters = TopicReader.read(kafka.bootstrapServers(), MailRecord.DEFAULT_TOPIC + ".dlq", 1, Duration.ofSeconds(10)).size();
            worker.stop(Duration.ofSeconds(30));
            System.out.print(Files.readString(work.resolve("store-worker.log")).lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))
                    .map(l -> "  " + l + "\n").reduce("", String::concat));

            System.out.printf("%nStored in LDAP:%n%-7s %-32s %9s  %s%n", "owner", "subject", "octets", "id");
            for (SearchResultEntry entry : stored) {
                System.out.printf("%-7s %-32.32s %9s  %.16s...%n", entry.getParsedDN().getParent().getParent().getRDN().getAttributeValues()[0],
                        entry.getAttributeValue("mailStoreSubject"), entry.getAttributeValue("mailStoreSize"),
                        entry.getAttributeValue("mailStoreId"));
            }
            boolean intact = stored.stream().allMatch(entry -> samples.stream()
                    .anyMatch(sample -> java.util.Arrays.equals(sample.message(), entry.getAttributeValueBytes("mailStoreRaw"))));
            boolean complete = stored.size() == storable && deadLetters == 1 && intact;
            System.out.println(complete
                    ? "\nEvery accepted mail is stored once, byte for byte; the malformed one bounced (5.6.0) and the one to "
                      + "nobody@ waits in " + MailRecord.DEFAULT_TOPIC + ".dlq."
                    : "\nSomething is missing: " + stored.size() + " of " + storable + " stored, " + deadLetters + " dead letters.");
            return readBackOverImap(root, work, directory, stored) && complete;
        } finally {
            directory.shutDown(true);
            Chores.deleteRecursively(work);
        }
    }

    /**
     * Starts bin/imapd over the directory and reads each user's INBOX as that user; true when
     * each user read exactly their own stored mails.
     */
    private static boolean readBackOverImap(Path root, Path work, InMemoryDirectoryServer directory, List<SearchResultEntry> stored)
            throws Exception {
        int port = FreePort.next();
        Path imapConfig = Files.writeString(work.resolve("imapd.properties"), String.join("\n",
                "imap.listen=inet:127.0.0.1:" + port, "ldap.urls=ldap://127.0.0.1:" + directory.getListenPort(), "ldap.base.dn=" + PEOPLE, ""));
        System.out.println("\nStarting bin/imapd ...");
        ManagedProcess imapd = ManagedProcess.start("bin/imapd",
                List.of(root.resolve("bin/imapd").toString(), "-c", imapConfig.toString()), work.resolve("imapd.log"));
        try {
            imapd.awaitReady(Duration.ofSeconds(60), () -> imapd.logText().contains(" listening on "));
            System.out.printf("%nRead over IMAP at 127.0.0.1:%d, each user logged in with their own password:%n%-7s %4s %-32s %9s%n",
                    port, "user", "UID", "subject", "octets");
            boolean each = true;
            for (String user : USERS) {
                long owned = stored.stream().filter(entry -> entry.getDN().contains("uid=" + user + ",")).count();
                each &= readInbox(port, user) == owned;
            }
            System.out.println(each ? "\nEach user, logged in as themselves, read exactly the mail stored for them, each message in as "
                    + "many octets as its RFC822.SIZE said."
                    : "\nOver IMAP a user did not read what was stored for them:\n" + imapd.logTail());
            return each;
        } finally {
            imapd.stop(Duration.ofSeconds(30));
        }
    }

    /**
     * Prints {@code user}'s INBOX as Jakarta Mail's IMAP client reads it, logged in as {@code
     * user}, each message fetched whole; returns how many were served in as many octets as their
     * RFC822.SIZE said.
     */
    private static int readInbox(int port, String user) throws MessagingException, IOException {
        // The subject as a mail client shows it, decoded from the header section as UTF-8 where it is 8-bit.
        Session session = Session.getInstance(new Properties());
        session.getProperties().setProperty("mail.mime.allowutf8", "true");
        Store store = session.getStore("imap");
        store.connect("127.0.0.1", port, user, password(user));
        try {
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            int served = 0;
            for (Message message : inbox.getMessages()) {
                ByteArrayOutputStream whole = new ByteArrayOutputStream();
                message.writeTo(whole);
                String subject = new MimeMessage(session, new ByteArrayInputStream(whole.toByteArray())).getSubject();
                System.out.printf("%-7s %4d %-32.32s %9d%n", user, ((UIDFolder) inbox).getUID(message), subject, message.getSize());
                served += whole.size() == message.getSize() ? 1 : 0;
            }
            inbox.close(false);
            return served;
        } finally {
            store.close();
        }
    }

    private static String password(String user) {
        return user + "-secret";
    }

    private static List<SearchResultEntry> storedMessages(InMemoryDirectoryServer directory) throws Exception {
        return directory.search(PEOPLE, SearchScope.SUB, "(objectClass=mailStoreMessage)").getSearchEntries();
    }

    /** UnboundID's in-memory server with the project's schema, three mailboxes and the service account. */
    private static InMemoryDirectoryServer directory() throws Exception {
        InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig(SUFFIX);
        try (InputStream subschema = Demo.class.getResourceAsStream("/org/mailstream/schemas/mailstore.subschema.ldif")) {
            Path file = Files.createTempFile("mailstore", ".ldif");
            Files.copy(subschema, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            config.setSchema(Schema.mergeSchemas(Schema.getDefaultStandardSchema(), Schema.getSchema(file.toFile())));
            Files.delete(file);
        }
        config.setListenerConfigs(InMemoryListenerConfig.createLDAPConfig("ldap", FreePort.next()));
        config.addAdditionalBindCredentials(SERVICE_DN, "worker-secret");
        InMemoryDirectoryServer server = new InMemoryDirectoryServer(config);
        server.add("dn: " + SUFFIX, "objectClass: domain", "dc: example");
        server.add("dn: " + PEOPLE, "objectClass: organizationalUnit", "ou: people");
        for (String name : USERS) {
            server.add("dn: uid=" + name + "," + PEOPLE, "objectClass: inetOrgPerson", "uid: " + name, "cn: " + name, "sn: " + name,
                    "mail: " + name + "@example.com", "userPassword: " + password(name));
        }
        server.startListening();
        return server;
    }
}
