package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ModificationType;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.mailstream.local.Chores;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TempFiles;
import org.mailstream.local.TopicReader;
import org.mailstream.schemas.MessageIdentity;

/**
 * store-worker replay and redrive as an operator runs them (bin/store-worker, output streams
 * shown on failure), against two back ends of real slapd whose workers stored the topic first.
 */
class ReplayIT {

    private static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/store-worker");
    private static final List<String> BACKENDS = List.of("a", "b");
    private static final BackendRouting ROUTING = BackendRouting.of("a", BACKENDS, List.of(), "");
    private static final int MAILBOXES = 20;
    private static final int MAILS = 400;

    private final KafkaCluster kafka = KafkaCluster.shared();
    private final Map<String, Slapd> backends = new HashMap<>();
    private final Map<String, Path> configs = new HashMap<>();
    /** Per back end, its mails: DN to the SHA-256 of the raw bytes. */
    private final Map<String, Map<String, String>> expected = new HashMap<>();
    private String topic;

    @BeforeEach
    void twoBackEndsThatStoredTheTopic(TestInfo test) {
        topic = "replay-" + test.getTestMethod().orElseThrow().getName().hashCode();
        kafka.createTopic(topic, 4, 1, Map.of("max.message.bytes", "11000000"));
        kafka.createTopic(topic + ".dlq", 1, 1, Map.of("max.message.bytes", "17000000"));
        for (String backend : BACKENDS) {
            backends.put(backend, Slapd.start());
            configs.put(backend, config(backend, backends.get(backend), BACKENDS));
            expected.put(backend, new HashMap<>());
        }
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int box = 0; box < MAILBOXES; box++) {
            backends.get(ROUTING.ownerOf(address(box))).addMailbox("box" + box);
        }
        for (int i = 0; i < MAILS; i++) {
            int box = i % MAILBOXES;
            byte[] mail = MailCorpus.message("mail " + i, "to box " + box + "\r\n");
            mails.add(Map.entry(address(box), mail));
            expected.get(ROUTING.ownerOf(address(box))).put(dn(mail, "box" + box), MessageIdentity.sha256Hex(mail));
        }
        publish(mails);
        BACKENDS.forEach(this::storeWithAWorker);
    }

    @AfterEach
    void stopBackEnds() {
        backends.values().forEach(Slapd::close);
    }

    @Test
    void aWipedBackEndIsRestoredByteIdenticalFromTheEarliestOffsetAndTheOtherBackEndIsUntouched() {
        Map<String, String> untouched = entryCsns(backends.get("b"));
        wipeMessages(backends.get("a"));

        Command.Result dryRun = storeWorker("replay", "-c", configs.get("a"), "--from-earliest");
        System.out.println(dryRun.stdout());
        assertEquals(0, dryRun.exitCode(), dryRun.toString());
        assertTrue(dryRun.stdout().contains("Dry run: nothing changed. Add --execute to replay these " + MAILS + " records."),
                dryRun.toString());
        assertEquals(Map.of(), rawDigests(backends.get("a")), "a dry run stores nothing");

        Command.Result replay = storeWorker("replay", "-c", configs.get("a"), "--from-earliest", "--execute");
        System.out.println(replay.stdout());
        assertEquals(0, replay.exitCode(), replay.toString());
        assertEquals(expected.get("a"), rawDigests(backends.get("a")), "every message of a back again, byte for byte, once\n" + replay);
        assertEquals(untouched, entryCsns(backends.get("b")), "back end b was not written to");
        assertTrue(replay.stdout().contains(": stored " + expected.get("a").size() + ","), replay.toString());
    }

    @Test
    void aReplayWaitsOutABackEndThatIsDownAndFinishesWhenItReturns() throws Exception {
        Slapd a = backends.get("a");
        CompletableFuture<Command.Result> replay = replayWhileBackEndAIsDown();
        assertFalse(replay.isDone(), () -> "the replay ended while its back end was down: " + replay.join());
        a.restart();
        Command.Result result = replay.get(3, TimeUnit.MINUTES);
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals(expected.get("a"), rawDigests(a), "every message of a, once, after the back end returned\n" + result);
    }

    @Test
    void aWorkerThatJoinsDuringAReplayMakesItSayItsOffsetsWereRefusedAndNothingIsLost() throws Exception {
        Slapd a = backends.get("a");
        CompletableFuture<Command.Result> replay = replayWhileBackEndAIsDown();
        try (StoreWorkerProcess worker = StoreWorkerProcess.start(configs.get("a"))) {
            awaitMember(topic + "-store-a", worker::log);
            a.restart();
            Command.Result result = replay.get(3, TimeUnit.MINUTES);
            assertEquals(WorkerExit.TEMPORARY.code(), result.exitCode(), result + "\n" + worker.log());
            assertTrue(result.stdout().contains("the records are stored, but group " + topic + "-store-a refused the last offsets"),
                    result.toString());
            assertEquals(expected.get("a"), rawDigests(a), "every message of a, once\n" + result);
        }
    }

    @Test
    void aNewEmptyBackEndIsFilledEntirelyFromTheTopic() {
        List<String> withC = List.of("a", "b", "c");
        BackendRouting routing = BackendRouting.of("c", withC, List.of(), "");
        Slapd fresh = Slapd.start();
        backends.put("c", fresh);
        Map<String, String> everyMail = new HashMap<>(expected.get("a"));
        everyMail.putAll(expected.get("b"));
        Map<String, String> itsMail = new HashMap<>();
        for (int box = 0; box < MAILBOXES; box++) {
            if (routing.owns(address(box).getBytes(StandardCharsets.UTF_8))) {
                fresh.addMailbox("box" + box);
                String below = ",cn=INBOX,uid=box" + box + ",";
                everyMail.entrySet().stream().filter(e -> e.getKey().contains(below)).forEach(e -> itsMail.put(e.getKey(), e.getValue()));
            }
        }
        assertTrue(itsMail.size() >= MAILS / MAILBOXES, "back end c owns some mailboxes under the new routing");

        Command.Result replay = storeWorker("replay", "-c", config("c", fresh, withC), "--from-earliest", "--execute");
        assertEquals(0, replay.exitCode(), replay.toString());
        assertEquals(itsMail, rawDigests(fresh), "every mail of c's mailboxes, byte for byte, once\n" + replay);
    }

    @Test
    void reparseRewritesEveryEntrysDerivedAttributesLeavesTheRawBytesAloneAndTwiceChangesNothingMore() {
        Slapd a = backends.get("a");
        List<SearchResultEntry> asStored = dump(a);
        // What an older parser might have left: another subject, no date.
        try (LDAPConnection root = a.rootConnection()) {
            for (SearchResultEntry entry : asStored) {
                root.modify(entry.getDN(), new Modification(ModificationType.REPLACE, "mailStoreSubject", "old parser's subject"),
                        new Modification(ModificationType.DELETE, "mailStoreDate"));
            }
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }

        Command.Result first = storeWorker("replay", "-c", configs.get("a"), "--from-earliest", "--mode", "reparse", "--execute");
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(first.stdout().contains("reindexed " + asStored.size()), "every entry re-indexed\n" + first);
        assertEquals(expected.get("a"), rawDigests(a), "raw bytes unchanged");
        assertEquals(withoutOperational(asStored), withoutOperational(dump(a)), "every entry as the current parser derives it");

        List<SearchResultEntry> afterFirst = dump(a);
        Command.Result second = storeWorker("replay", "-c", configs.get("a"), "--from-earliest", "--mode", "reparse", "--execute");
        assertEquals(0, second.exitCode(), second.toString());
        assertTrue(second.stdout().contains("reindexed 0"), second.toString());
        assertEquals(afterFirst.stream().map(SearchResultEntry::toLDIFString).toList(), dump(a).stream().map(SearchResultEntry::toLDIFString).toList(),
                "the second reparse left every entry as it was, entryCSN included");
    }

    @Test
    void aDeadLetterIsStoredByRedriveOnceItsMailboxExistsAndOnlyLettersThatStillFailRemainAfterItEvenBesideTheWorker() throws IOException {
        String late = mailboxOwnedBy("a", "late");
        String never = mailboxOwnedBy("a", "never");
        byte[] first = MailCorpus.message("for late 1", "x\r\n");
        byte[] second = MailCorpus.message("for late 2", "y\r\n");
        publish(List.of(Map.entry(late + "@example.com", first), Map.entry(late + "@example.com", second),
                Map.entry(never + "@example.com", MailCorpus.message("for never", "z\r\n"))));
        storeWithAWorker("a");
        assertEquals(3, deadLetters().size(), "both unknown mailboxes' mail is dead");
        backends.get("a").addMailbox(late);

        Command.Result redrive = storeWorker("redrive", "-c", configs.get("a"), "--execute");
        assertEquals(0, redrive.exitCode(), redrive.toString());
        Map<String, String> aNow = rawDigests(backends.get("a"));
        assertEquals(MessageIdentity.sha256Hex(first), aNow.get(dn(first, late)), redrive.toString());
        assertEquals(MessageIdentity.sha256Hex(second), aNow.get(dn(second, late)), redrive.toString());
        List<ConsumerRecord<byte[], byte[]>> stillDead = deadLettersAfter(topic + "-store-a-redrive");
        assertEquals(List.of(never + "@example.com"), stillDead.stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList(),
                "after the redrive's position, only the letter that still fails\n" + redrive);
        assertTrue(new String(stillDead.get(0).headers().lastHeader(DeadLetters.REASON_HEADER).value(), StandardCharsets.UTF_8)
                .startsWith("no such mailbox"));

        // Run as an operator would, with the worker's configuration beside the worker, whose metrics port is taken.
        try (ServerSocket workersMetrics = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path besideTheWorker = TempFiles.write(".properties",
                    Files.readString(configs.get("a")) + "metrics.listen=127.0.0.1:" + workersMetrics.getLocalPort() + "\n");
            Command.Result again = storeWorker("redrive", "-c", besideTheWorker, "--execute");
            assertEquals(0, again.exitCode(), again.toString());
        }
        assertEquals(aNow, rawDigests(backends.get("a")), "a second redrive stores nothing twice");
    }

    @Test
    void aLetterThatStillFailsCountsItsAttemptsAndRedriveGivesUpOnItAfterTheConfiguredNumberSayingSo() throws Exception {
        String never = mailboxOwnedBy("a", "never");
        publish(List.of(Map.entry(never + "@example.com", MailCorpus.message("for never", "z\r\n"))));
        storeWithAWorker("a");
        Path twoAttempts = TempFiles.write(".properties", Files.readString(configs.get("a")) + "redrive.max.attempts=2\n");

        Command.Result tried = storeWorker("redrive", "-c", twoAttempts, "--execute");
        assertEquals(0, tried.exitCode(), tried.toString());
        List<ConsumerRecord<byte[], byte[]>> letters = deadLetters();
        assertEquals(List.of("1", "2"), letters.stream().map(r -> new String(r.headers().lastHeader(DeadLetters.ATTEMPTS_HEADER).value(),
                StandardCharsets.US_ASCII)).toList(), "written by the worker, then again by the redrive\n" + tried);

        Command.Result givenUp = storeWorker("redrive", "-c", twoAttempts, "--execute");
        assertEquals(0, givenUp.exitCode(), givenUp.toString());
        assertTrue(givenUp.stdout().contains("given up 1"), givenUp.toString());
        assertTrue(givenUp.stderr().contains("record=" + topic + ".dlq/0/1, status=given-up (after 2 attempts"), givenUp.toString());
        assertEquals(2, deadLetters().size(), "not written a third time\n" + givenUp);
        assertEquals(List.of(), deadLettersAfter(topic + "-store-a-redrive"), "nothing left for the next redrive");
    }

    @Test
    void aRedriveSaysWhichLettersRetentionRemovedBeforeItReadThemAndStoresTheRest() throws Exception {
        String late = mailboxOwnedBy("a", "late");
        byte[] expiredMail = MailCorpus.message("expired letter", "x\r\n");
        byte[] keptMail = MailCorpus.message("kept letter", "y\r\n");
        publish(List.of(Map.entry(late + "@example.com", expiredMail), Map.entry(late + "@example.com", keptMail)));
        storeWithAWorker("a");
        try (Admin admin = kafka.admin()) {
            admin.deleteRecords(Map.of(new TopicPartition(topic + ".dlq", 0), RecordsToDelete.beforeOffset(1))).all()
                    .get(30, TimeUnit.SECONDS);
        }
        backends.get("a").addMailbox(late);

        Command.Result redrive = storeWorker("redrive", "-c", configs.get("a"), "--execute");
        assertEquals(0, redrive.exitCode(), redrive.toString());
        assertTrue(redrive.stdout().contains("Removed by retention before a redrive read them, and so passed over:\n"
                + "  partition 0: offsets 0 to 0"), redrive.toString());
        Map<String, String> stored = rawDigests(backends.get("a"));
        assertEquals(MessageIdentity.sha256Hex(keptMail), stored.get(dn(keptMail, late)), redrive.toString());
        assertNull(stored.get(dn(expiredMail, late)), "the expired letter is gone, not stored");
    }

    @Test
    void replayRefusesWhileTheBackEndsWorkersRun() {
        try (StoreWorkerProcess worker = StoreWorkerProcess.start(configs.get("a"))) {
            // A dry run refuses too; it is asked until the worker has joined the group.
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> storeWorker("replay", "-c", configs.get("a"), "--from-earliest").exitCode() != 0);
            Command.Result replay = storeWorker("replay", "-c", configs.get("a"), "--from-earliest", "--execute");
            assertEquals(WorkerExit.TEMPORARY.code(), replay.exitCode(), replay + "\n" + worker.log());
            assertTrue(replay.stdout().contains("group " + topic + "-store-a has 1 active member(s)"), replay.toString());
        }
    }

    @Test
    void aReplayAskingForRecordsTheTopicNoLongerHoldsSaysSoAndChangesNothing() throws Exception {
        TopicPartition zero = new TopicPartition(topic, 0);
        try (Admin admin = kafka.admin()) {
            admin.deleteRecords(Map.of(zero, RecordsToDelete.beforeOffset(5))).all().get(30, TimeUnit.SECONDS);
        }
        Map<TopicPartition, OffsetAndMetadata> before = committed(topic + "-store-a");
        for (List<String> start : List.of(List.of("--from-earliest"), List.of("--from-offsets", "0=2"),
                List.of("--from-time", Instant.EPOCH.toString()))) {
            Command.Result replay = storeWorker("replay", "-c", configs.get("a"), start, "--execute");
            assertEquals(WorkerExit.DATA_GONE.code(), replay.exitCode(), replay.toString());
            assertTrue(replay.stdout().contains("The topic no longer holds records this replay asks for"), replay.toString());
            assertTrue(replay.stdout().contains("partition 0: offsets"), replay.toString());
        }
        assertEquals(before, committed(topic + "-store-a"), "the group's offsets did not move");

        Command.Result fromWhatIsHeld = storeWorker("replay", "-c", configs.get("a"), "--from-offsets", "0=5");
        assertEquals(0, fromWhatIsHeld.exitCode(), fromWhatIsHeld.toString());
        Command.Result noSuchPartition = storeWorker("replay", "-c", configs.get("a"), "--from-offsets", "9=0");
        assertEquals(WorkerExit.USAGE.code(), noSuchPartition.exitCode(), noSuchPartition.toString());
        assertTrue(noSuchPartition.stdout().contains(topic + " has no partition 9"), noSuchPartition.toString());
    }

    /** Wipes back end a's messages, stops its slapd and starts a fill replay from the earliest offset, which waits for it. */
    private CompletableFuture<Command.Result> replayWhileBackEndAIsDown() {
        wipeMessages(backends.get("a"));
        backends.get("a").stop();
        CompletableFuture<Command.Result> replay = CompletableFuture.supplyAsync(
                () -> storeWorker("replay", "-c", configs.get("a"), "--from-earliest", "--execute"));
        Chores.pause(5000);
        return replay;
    }

    private void storeWithAWorker(String backend) {
        try (StoreWorkerProcess worker = StoreWorkerProcess.start(configs.get(backend))) {
            Backend.awaitCaughtUp(kafka, topic, topic + "-store-" + backend, worker::log);
            assertEquals(143, worker.stop(), worker.log());
        }
    }

    private Path config(String backend, Slapd slapd, List<String> routing) {
        return StoreWorkerProcess.config(kafka, topic, slapd, Map.of("backend", backend, "routing.backends", String.join(",", routing)));
    }

    private Command.Result storeWorker(Object... arguments) {
        return Command.of(Command.argv(LAUNCHER, Command.argv(arguments))).run(new byte[0], Duration.ofMinutes(3));
    }

    private void publish(List<Map.Entry<String, byte[]>> mails) {
        try (MailPublisher publisher = new MailPublisher(kafka.bootstrapServers(), topic)) {
            publisher.publish(mails);
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> deadLetters() {
        return TopicReader.read(kafka.bootstrapServers(), topic + ".dlq", 0, Duration.ofSeconds(5));
    }

    /** The dead letters at or after the offsets {@code group} committed. */
    private List<ConsumerRecord<byte[], byte[]>> deadLettersAfter(String group) {
        Map<TopicPartition, OffsetAndMetadata> position = committed(group);
        return deadLetters().stream().filter(r -> r.offset() >= position.get(new TopicPartition(r.topic(), r.partition())).offset())
                .toList();
    }

    private void awaitMember(String group, Supplier<String> diagnostics) {
        try (Admin admin = kafka.admin()) {
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertFalse(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(30, TimeUnit.SECONDS)
                            .members().isEmpty(), () -> "no member joined " + group + "\n" + diagnostics.get()));
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committed(String group) {
        try (Admin admin = kafka.admin()) {
            return new HashMap<>(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the offsets of " + group, e);
        }
    }

    /** A mailbox name starting with {@code prefix} that the routing gives to {@code backend}. */
    private static String mailboxOwnedBy(String backend, String prefix) {
        return IntStream.range(0, 1000).mapToObj(i -> prefix + i).filter(name -> ROUTING.ownerOf(name + "@example.com").equals(backend))
                .findFirst().orElseThrow();
    }

    private static void wipeMessages(Slapd slapd) {
        try (LDAPConnection root = slapd.rootConnection()) {
            List<SearchResultEntry> entries = root.search(new SearchRequest(Slapd.PEOPLE, SearchScope.SUB,
                    "(|(objectClass=mailStoreMessage)(objectClass=mailStoreFolder))", "1.1")).getSearchEntries();
            // Children first.
            for (SearchResultEntry entry : entries.stream().sorted(Comparator.comparingInt((SearchResultEntry e) -> e.getDN().length())
                    .reversed()).toList()) {
                root.delete(entry.getDN());
            }
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every message: DN to the SHA-256 of its mailStoreRaw as read back. */
    private static Map<String, String> rawDigests(Slapd slapd) {
        return slapd.messages("mailStoreRaw").stream().collect(Collectors.toMap(SearchResultEntry::getDN,
                e -> MessageIdentity.sha256Hex(e.getAttributeValueBytes("mailStoreRaw"))));
    }

    private static Map<String, String> entryCsns(Slapd slapd) {
        return slapd.messages("entryCSN").stream().collect(Collectors.toMap(SearchResultEntry::getDN, e -> e.getAttributeValue("entryCSN")));
    }

    /** Every message with its user and operational attributes, in DN order. */
    private static List<SearchResultEntry> dump(Slapd slapd) {
        return slapd.messages("*", "+").stream().sorted(Comparator.comparing(SearchResultEntry::getDN)).toList();
    }

    private static List<String> withoutOperational(List<SearchResultEntry> entries) {
        return entries.stream().map(e -> {
            StringBuilder text = new StringBuilder(e.getDN());
            e.getAttributes().stream().filter(a -> a.getName().startsWith("mailStore") || a.getName().equals("objectClass"))
                    .sorted(Comparator.comparing(Attribute::getName)).forEach(a -> text.append('\n').append(a));
            return text.toString();
        }).toList();
    }

    private static String dn(byte[] mail, String mailbox) {
        return "mailStoreId=" + MessageIdentity.of(mail) + ",cn=INBOX,uid=" + mailbox + "," + Slapd.PEOPLE;
    }

    private static String address(int box) {
        return "box" + box + "@example.com";
    }
}
