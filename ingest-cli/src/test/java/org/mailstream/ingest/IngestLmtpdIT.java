package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpClient;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MetricsScrape;
import org.mailstream.local.TopicReader;
import org.mailstream.schemas.DsnRequest;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;

/** The real bin/ingest-lmtpd against a real Kafka broker, spoken to by Python's smtplib and by a bare client. */
class IngestLmtpdIT {

    private static final String TOPIC = "lmtp";
    private static KafkaCluster kafka;
    private static LmtpdProcess lmtpd;

    @TempDir
    Path directory;

    @BeforeAll
    static void start() {
        kafka = KafkaCluster.shared();
        kafka.createTopic(TOPIC, 3, 1, Map.of("max.message.bytes", "11000000"));
        lmtpd = LmtpdProcess.start(settings());
    }

    @AfterAll
    static void stop() {
        lmtpd.close();
    }

    @Test
    void pythonsSmtplibDeliversTheAwkwardCorpusAndEachRecordHoldsWhatItSent() throws Exception {
        Map<String, byte[]> corpus = MailCorpus.awkward();
        for (Map.Entry<String, byte[]> mail : corpus.entrySet()) {
            Files.write(directory.resolve(mail.getKey() + ".eml"), mail.getValue());
        }
        Path script = Files.writeString(directory.resolve("send.py"), """
                import pathlib, smtplib, sys
                port, folder = int(sys.argv[1]), pathlib.Path(sys.argv[2])
                with smtplib.LMTP("127.0.0.1", port) as lmtp:
                    for mail in sorted(folder.glob("*.eml")):
                        refused = lmtp.sendmail("sender@example.org", [mail.stem + "@smtplib.example"], mail.read_bytes())
                        print(mail.stem, "refused" if refused else "accepted")
                """);

        Command.Result sent = Command.of(Command.argv("python3", script, lmtpd.port(), directory)).run(new byte[0], Duration.ofMinutes(2));

        assertEquals(0, sent.exitCode(), () -> sent + "\n" + lmtpd.log());
        Map<String, ConsumerRecord<byte[], byte[]>> records = recordsWhere(key -> key.endsWith("@smtplib.example"), corpus.size()).stream()
                .collect(Collectors.toMap(r -> key(r).replace("@smtplib.example", ""), r -> r));
        assertEquals(corpus.keySet(), records.keySet());
        for (Map.Entry<String, byte[]> mail : corpus.entrySet()) {
            assertArrayEquals(asSmtplibSendsIt(mail.getValue()), records.get(mail.getKey()).value(), mail.getKey());
        }
    }

    @Test
    void severalRecipientsGetOneRecordAndOneReplyEachWithTheEnvelopeFromXforwardOrcptAndTheDsnParameters() {
        byte[] message = MailCorpus.message("Three recipients", "Hello\r\n");
        try (LmtpClient client = new LmtpClient(lmtpd.port())) {
            client.reply();
            assertTrue(client.send("LHLO mx.example\r\n").reply().contains("250 XFORWARD"));
            // Pipelined, as Postfix sends it.
            client.send("XFORWARD NAME=client.example ADDR=IPV6:2001:db8::7 PROTO=ESMTP\r\nXFORWARD IDENT=4QxY2z0001 SOURCE=REMOTE\r\n"
                    + "MAIL FROM:<sender@example.org> SIZE=" + message.length + " BODY=8BITMIME RET=HDRS ENVID=env+2B1\r\n"
                    + "RCPT TO:<one@multi.example> ORCPT=rfc822;first+2Btag@multi.example NOTIFY=NEVER\r\n"
                    + "RCPT TO:<not an address>\r\n"
                    + "RCPT TO:<two@Multi.Example>\r\n"
                    + "DATA\r\n");
            List<String> replies = client.replies(7);
            assertEquals(List.of("250 2.0.0 Ok", "250 2.0.0 Ok", "250 2.1.0 Ok", "250 2.1.5 Ok"), replies.subList(0, 4));
            assertTrue(replies.get(4).startsWith("553 5.1.3 "), replies.get(4));
            assertEquals(List.of("250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"), replies.subList(5, 7));
            client.send(message).send(".\r\n");
            assertEquals(List.of("250 2.0.0 delivered", "250 2.0.0 delivered"), client.replies(2));
        }
        List<ConsumerRecord<byte[], byte[]>> records = recordsWhere(key -> key.endsWith("@multi.example"), 2);
        assertEquals(List.of("one@multi.example", "two@multi.example"), records.stream().map(IngestLmtpdIT::key).sorted().toList());
        for (ConsumerRecord<byte[], byte[]> record : records) {
            assertArrayEquals(message, record.value());
            Envelope envelope = Envelope.fromJson(record.headers().lastHeader(MailRecord.ENVELOPE_HEADER).value());
            assertEquals("sender@example.org", envelope.sender());
            assertEquals("2001:db8::7", envelope.clientAddress());
            assertEquals("4QxY2z0001", envelope.queueId());
            assertEquals(key(record).startsWith("one") ? "first+tag@multi.example" : null, envelope.originalRecipient());
            assertEquals(new DsnRequest(key(record).startsWith("one") ? List.of("NEVER") : List.of(), "HDRS", "env+1"), envelope.dsn());
        }
    }

    @Test
    void commandsOutOfOrderAndGarbageGetTheirRepliesAndTheServerGoesOn() {
        try (LmtpClient client = new LmtpClient(lmtpd.port())) {
            client.reply();
            client.send("RCPT TO:<x@example.com>\r\nMAIL FROM:<a@example.org>\r\nDATA\r\nHELO x\r\nNO\0OP\r\nNO\rOP\r\n"
                    + "NOOP " + "x".repeat(5000) + "\r\nWHAT\r\n\r\nLHLO a\r\nMAIL FROM:<a@example.org>\r\nMAIL FROM:<b@example.org>\r\n"
                    + "DATA\r\nQUIT\r\n");
            List<String> codes = client.replies(14).stream().map(reply -> reply.lines().reduce((a, b) -> b).orElse("").substring(0, 9))
                    .toList();
            assertEquals(List.of("503 5.5.1", "503 5.5.1", "503 5.5.1", "500 5.5.1", "500 5.5.2", "500 5.5.2", "500 5.5.2", "500 5.5.2",
                    "500 5.5.2", "250 XFORW", "250 2.1.0", "503 5.5.1", "503 5.5.1", "221 2.0.0"), codes);
            assertNull(client.reply(), "closed after QUIT");
        }
    }

    @Test
    void aClientThatKeepsSendingGarbageIsDisconnectedWith421() {
        try (LmtpClient client = new LmtpClient(lmtpd.port())) {
            client.reply();
            client.send("GARBAGE\r\n".repeat(25));
            List<String> replies = client.replies(21);
            assertTrue(replies.get(20).startsWith("421 4.7.0"), replies.get(20));
            assertNull(client.reply(), "closed");
        }
    }

    @Test
    void aClientThatLeavesInTheMiddleOfDataHasPublishedNothing() {
        try (LmtpClient client = new LmtpClient(lmtpd.port())) {
            client.begin("sender@example.org", "halfway@drop.example");
            client.send("DATA\r\n").reply();
            client.send("Subject: cut short\r\n\r\nthe first half of a mess");
        }
        byte[] whole = MailCorpus.message("After the drop", "whole\r\n");
        try (LmtpClient client = new LmtpClient(lmtpd.port())) {
            client.begin("sender@example.org", "whole@drop.example");
            client.send("DATA\r\n").reply();
            assertEquals("250 2.0.0 delivered", client.send(whole).send(".\r\n").reply());
        }
        assertEquals(List.of("whole@drop.example"), recordsWhere(key -> key.endsWith("@drop.example"), 1).stream()
                .map(IngestLmtpdIT::key).toList(), "the record sent afterwards is there, the cut one is not");
    }

    @Test
    void aMessageOverTheLimitIsRefusedAtMailOrAfterDataAndAMalformedOneAfterData() {
        try (LmtpClient client = new LmtpClient(lmtpd.port())) {
            client.reply();
            client.send("LHLO a\r\n").reply();
            assertTrue(client.send("MAIL FROM:<a@example.org> SIZE=20000000\r\n").reply().startsWith("552 5.3.4 "));
            client.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<big@limits.example>\r\nRCPT TO:<big2@limits.example>\r\nDATA\r\n");
            client.replies(4);
            client.send("Subject: big\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(10_600)).send(".\r\n");
            assertEquals(List.of("552", "552"), client.replies(2).stream().map(r -> r.substring(0, 3)).toList());
            client.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<malformed@limits.example>\r\nDATA\r\n").replies(3);
            String reply = client.send("no header here\r\n\r\nbody\r\n.\r\n").reply();
            assertTrue(reply.startsWith("554 5.6.0 malformed message: "), reply);
        }
    }

    @Test
    void withKafkaUnreachableEveryRecipientIsDeferredWithin451AndTheDeadline() {
        try (LmtpdProcess unreachable = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", "127.0.0.1:" + FreePort.next(),
                "topic", TOPIC, "deadline.ms", "2000"));
             LmtpClient client = new LmtpClient(unreachable.port())) {
            client.begin("sender@example.org", "a@down.example", "b@down.example");
            client.send("DATA\r\n").reply();
            long started = System.nanoTime();
            List<String> replies = client.send(MailCorpus.message("Kafka down", "x\r\n")).send(".\r\n").replies(2);
            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertTrue(replies.stream().allMatch(r -> r.startsWith("451 4.4.1 kafka unavailable: no broker accepts connections at ")),
                    replies + "\n" + unreachable.log());
            assertTrue(elapsedMs < 6_000, "answered after " + elapsedMs + " ms");
        }
    }

    @Test
    void theScrapeCountsEachRecipientsReplyByClassAndEnhancedCodeAndTheTimeToTheAcknowledgment() throws Exception {
        int delivering = FreePort.next();
        int deferring = FreePort.next();
        try (LmtpdProcess up = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC,
                "metrics.listen", "127.0.0.1:" + delivering));
             LmtpdProcess down = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", "127.0.0.1:" + FreePort.next(), "topic", TOPIC,
                "deadline.ms", "2000", "metrics.listen", "127.0.0.1:" + deferring))) {
            for (LmtpdProcess server : List.of(up, down)) {
                try (LmtpClient client = new LmtpClient(server.port())) {
                    client.begin("sender@example.org", "one@metrics.example", "two@metrics.example", "not an address");
                    client.send("DATA\r\n").reply();
                    client.send(MailCorpus.message("Counted", "x\r\n")).send(".\r\n").replies(2);
                }
            }
            MetricsScrape delivered = MetricsScrape.of(delivering);
            assertEquals(2, delivered.sum("mailstream_lmtp_replies_total", Map.of("class", "2xx", "code", "2.0.0")), delivered.text());
            assertEquals(1, delivered.sum("mailstream_lmtp_transactions_total"), delivered.text());
            assertEquals(1, delivered.sum("mailstream_publish_duration_seconds_count"), delivered.text());
            assertEquals(1, delivered.sum("mailstream_lmtp_message_size_bytes_count"), delivered.text());
            assertEquals(1, delivered.sum("mailstream_lmtp_connections_total", Map.of("result", "served")), delivered.text());
            MetricsScrape deferred = MetricsScrape.of(deferring);
            assertEquals(2, deferred.sum("mailstream_lmtp_replies_total", Map.of("class", "4xx", "code", "4.4.1")), deferred.text());
            assertEquals(0, deferred.sum("mailstream_lmtp_replies_total", Map.of("class", "2xx")), deferred.text());
        }
    }

    @Test
    void aBrokerThatHangsInTheMiddleOfATransactionGetsEachRecipientA451WithinTheDeadline() {
        try (KafkaCluster hanging = KafkaCluster.start(1)) {
            hanging.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
            try (LmtpdProcess server = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", hanging.bootstrapServers(),
                    "topic", TOPIC, "deadline.ms", "3000"));
                 LmtpClient client = new LmtpClient(server.port())) {
                client.begin("sender@example.org", "a@example.com").send("DATA\r\n").reply();
                assertEquals("250 2.0.0 delivered", client.send(MailCorpus.message("before", "x\r\n")).send(".\r\n").reply(),
                        "the producer is connected: " + server.log());
                client.send("MAIL FROM:<sender@example.org>\r\n").reply();
                client.send("RCPT TO:<a@example.com>\r\n").reply();
                client.send("RCPT TO:<b@example.com>\r\n").reply();
                client.send("DATA\r\n").reply();
                hanging.pause(1);
                try {
                    long started = System.nanoTime();
                    List<String> replies = client.send(MailCorpus.message("hanging", "x\r\n")).send(".\r\n").replies(2);
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    assertTrue(replies.stream().allMatch(r -> r.startsWith("451 4.4.1 kafka unavailable: ")), replies + "\n" + server.log());
                    assertTrue(elapsedMs < 3_000 + 1_500, "answered after " + elapsedMs + " ms");
                } finally {
                    hanging.resume(1);
                }
            }
        }
    }

    @Test
    void aRecipientWhosePartitionCannotBeWrittenIsDeferredAloneWhileTheOthersAreDelivered() throws Exception {
        try (KafkaCluster three = KafkaCluster.start(3)) {
            // One replica each, partition p on node p + 1: stopping node 3 leaves partition 2 without a leader.
            three.createTopicOnNodes("partial", List.of(1, 2, 3), Map.of("max.message.bytes", "11000000"));
            String onPartition0 = recipientOnPartition(0, 3);
            String onPartition2 = recipientOnPartition(2, 3);
            three.stop(3);
            try (LmtpdProcess server = LmtpdProcess.start(Map.of("kafka.bootstrap.servers", three.bootstrapServers(), "topic", "partial",
                    "deadline.ms", "5000"));
                 LmtpClient client = new LmtpClient(server.port())) {
                client.begin("sender@example.org", onPartition2, onPartition0);
                client.send("DATA\r\n").reply();
                List<String> replies = client.send(MailCorpus.message("Half", "x\r\n")).send(".\r\n").replies(2);
                assertTrue(replies.get(0).startsWith("451 4.4.1 kafka unavailable: the brokers accept connections but did not answer"
                        + " in time; "), replies + "\n" + server.log());
                assertEquals("250 2.0.0 delivered", replies.get(1), server.log());
            }
            try (Admin admin = three.admin()) {
                TopicPartition partition0 = new TopicPartition("partial", 0);
                assertEquals(1, admin.listOffsets(Map.of(partition0, OffsetSpec.latest())).all().get().get(partition0).offset(),
                        "the delivered recipient's record is in partition 0");
            }
        }
    }

    @Test
    void sigtermLetsTheTransactionInFlightFinishSays421ToIdleClientsAndExits0() throws Exception {
        LmtpdProcess server = LmtpdProcess.start(settings());
        try (server; LmtpClient busy = new LmtpClient(server.port()); LmtpClient idle = new LmtpClient(server.port())) {
            idle.reply();
            busy.begin("sender@example.org", "inflight@stop.example");
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(server::stop);
            assertTrue(idle.reply().startsWith("421 4.3.2 "), "the idle client is told");
            busy.send("DATA\r\n").reply();
            assertEquals("250 2.0.0 delivered", busy.send(MailCorpus.message("In flight", "x\r\n")).send(".\r\n").reply());
            assertTrue(busy.reply().startsWith("421 4.3.2 "), "then the finished client is told");
            assertEquals(0, exit.get(), server.log());
        }
        assertEquals(1, recordsWhere(key -> key.equals("inflight@stop.example"), 1).size());
    }

    @Test
    void aClientSilentForTheIdleTimeoutIsToldAndDisconnectedBetweenCommandsAndInsideData() {
        Map<String, String> impatient = new java.util.HashMap<>(settings());
        impatient.put("lmtp.idle.timeout.ms", "1000");
        try (LmtpdProcess server = LmtpdProcess.start(impatient);
             LmtpClient between = new LmtpClient(server.port()); LmtpClient inside = new LmtpClient(server.port())) {
            between.reply();
            inside.begin("sender@example.org", "silent@idle.example");
            inside.send("DATA\r\n").reply();
            inside.send("Subject: and then nothing\r\n");
            assertTrue(between.reply().startsWith("421 4.4.2 "), server.log());
            assertTrue(inside.reply().startsWith("421 4.4.2 "), server.log());
            assertNull(between.reply());
            assertNull(inside.reply());
        }
    }

    @Test
    void connectionsPastTheLimitAreTurnedAwayWith421() {
        Map<String, String> limited = new java.util.HashMap<>(settings());
        limited.put("lmtp.max.connections", "2");
        try (LmtpdProcess server = LmtpdProcess.start(limited);
             LmtpClient first = new LmtpClient(server.port()); LmtpClient second = new LmtpClient(server.port());
             LmtpClient third = new LmtpClient(server.port())) {
            assertTrue(first.reply().startsWith("220 "));
            assertTrue(second.reply().startsWith("220 "));
            assertTrue(third.reply().startsWith("421 4.3.2 too many connections"));
            assertNull(third.reply());
        }
    }

    @Test
    void aTcpClientOutsideTheAllowListIsRefusedWith554() {
        Map<String, String> elsewhere = new java.util.HashMap<>(settings());
        elsewhere.put("lmtp.allow", "192.0.2.0/24");
        try (LmtpdProcess server = LmtpdProcess.start(elsewhere); LmtpClient client = new LmtpClient(server.port())) {
            assertTrue(client.reply().startsWith("554 5.7.1 127.0.0.1"), server.log());
            assertNull(client.reply());
        }
    }

    @Test
    void aUnixSocketGetsTheConfiguredModeAndGroup() throws IOException {
        Path socket = directory.resolve("lmtp.sock");
        Map<String, String> unix = new java.util.HashMap<>(settings());
        unix.put("lmtp.listen", "unix:" + socket);
        unix.put("lmtp.socket.mode", "0660");
        unix.put("lmtp.socket.group", "postfix");
        try (LmtpdProcess server = LmtpdProcess.start(unix)) {
            PosixFileAttributes attributes = Files.readAttributes(socket, PosixFileAttributes.class);
            assertEquals("rw-rw----", PosixFilePermissions.toString(attributes.permissions()));
            assertEquals("postfix", attributes.group().getName());
            assertEquals(0, server.stop(), server.log());
        }
        assertTrue(Files.notExists(socket), "removed at the stop");
    }

    @Test
    void aSecondServerOnALiveSocketRefusesToStartAndTheFirstServesOn() {
        Path socket = directory.resolve("lmtp.sock");
        Map<String, String> unix = new java.util.HashMap<>(settings());
        unix.put("lmtp.listen", "unix:" + socket);
        try (LmtpdProcess first = LmtpdProcess.start(unix)) {
            Command.Result second = Command.of(Command.argv(LmtpdProcess.LAUNCHER, "-c", IngestCliProcess.config(unix)))
                    .run(new byte[0], Duration.ofSeconds(60));
            assertEquals(78, second.exitCode(), second::toString);
            assertTrue(second.stdout().contains(socket + " is in use by another server"), second::toString);
            try (LmtpClient client = new LmtpClient(first.port())) {
                assertTrue(client.reply().startsWith("220 "), first.log());
            }
            assertTrue(Files.exists(socket), "the first server's socket is left alone");
        }
    }

    /** The shared server's settings: its tests pose as Postfix over TCP, so their XFORWARD is believed. */
    private static Map<String, String> settings() {
        return Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC, "lmtp.xforward.allow", "127.0.0.1/32");
    }

    /** smtplib sends bytes as given, ending them with CRLF when they do not end so (smtplib.SMTP.data). */
    private static byte[] asSmtplibSendsIt(byte[] message) {
        boolean endsWithCrlf = message.length >= 2 && message[message.length - 2] == '\r' && message[message.length - 1] == '\n';
        if (endsWithCrlf) {
            return message;
        }
        byte[] ended = java.util.Arrays.copyOf(message, message.length + 2);
        ended[message.length] = '\r';
        ended[message.length + 1] = '\n';
        return ended;
    }

    private static String recipientOnPartition(int partition, int partitions) {
        for (int i = 0; ; i++) {
            String recipient = "box" + i + "@partial.example";
            if (BuiltInPartitioner.partitionForKey(recipient.getBytes(StandardCharsets.UTF_8), partitions) == partition) {
                return recipient;
            }
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> recordsWhere(java.util.function.Predicate<String> key, int atLeast) {
        List<ConsumerRecord<byte[], byte[]>> matching = new ArrayList<>();
        Awaitility.await("at least " + atLeast + " matching records").atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
                .until(() -> {
                    matching.clear();
                    TopicReader.read(kafka.bootstrapServers(), TOPIC, 1, Duration.ofSeconds(5)).stream()
                            .filter(r -> key.test(key(r))).forEach(matching::add);
                    return matching.size() >= atLeast;
                });
        return matching;
    }

    private static String key(ConsumerRecord<byte[], byte[]> record) {
        return new String(record.key(), StandardCharsets.UTF_8);
    }
}
