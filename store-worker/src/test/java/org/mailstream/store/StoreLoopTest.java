package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The rules of the store loop, each proven in milliseconds on Kafka's own MockConsumer with a
 * storer that is told, record by record, to store, to fail for a reason that may pass, or to
 * hold on until released. Rebalances are driven the way the real consumer drives them: the
 * listener is called from inside poll, on the loop's thread.
 */
@Timeout(10)
class StoreLoopTest {

    private static final String TOPIC = "mail.inbound";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

    private final Consumer consumer = new Consumer();
    private final ScriptedStorer storer = new ScriptedStorer();
    private final ExecutorService writers = Executors.newFixedThreadPool(4);
    private final LogRule logRule = new LogRule();
    private StoreLoop loop = new StoreLoop(consumer, storer, CommitRule.IMMEDIATE, writers, TOPIC, 100);
    private Thread runner = new Thread(loop::run, "store loop under test");

    @AfterEach
    void stopTheLoop() throws Exception {
        storer.releaseAll();
        loop.stop(Duration.ofSeconds(5));
        runner.join(5_000);
        writers.shutdownNow();
    }

    @Test
    void nothingIsCommittedPastARecordThatIsNotStored() {
        storer.failAlways(2);
        start(Map.of(P0, 5));

        awaitStoreAttempts(P0, 2, 2);
        awaitCommitted(P0, 2);
        assertTrue(storer.attempts(P0).stream().noneMatch(offset -> offset > 2), "nothing after offset 2 stored: " + storer.attempts(P0));
    }

    @Test
    void aRetriableFailureStoresTheSameRecordAgainThenGoesOnInOrder() {
        storer.failOnce(2);
        start(Map.of(P0, 5));

        awaitCommitted(P0, 5);
        assertEquals(List.of(0L, 1L, 2L, 2L, 3L, 4L), storer.attempts(P0));
    }

    @Test
    void aPartitionIsPausedWhileItsRecordsAreStoredAndResumedAfterwards() {
        CountDownLatch release = storer.holdAt(P0, 0);
        start(Map.of(P0, 3));

        storer.awaitHeld(P0, 0);
        assertTrue(consumer.pausedNow().contains(P0), "paused while stored");
        release.countDown();
        awaitCommitted(P0, 3);
        Awaitility.await().untilAsserted(() -> assertTrue(consumer.pausedNow().isEmpty(), "resumed once stored"));
    }

    @Test
    void oneSlowPartitionHoldsBackOnlyItselfAndKeepsItsOwnOrder() {
        CountDownLatch release = storer.holdAt(P0, 0);
        start(Map.of(P0, 3, P1, 3));

        storer.awaitHeld(P0, 0);
        awaitCommitted(P1, 3);
        assertNull(consumer.committedOffset(P0), "the held partition commits nothing yet");
        release.countDown();
        awaitCommitted(P0, 3);
        assertEquals(List.of(0L, 1L, 2L), storer.attempts(P0));
    }

    @Test
    void revokedPartitionsFinishTheirWritesAndCommitThemBeforeTheyGo() {
        CountDownLatch release = storer.holdAt(P0, 2);
        start(Map.of(P0, 3));

        storer.awaitHeld(P0, 2);
        releaseLater(release);
        consumer.duringNextPoll(listener -> listener.onPartitionsRevoked(List.of(P0)), List.of());

        // Once revoked, only the revocation itself could have committed.
        awaitCommitted(P0, 3);
    }

    @Test
    void lostPartitionsCommitNothing() throws Exception {
        CountDownLatch release = storer.holdAt(P0, 2);
        start(Map.of(P0, 3));

        storer.awaitHeld(P0, 2);
        consumer.duringNextPoll(listener -> listener.onPartitionsLost(List.of(P0)), List.of());
        Awaitility.await().until(() -> consumer.assignment().isEmpty());
        release.countDown();
        storer.awaitAttempted(P0, 2);
        Thread.sleep(200); // several polls, in which a wrong commit would happen
        assertNull(consumer.committedOffset(P0));
    }

    @Test
    void aBoundedPassStoresExactlyItsRangeCommitsItsEndAndReturns() {
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.append(P0, 6);

        loop.pass(Map.of(P0, 2L), Map.of(P0, 4L));

        assertEquals(List.of(2L, 3L), storer.attempts(P0));
        assertEquals(4L, consumer.committedOffset(P0));
    }

    @Test
    void inLogModeAnOffsetIsCommittedOnlyOnceItsWriteIsOlderThanTheDelay() throws Exception {
        useLogRule(Duration.ofMillis(600));
        start(Map.of(P0, 3));

        storer.awaitAttempted(P0, 2);
        long written = System.nanoTime();
        awaitCommitted(P0, 3);
        long waitedMs = (System.nanoTime() - written) / 1_000_000;
        assertTrue(waitedMs >= 500, "committed " + waitedMs + " ms after the write");
        assertTrue(logRule.looks.get() > 0, "looked for losses before committing");
    }

    @Test
    void inLogModeASignOfLostWritesStoresEverythingSinceTheLastCommittedOffsetAgain() throws Exception {
        useLogRule(Duration.ofMillis(300));
        start(Map.of(P0, 3));
        awaitCommitted(P0, 3);

        logRule.delay = Duration.ofMinutes(10);
        consumer.append(P0, 2);
        storer.awaitAttempted(P0, 4);
        logRule.signalLoss();

        awaitStoreAttempts(P0, 4, 2);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 3L, 4L), storer.attempts(P0));
        assertEquals(3L, consumer.committedOffset(P0), "nothing committed past what was safe");
    }

    @Test
    void inLogModeABatchBeingWrittenWhenWritesMayHaveBeenLostIsStoredAgainFromTheLastCommittedOffset() {
        useLogRule(Duration.ofMillis(300));
        CountDownLatch release = storer.holdAt(P0, 2);
        start(Map.of(P0, 4));

        storer.awaitHeld(P0, 2);
        logRule.signalLoss();
        release.countDown();

        awaitCommitted(P0, 4);
        assertEquals(List.of(0L, 1L, 2L, 3L, 0L, 1L, 2L, 3L), storer.attempts(P0));
    }

    @Test
    void inLogModeAStopCommitsOnlyWhatIsSafe() throws Exception {
        useLogRule(Duration.ofMinutes(10));
        start(Map.of(P0, 3));

        storer.awaitAttempted(P0, 2);
        loop.stop(Duration.ofSeconds(5));
        runner.join(5_000);
        assertNull(consumer.committedOffset(P0), "a write younger than the delay is left to be read again");
        assertTrue(loop.allCommitted());
    }

    /** Gives each partition that many records, and assigns them all at the first poll. */
    private void start(Map<TopicPartition, Integer> recordsPerPartition) {
        recordsPerPartition.forEach(consumer::append);
        consumer.duringNextPoll(listener -> listener.onPartitionsAssigned(recordsPerPartition.keySet()), recordsPerPartition.keySet());
        runner.start();
    }

    private void awaitCommitted(TopicPartition partition, long offset) {
        Awaitility.await(partition + " committed at " + offset).atMost(Duration.ofSeconds(5))
                .until(() -> Long.valueOf(offset).equals(consumer.committedOffset(partition)));
    }

    private void awaitStoreAttempts(TopicPartition partition, long offset, int times) {
        Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> storer.attempts(partition).stream().filter(o -> o == offset).count() >= times);
    }

    private static void releaseLater(CountDownLatch release) {
        Thread releaser = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            release.countDown();
        });
        releaser.start();
    }

    private static ConsumerRecord<byte[], byte[]> record(TopicPartition partition, long offset) {
        return new ConsumerRecord<>(partition.topic(), partition.partition(), offset, new byte[0], new byte[0]);
    }

    private void useLogRule(Duration delay) {
        logRule.delay = delay;
        loop = new StoreLoop(consumer, storer, logRule, writers, TOPIC, 100);
        runner = new Thread(loop::run, "store loop under test");
    }

    /** A log-mode commit rule whose delay the test sets and whose loss signs it gives. */
    private static final class LogRule implements CommitRule {
        private final AtomicLong signs = new AtomicLong();
        private final AtomicLong looks = new AtomicLong();
        private volatile Duration delay;

        @Override
        public Duration delay() {
            return delay;
        }

        @Override
        public long lossSigns() {
            return signs.get();
        }

        @Override
        public void lookForLosses() {
            looks.incrementAndGet();
        }

        void signalLoss() {
            signs.incrementAndGet();
        }
    }

    /**
     * MockConsumer with two things the real consumer has and it lacks: a log that a seek can go
     * back in (MockConsumer forgets a record once a poll has passed it, paused or not), and the
     * rebalance listener, called from inside poll. Commits are kept as sent, since MockConsumer
     * reports a partition no longer assigned as committed at 0.
     */
    private static final class Consumer extends MockConsumer<byte[], byte[]> {
        private final Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> log = new ConcurrentHashMap<>();
        private final Map<TopicPartition, Long> commits = new ConcurrentHashMap<>();
        private ConsumerRebalanceListener listener;

        Consumer() {
            super("earliest");
        }

        @Override
        public synchronized void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
            super.subscribe(topics, listener);
            this.listener = listener;
        }

        /** Offers every assigned, unpaused partition its records from its position on, as a broker would. */
        @Override
        public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            for (TopicPartition partition : assignment()) {
                if (!paused().contains(partition)) {
                    long position = position(partition);
                    log.getOrDefault(partition, List.of()).stream().filter(r -> r.offset() >= position).forEach(this::addRecord);
                }
            }
            return super.poll(timeout);
        }

        @Override
        public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
            super.commitSync(offsets);
            offsets.forEach((partition, offset) -> commits.put(partition, offset.offset()));
        }

        /** Appends {@code count} records to {@code partition}'s log. */
        void append(TopicPartition partition, int count) {
            List<ConsumerRecord<byte[], byte[]>> records = log.computeIfAbsent(partition, p -> new CopyOnWriteArrayList<>());
            for (int i = 0; i < count; i++) {
                records.add(record(partition, records.size()));
            }
        }

        /** In the next poll: the new assignment where it adds partitions, {@code callback} on the listener, then the rest. */
        void duringNextPoll(java.util.function.Consumer<ConsumerRebalanceListener> callback, Collection<TopicPartition> assignment) {
            schedulePollTask(() -> {
                if (!assignment.isEmpty()) {
                    rebalance(assignment);
                    updateBeginningOffsets(assignment.stream().collect(Collectors.toMap(p -> p, p -> 0L)));
                }
                callback.accept(listener);
                if (assignment.isEmpty()) {
                    rebalance(assignment);
                }
            });
        }

        Long committedOffset(TopicPartition partition) {
            return commits.get(partition);
        }

        synchronized Set<TopicPartition> pausedNow() {
            return Set.copyOf(paused());
        }
    }

    /** A storer told per offset what to do; it records every attempt, in order, per partition. */
    private static final class ScriptedStorer implements StoreLoop.Storer {
        private final Map<TopicPartition, List<Long>> attempts = new ConcurrentHashMap<>();
        private final Map<Long, Predicate<Integer>> failures = new ConcurrentHashMap<>();
        private final Map<TopicPartition, Map<Long, CountDownLatch>> holds = new ConcurrentHashMap<>();
        private final Map<TopicPartition, Map<Long, CountDownLatch>> held = new ConcurrentHashMap<>();
        private final List<CountDownLatch> releases = new CopyOnWriteArrayList<>();

        @Override
        public StoreOutcome store(ConsumerRecord<byte[], byte[]> record) throws RecordStorer.RetryLater {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            List<Long> seen = attempts.computeIfAbsent(partition, p -> new CopyOnWriteArrayList<>());
            seen.add(record.offset());
            CountDownLatch hold = holds.getOrDefault(partition, Map.of()).get(record.offset());
            if (hold != null) {
                heldLatch(partition, record.offset()).countDown();
                awaitQuietly(hold);
            }
            int attempt = (int) seen.stream().filter(o -> o == record.offset()).count();
            Predicate<Integer> fails = failures.get(record.offset());
            if (fails != null && fails.test(attempt)) {
                throw new RecordStorer.RetryLater("told to fail attempt " + attempt + " of offset " + record.offset(), null);
            }
            return StoreOutcome.STORED;
        }

        void failAlways(long offset) {
            failures.put(offset, attempt -> true);
        }

        void failOnce(long offset) {
            failures.put(offset, attempt -> attempt == 1);
        }

        /** The first attempt at {@code offset} of {@code partition} waits until the latch returned is released. */
        CountDownLatch holdAt(TopicPartition partition, long offset) {
            CountDownLatch release = new CountDownLatch(1);
            holds.computeIfAbsent(partition, p -> new ConcurrentHashMap<>()).put(offset, release);
            releases.add(release);
            return release;
        }

        void awaitHeld(TopicPartition partition, long offset) {
            awaitQuietly(heldLatch(partition, offset));
        }

        void awaitAttempted(TopicPartition partition, long offset) {
            Awaitility.await().until(() -> attempts(partition).contains(offset));
        }

        List<Long> attempts(TopicPartition partition) {
            return new ArrayList<>(attempts.getOrDefault(partition, List.of()));
        }

        void releaseAll() {
            releases.forEach(CountDownLatch::countDown);
        }

        private CountDownLatch heldLatch(TopicPartition partition, long offset) {
            return held.computeIfAbsent(partition, p -> new ConcurrentHashMap<>()).computeIfAbsent(offset, o -> new CountDownLatch(1));
        }

        private static void awaitQuietly(CountDownLatch latch) {
            try {
                if (!latch.await(5, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a latch of the test was never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
