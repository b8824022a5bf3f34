package org.mailstream.distribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.local.Chores;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpClient;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.ManagedProcess;
import org.mailstream.local.ReleaseArchive;
import org.mailstream.local.Slapd;

/**
 * The release archive, unpacked into a temporary prefix the way docs/install.md's procedure
 * does it (a versioned directory and a symbolic link to it), prepared with its own
 * prepare-ingest-cli on the system's JVM without a broker, configured from its own sample files,
 * and run from there: a message through the pipe command, one through the LMTP server, both
 * stored by its store-worker in a real slapd through a real broker.
 */
class ReleaseArchiveIT {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    private static final String TOPIC = "release-archive";

    private static Path prefix;
    private static Path installed;
    private static Path etc;

    @BeforeAll
    static void unpackAndPrepare() throws IOException {
        prefix = Files.createTempDirectory("release-prefix");
        Path archive = ReleaseArchive.path();
        run(List.of("tar", "-xzf", archive.toString(), "-C", prefix.toString()));
        String versioned = archive.getFileName().toString().replace(".tar.gz", "");
        installed = Files.createSymbolicLink(prefix.resolve("mailstream"), prefix.resolve(versioned));
        etc = Files.createDirectories(prefix.resolve("etc"));
        Command.Result prepared = run(List.of(installed.resolve("bin/prepare-ingest-cli").toString()));
        assertTrue(prepared.stdout().contains("ingest-cli runs "), "an archive was recorded without a broker:\n" + prepared);
    }

    @AfterAll
    static void removePrefix() {
        Chores.deleteRecursively(prefix);
    }

    @Test
    void thePipeCommandTheLmtpServerAndAWorkerFromTheArchiveStoreMailEndToEnd() throws IOException {
        KafkaCluster kafka = KafkaCluster.shared();
        kafka.createTopic(TOPIC, 2, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(TOPIC + ".dlq", 1, 1, Map.of("max.message.bytes", "17000000"));
        int lmtpPort = FreePort.next();
        Path ingestConfig = fromSample("ingest.properties", Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                "topic", TOPIC));
        Path lmtpdConfig = fromSample("ingest-lmtpd.properties", Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                "topic", TOPIC, "lmtp.listen", "inet:127.0.0.1:" + lmtpPort));
        Path password = Files.writeString(etc.resolve("store-worker.password"), Slapd.SERVICE_PASSWORD + "\n");
        try (Slapd slapd = Slapd.start()) {
            slapd.addMailbox("alice");
            slapd.addMailbox("bob");
            Path workerConfig = fromSample("store-worker.properties", Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "topic", TOPIC, "ldap.urls", slapd.url(), "ldap.bind.dn", Slapd.SERVICE_DN,
                    "ldap.bind.password.file", password.toString(), "ldap.base.dn", Slapd.PEOPLE, "bounce.command", ""));

            byte[] piped = MailCorpus.message("through the pipe command", "from the release archive\r\n");
            Command.Result delivery = Command.likePipe(List.of(installed.resolve("bin/ingest-cli").toString(), "-c",
                    ingestConfig.toString(), "-f", "sender@example.org", "-d", "alice@example.com")).run(piped, COMMAND_TIMEOUT);
            assertEquals(0, delivery.exitCode(), delivery.toString());

            Path lmtpdLog = prefix.resolve("ingest-lmtpd.log");
            ManagedProcess lmtpd = ManagedProcess.start("ingest-lmtpd from the release",
                    List.of(installed.resolve("bin/ingest-lmtpd").toString(), "-c", lmtpdConfig.toString()), lmtpdLog);
            Path worker = prefix.resolve("store-worker.log");
            ManagedProcess storeWorker = ManagedProcess.start("store-worker from the release",
                    List.of(installed.resolve("bin/store-worker").toString(), "-c", workerConfig.toString()), worker);
            try {
                lmtpd.awaitReady(COMMAND_TIMEOUT, () -> FreePort.isListening(lmtpPort));
                byte[] overLmtp = MailCorpus.message("over LMTP", "from the release archive\r\n");
                try (LmtpClient lmtp = new LmtpClient(lmtpPort)) {
                    lmtp.begin("sender@example.org", "bob@example.com").send("DATA\r\n").reply();
                    String reply = lmtp.send(overLmtp).send(".\r\n").reply();
                    assertTrue(reply.startsWith("250 2.0.0"), "delivered over LMTP: " + reply + "\n" + lmtpd.logTail());
                }

                Awaitility.await("both mails stored").atMost(COMMAND_TIMEOUT)
                        .failFast("the worker exited:\n" + storeWorker.logTail(), () -> !storeWorker.isAlive())
                        .until(() -> slapd.messages().size() == 2);
                Map<String, byte[]> stored = slapd.messages("mailStoreRaw").stream().collect(Collectors.toMap(
                        entry -> entry.getDN().substring(entry.getDN().indexOf("uid=")),
                        entry -> entry.getAttributeValueBytes("mailStoreRaw")));
                assertArrayEquals(piped, stored.get("uid=alice," + Slapd.PEOPLE));
                assertArrayEquals(overLmtp, stored.get("uid=bob," + Slapd.PEOPLE));
                assertAliceReadsHerMailOverImap(slapd, piped);
            } finally {
                lmtpd.stop(Duration.ofSeconds(30));
                storeWorker.stop(Duration.ofSeconds(30));
            }
        }
    }

    /** The release's imapd, configured from its sample with the three keys a bare installation needs, serves alice her mail. */
    private static void assertAliceReadsHerMailOverImap(Slapd slapd, byte[] mail) throws IOException {
        int imapPort = FreePort.next();
        Path imapdConfig = fromSample("imapd.properties", Map.of("imap.listen", "inet:127.0.0.1:" + imapPort,
                "ldap.urls", slapd.url(), "ldap.base.dn", Slapd.PEOPLE));
        ManagedProcess imapd = ManagedProcess.start("imapd from the release",
                List.of(installed.resolve("bin/imapd").toString(), "-c", imapdConfig.toString()), prefix.resolve("imapd.log"));
        try {
            imapd.awaitReady(COMMAND_TIMEOUT, () -> FreePort.isListening(imapPort));
            Command.Result curl = run(List.of("curl", "-sS", "--max-time", "30", "--user", "alice:alice-secret",
                    "imap://127.0.0.1:" + imapPort + "/INBOX;UID=1"));
            assertEquals(new String(mail, StandardCharsets.UTF_8), curl.stdout(), curl + "\n" + imapd.logTail());
        } finally {
            imapd.stop(Duration.ofSeconds(30));
        }
    }

    @Test
    void theSystemdUnitsPassSystemdsOwnCheck(@TempDir Path units) throws IOException {
        for (String unit : List.of("ingest-lmtpd.service", "store-worker@.service", "imapd.service")) {
            String text = Files.readString(installed.resolve("share/systemd").resolve(unit));
            Files.writeString(units.resolve(unit.replace("@.", "@a.")), text.replace("/opt/mailstream/", installed + "/"));
        }
        // The units' Documentation= names their man pages, which verify looks up: the release's own,
        // found as the install guide's links into /usr/local/share/man make them found.
        Command.Result verified = run(List.of("env", "MANPATH=" + installed.resolve("share/man") + ":", "systemd-analyze", "verify",
                units.resolve("ingest-lmtpd.service").toString(), units.resolve("store-worker@a.service").toString(),
                units.resolve("imapd.service").toString()));
        assertEquals("", verified.stdout() + verified.stderr(), "no unknown key, no unsafe setting, every page found:\n" + verified);
    }

    /** The release's sample file with each of {@code settings} set on its own line, as an operator edits it. */
    private static Path fromSample(String sample, Map<String, String> settings) throws IOException {
        String text = Files.readString(installed.resolve("etc/mailstream").resolve(sample));
        for (Map.Entry<String, String> setting : settings.entrySet()) {
            String edited = text.replaceFirst("(?m)^#?" + setting.getKey().replace(".", "\\.") + "=.*$",
                    setting.getKey() + "=" + setting.getValue().replace("\\", "\\\\").replace("$", "\\$"));
            assertTrue(!edited.equals(text) || text.contains(setting.getKey() + "=" + setting.getValue()),
                    sample + " has a line for " + setting.getKey());
            text = edited;
        }
        return Files.writeString(etc.resolve(sample), text);
    }

    private static Command.Result run(List<String> argv) {
        Command.Result result = Command.of(argv).run(new byte[0], COMMAND_TIMEOUT);
        assertEquals(0, result.exitCode(), result.toString());
        return result;
    }
}
