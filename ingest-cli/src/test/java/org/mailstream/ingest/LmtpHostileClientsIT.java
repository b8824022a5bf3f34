package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpClient;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.TopicReader;

/**
 * The real bin/ingest-lmtpd against clients that do not play by the rules, over raw sockets: none
 * of them may keep a slot, hold the stop, exhaust the heap, forge the envelope or double a record.
 */
class LmtpHostileClientsIT {

    private static final String TOPIC = "lmtp-hostile";
    private static KafkaCluster kafka;
    private static final ExecutorService CLIENTS = Executors.newCachedThreadPool();

    @BeforeAll
    static void topic() {
        kafka = KafkaCluster.shared();
        kafka.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
    }

    @AfterAll
    static void stopClients() {
        CLIENTS.shutdownNow();
    }

    @Test
    void clientsThatPipelineAndNeverReadLoseTheirSlotsAfterTheIdleTimeoutAndDoNotHoldTheStop() throws Exception {
        try (LmtpdProcess server = LmtpdProcess.start(settings(Map.of("lmtp.max.connections", "3", "lmtp.idle.timeout.ms", "2000")))) {
            List<Socket> deaf = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                deaf.add(LmtpClient.neverReading(server.port(), CLIENTS));
            }
            try (LmtpClient turnedAway = new LmtpClient(server.port())) {
                assertTrue(turnedAway.reply().startsWith("421 4.3.2 too many connections"), server.log());
            }
            Thread.sleep(4_000);
            try (LmtpClient client = new LmtpClient(server.port())) {
                client.begin("sender@example.org", "after-the-deaf@hostile.example").send("DATA\r\n").reply();
                assertEquals("250 2.0.0 delivered", client.send(MailCorpus.message("after", "x\r\n")).send(".\r\n").reply(), server.log());
            }
            deaf.add(LmtpClient.neverReading(server.port(), CLIENTS));
            Thread.sleep(500);
            long before = System.nanoTime();
            assertEquals(0, server.stop(), server.log());
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - before);
            assertTrue(seconds < 15, "the stop waited " + seconds + " s on a client that does not read\n" + server.log());
            for (Socket socket : deaf) {
                socket.close();
            }
        }
    }

    @Test
    void dataTrickledWithinTheIdleTimeoutIsCutOffAtTheTransactionTimeoutAndNothingIsPublished() throws Exception {
        try (LmtpdProcess server = LmtpdProcess.start(settings(Map.of("lmtp.idle.timeout.ms", "2000",
                "lmtp.transaction.timeout.ms", "4000")));
             LmtpClient client = new LmtpClient(server.port())) {
            client.begin("sender@example.org", "trickle@hostile.example").send("DATA\r\n").reply();
            String farewell = null;
            for (int i = 0; i < 40 && farewell == null; i++) {
                try {
                    client.send("x");
                } catch (RuntimeException closed) {
                    break;
                }
                Thread.sleep(500);
                farewell = client.available() ? client.reply() : null;
            }
            assertTrue(farewell != null && farewell.startsWith("421 4.4.2 the transaction took too long"), farewell + "\n" + server.log());
        }
        assertEquals(0, records("trickle@hostile.example").size());
    }

    @Test
    void sixtyClientsAnnouncingTenMegabytesAllocateNothingUntilTheySendIt() throws Exception {
        try (LmtpdProcess server = LmtpdProcess.start(settings(Map.of("lmtp.max.connections", "70")), "-Xmx96m")) {
            List<LmtpClient> liars = new ArrayList<>();
            try {
                for (int i = 0; i < 60; i++) {
                    LmtpClient liar = new LmtpClient(server.port());
                    liar.reply();
                    liar.send("LHLO liar.example\r\n").reply();
                    liar.send("MAIL FROM:<liar@example.org> SIZE=10485760\r\n").reply();
                    liar.send("RCPT TO:<liar" + i + "@hostile.example>\r\nDATA\r\n").replies(2);
                    liar.send("Subject: a little\r\n");
                    liars.add(liar);
                }
                try (LmtpClient honest = new LmtpClient(server.port())) {
                    honest.begin("sender@example.org", "honest@hostile.example").send("DATA\r\n").reply();
                    assertEquals("250 2.0.0 delivered", honest.send(MailCorpus.message("honest", "x\r\n")).send(".\r\n").reply(),
                            server.log());
                }
                assertTrue(server.isAlive(), server.log());
            } finally {
                liars.forEach(LmtpClient::close);
            }
        }
    }

    @Test
    void outOfMemoryEndsTheProcessInsteadOfLeavingItUpServingNothing() throws Exception {
        try (LmtpdProcess server = LmtpdProcess.start(settings(Map.of("max.message.bytes", "8000000", "lmtp.max.connections", "8")),
                "-Xmx48m")) {
            assertTrue(server.log().contains("cannot hold"), "warned at start\n" + server.log());
            byte[] large = MailCorpus.ofSize(7_900_000, 1);
            for (int i = 0; i < 8; i++) {
                int n = i;
                CLIENTS.execute(() -> {
                    try (LmtpClient client = new LmtpClient(server.port())) {
                        client.begin("sender@example.org", "large" + n + "@hostile.example").send("DATA\r\n").reply();
                        client.send(large).send(".\r\n").reply();
                    } catch (RuntimeException serverGone) {
                        // expected once the heap is exhausted
                    }
                });
            }
            int status = server.awaitExit(Duration.ofSeconds(60));
            assertEquals(3, status, "ExitOnOutOfMemoryError's status\n" + server.log());
            assertTrue(server.log().contains("OutOfMemoryError"), server.log());
        }
    }

    @Test
    void runningOutOfFileDescriptorsIsSaidOnceAndConnectionsAreAcceptedAgainOnceSomeAreFree() throws Exception {
        try (LmtpdProcess server = LmtpdProcess.start(settings(Map.of("lmtp.max.connections", "200")))) {
            try (LmtpClient warm = new LmtpClient(server.port())) {
                warm.begin("sender@example.org", "warm@hostile.example").send("DATA\r\n").reply();
                assertEquals("250 2.0.0 delivered", warm.send(MailCorpus.message("warm", "x\r\n")).send(".\r\n").reply(), server.log());
            }
            long open;
            try (var descriptors = Files.list(Path.of("/proc/" + server.pid() + "/fd"))) {
                open = descriptors.count();
            }
            Command.Result limited = Command.of(List.of("prlimit", "--pid", Long.toString(server.pid()),
                    "--nofile=" + (open + 10) + ":" + (open + 10))).run(new byte[0], Duration.ofSeconds(10));
            assertEquals(0, limited.exitCode(), limited::toString);
            List<LmtpClient> holding = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                holding.add(new LmtpClient(server.port()));
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> server.log().contains("failed, trying again"));
            Thread.sleep(2_000);
            holding.forEach(LmtpClient::close);
            try (LmtpClient after = new LmtpClient(server.port())) {
                after.begin("sender@example.org", "after-emfile@hostile.example").send("DATA\r\n").reply();
                assertEquals("250 2.0.0 delivered", after.send(MailCorpus.message("after", "x\r\n")).send(".\r\n").reply(), server.log());
            }
            assertEquals(1, server.log().lines().filter(line -> line.contains("failed, trying again")).count(), server.log());
            assertTrue(server.log().contains("again after"), server.log());
        }
    }

    @Test
    void everyRefusalCountsAndThePastTheLimitClosesTheConnection() {
        try (LmtpdProcess server = LmtpdProcess.start(settings(Map.of("lmtp.max.errors", "3")));
             LmtpClient client = new LmtpClient(server.port())) {
            client.reply();
            client.send("LHLO bad.example\r\n").reply();
            client.send("MAIL FROM:nonsense\r\nRCPT TO:<x@hostile.example>\r\nMAIL FROM:<a@b> BOGUS=1\r\nMAIL FROM:again\r\n");
            List<String> replies = client.replies(4);
            assertTrue(replies.get(0).startsWith("501 "), replies.toString());
            assertTrue(replies.get(1).startsWith("503 "), replies.toString());
            assertTrue(replies.get(2).startsWith("555 "), replies.toString());
            assertEquals("421 4.7.0 too many errors, closing the connection", replies.get(3));
            assertNull(client.reply());
        }
    }

    @Test
    void xforwardFromATcpClientNotListedIsRefusedAndForgedValuesAreRefusedFromAListedOne() {
        try (LmtpdProcess stranger = LmtpdProcess.start(settings(Map.of()));
             LmtpClient client = new LmtpClient(stranger.port())) {
            client.reply();
            client.send("LHLO forger.example\r\n").reply();
            assertTrue(client.send("XFORWARD ADDR=192.0.2.1 IDENT=ABC123\r\n").reply().startsWith("550 5.7.0 XFORWARD is not permitted"));
        }
        try (LmtpdProcess trusted = LmtpdProcess.start(settings(Map.of("lmtp.xforward.allow", "127.0.0.1/32")));
             LmtpClient client = new LmtpClient(trusted.port())) {
            client.reply();
            client.send("LHLO mx.example\r\n").reply();
            assertTrue(client.send("XFORWARD IDENT=X+0D+0Aforged\r\n").reply().startsWith("501 5.5.4 XFORWARD IDENT is not a queue id"));
            assertTrue(client.send("XFORWARD ADDR=evil+0Ahost\r\n").reply().startsWith("501 5.5.4 XFORWARD ADDR is not an IP address"));
            assertEquals("250 2.0.0 Ok", client.send("XFORWARD ADDR=IPV6:2001:db8::7 IDENT=4QxY2z0001\r\n").reply());
            assertTrue(!trusted.log().contains("forged"), "nothing of the forgery reaches the log\n" + trusted.log());
        }
    }

    @Test
    void theSameRecipientTwiceInOneTransactionIsPublishedOnceAndBothRcptsAreAnswered() {
        try (LmtpdProcess server = LmtpdProcess.start(settings(Map.of())); LmtpClient client = new LmtpClient(server.port())) {
            client.begin("sender@example.org", "twice@hostile.example", "twice@Hostile.Example").send("DATA\r\n").reply();
            client.send(MailCorpus.message("twice", "x\r\n")).send(".\r\n");
            assertEquals(List.of("250 2.0.0 delivered", "250 2.0.0 delivered"), client.replies(2), server.log());
        }
        assertEquals(1, records("twice@hostile.example").size());
    }

    private static Map<String, String> settings(Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC));
        settings.putAll(overrides);
        return settings;
    }

    private static List<ConsumerRecord<byte[], byte[]>> records(String key) {
        return TopicReader.read(kafka.bootstrapServers(), TOPIC, 0, Duration.ofSeconds(3)).stream()
                .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals(key)).toList();
    }
}
