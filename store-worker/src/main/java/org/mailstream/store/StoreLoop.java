package org.mailstream.store;

import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop, in the manner of a Kafka Connect sink: write, then commit.
 *
 * <ul>
 * <li>Each partition's records are stored in order by one writer at a time; different
 *     partitions are stored at once, one writer thread each, up to the pool's connections.
 * <li>A partition is paused while its records are being stored, and its offset is committed
 *     only up to the last record that is stored or dead-lettered.
 * <li>A failure that may pass (the back end is down, say) leaves the partition paused at the
 *     first record not stored, for a pause that doubles up to a cap; the loop keeps polling
 *     meanwhile, so the worker keeps its place in the group and nothing is skipped.
 * <li>Partitions being revoked finish their writes and commit first; lost partitions commit
 *     nothing, since another worker owns them now.
 * <li>A {@linkplain #pass bounded pass} (replay, redrive) reads fixed ranges of assigned partitions
 *     the same way and ends when every range is settled.
 * <li>A stored record's offset is committed when the {@link CommitRule} says its write can no longer
 *     be lost: at once when the back end syncs every add, later when it does not. A sign that the
 *     back end may have lost writes sends every partition back to its last committed offset, and
 *     what follows is stored again (an entry found stored is a success).
 * </ul>
 *
 * <p>Each partition's offsets, marks and backoff live in its {@link PartitionLedger}; the loop
 * polls, hands batches to writers, and settles what they return into the ledgers.
 */
final class StoreLoop implements StoreStats {

    private static final Logger LOG = LoggerFactory.getLogger(StoreLoop.class);
    private static final Duration POLL = Duration.ofMillis(100);
    /** While writers are busy the loop must notice soon that one is done, or its connection idles. */
    private static final Duration POLL_WHILE_WRITING = Duration.ofMillis(5);
    private static final long REPORT_EVERY_NANOS = Duration.ofSeconds(10).toNanos();
    private static final long ONE_SECOND_NANOS = Duration.ofSeconds(1).toNanos();

    /** Where one partition's batch got to: the first offset not settled, and why it stopped there. */
    private record BatchEnd(long nextOffset, String retryReason) {
    }

    /** How soon the loop looks for lost writes before it commits. */
    private enum LossCheck {
        /** At most once a second: the loop commits after every poll. */
        WHEN_DUE,
        /** Now: partitions are being revoked, or the loop stops. */
        NOW
    }

    /** Stores one record, as {@link RecordStorer#store} does: an outcome, or RetryLater when nothing about it is settled. */
    @FunctionalInterface
    interface Storer {
        StoreOutcome store(ConsumerRecord<byte[], byte[]> record) throws RecordStorer.RetryLater;
    }

    private final Consumer<byte[], byte[]> consumer;
    private final Storer storer;
    private final CommitRule commitRule;
    private final ExecutorService writers;
    private final String topic;
    private final long maxBackoffMs;
    private final Map<TopicPartition, Future<BatchEnd>> inFlight = new HashMap<>();
    private final Map<TopicPartition, PartitionLedger> ledgers = new HashMap<>();
    /** Commits failed in a row; the first is logged, the success that ends them too. */
    private int failedCommits;
    private final Map<StoreOutcome, AtomicLong> counts = new HashMap<>();
    private long lossSignsSeen;
    private long nextLossCheckNanos;
    private final AtomicLong retries = new AtomicLong();
    /** What the metrics read from other threads, refreshed by the loop about once a second. */
    private volatile Map<TopicPartition, Long> lag = Map.of();
    private volatile int partitionsWaiting;
    private long nextGaugesNanos;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean started;

    StoreLoop(Consumer<byte[], byte[]> consumer, Storer storer, CommitRule commitRule, ExecutorService writers, String topic,
            long maxBackoffMs) {
        this.consumer = consumer;
        this.storer = storer;
        this.commitRule = commitRule;
        this.writers = writers;
        this.topic = topic;
        this.maxBackoffMs = maxBackoffMs;
        for (StoreOutcome outcome : StoreOutcome.values()) {
            counts.put(outcome, new AtomicLong());
        }
    }

    /** Polls and stores until {@link #stop()}; then finishes what is in flight, commits and leaves the group. */
    void run() {
        consumer.subscribe(List.of(topic), new Rebalance());
        loop(() -> false);
    }

    /**
     * Stores each partition's records from {@code from} up to, not including, {@code until},
     * committing under the consumer's group as it goes; returns when every range is settled or
     * after {@link #stop()}. The group must have no active member, or the commits fail.
     */
    void pass(Map<TopicPartition, Long> from, Map<TopicPartition, Long> until) {
        from.forEach((partition, start) -> ledgers.put(partition, new PartitionLedger(start, until.get(partition))));
        consumer.assign(from.keySet());
        from.forEach(consumer::seek);
        consumer.pause(from.keySet().stream().filter(p -> ledgers.get(p).atEnd(from.get(p))).toList());
        loop(() -> ledgers.keySet().stream().allMatch(this::rangeDone));
    }

    /** Records settled so far: stored, found stored, dead-lettered or passed over. */
    long settledRecords() {
        return counts.values().stream().mapToLong(AtomicLong::get).sum();
    }

    @Override
    public long retries() {
        return retries.get();
    }

    @Override
    public int partitionsWaiting() {
        return partitionsWaiting;
    }

    @Override
    public Map<TopicPartition, Long> lag() {
        return lag;
    }

    /** Whether every settled offset has been committed: false when the last commits failed. */
    boolean allCommitted() {
        return ledgers.values().stream().allMatch(ledger -> ledger.toCommit().isEmpty());
    }

    @Override
    public Map<StoreOutcome, Long> outcomes() {
        Map<StoreOutcome, Long> snapshot = new EnumMap<>(StoreOutcome.class);
        counts.forEach((outcome, count) -> snapshot.put(outcome, count.get()));
        return snapshot;
    }

    private void loop(BooleanSupplier finished) {
        started = true;
        long nextReport = System.nanoTime() + REPORT_EVERY_NANOS;
        try {
            while (running && !finished.getAsBoolean()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(inFlight.isEmpty() ? POLL : POLL_WHILE_WRITING);
                for (TopicPartition partition : records.partitions()) {
                    // The first records after an assignment start at the committed offset.
                    PartitionLedger ledger = ledgers.computeIfAbsent(partition,
                            p -> new PartitionLedger(records.records(p).get(0).offset(), PartitionLedger.NO_END));
                    List<ConsumerRecord<byte[], byte[]>> batch = withinRange(ledger, records.records(partition));
                    consumer.pause(List.of(partition));
                    if (!batch.isEmpty()) {
                        inFlight.put(partition, writers.submit(() -> storeInOrder(batch)));
                    }
                }
                settleFinishedWriters();
                resumeWhenDue();
                if (System.nanoTime() - nextGaugesNanos > 0) {
                    refreshGauges();
                    nextGaugesNanos = System.nanoTime() + ONE_SECOND_NANOS;
                }
                if (System.nanoTime() - nextReport > 0) {
                    report();
                    nextReport = System.nanoTime() + REPORT_EVERY_NANOS;
                }
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } finally {
            try {
                settleWriters(List.copyOf(inFlight.keySet()));
            } catch (WakeupException stopArrivedAfterPoll) {
                // The wake-up is spent now, and the settled offsets are still pending.
                commitSettled();
            }
            if (ledgers.values().stream().anyMatch(PartitionLedger::hasWritesNotYetSafe)) {
                LOG.info("the last {} s of writes are left uncommitted, as the back end may not have them on disk yet; "
                        + "they are found stored when read again", commitRule.delay().toSeconds());
            }
            consumer.close();
            report();
            stopped.countDown();
        }
    }

    /** Asks the loop to stop and waits until it has committed and left the group. */
    void stop(Duration timeout) throws InterruptedException {
        running = false;
        if (!started) {
            // A replay that refused, or a process stopped before it polled: nothing to finish.
            return;
        }
        consumer.wakeup();
        stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private BatchEnd storeInOrder(List<ConsumerRecord<byte[], byte[]>> batch) {
        for (ConsumerRecord<byte[], byte[]> record : batch) {
            try {
                counts.get(storer.store(record)).incrementAndGet();
            } catch (RecordStorer.RetryLater e) {
                return new BatchEnd(record.offset(), e.getMessage());
            } catch (RuntimeException e) {
                return new BatchEnd(record.offset(), "unexpected " + e);
            }
        }
        return new BatchEnd(batch.get(batch.size() - 1).offset() + 1, null);
    }

    /** Settles the batches whose writers are done, and commits what the rule allows. */
    private void settleFinishedWriters() {
        for (TopicPartition partition : List.copyOf(inFlight.keySet())) {
            if (inFlight.get(partition).isDone()) {
                settle(partition);
            }
        }
        commitSafe(LossCheck.WHEN_DUE);
    }

    /** Waits for the writers of {@code partitions}, settles their batches and commits what the rule allows. */
    private void settleWriters(Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            if (inFlight.containsKey(partition)) {
                settle(partition);
            }
        }
        commitSafe(LossCheck.NOW);
    }

    /** Enters the batch of {@code partition}'s writer in its ledger, and resumes the partition or makes it wait. */
    private void settle(TopicPartition partition) {
        BatchEnd batch = outcomeOf(inFlight.get(partition));
        if (commitRule.lossSigns() != lossSignsSeen) {
            // Still in flight, so this batch is rewound below, with the rest of its partition.
            rewindAll();
        }
        inFlight.remove(partition);
        PartitionLedger ledger = ledgers.get(partition);
        long next;
        if (ledger.mustRewind()) {
            next = rewind(partition, ledger);
        } else {
            ledger.written(batch.nextOffset(), System.nanoTime());
            next = batch.nextOffset();
        }
        if (batch.retryReason() == null) {
            if (ledger.succeeded()) {
                LOG.info("{}: storing again", partition);
            }
            if (!ledger.atEnd(next)) {
                consumer.resume(List.of(partition));
            }
        } else {
            consumer.seek(partition, next);
            long backoff = ledger.failed(System.nanoTime(), maxBackoffMs);
            retries.incrementAndGet();
            LOG.warn("{}: offset {} not stored, retrying in {} ms: {}", partition, batch.nextOffset(), backoff, batch.retryReason());
        }
    }

    /**
     * Hands the offsets whose writes the rule now counts safe to {@link #commitSettled}, after
     * looking for losses (at most once a second, unless the check is asked for now); on a sign of
     * loss, sends every partition back instead.
     */
    private void commitSafe(LossCheck check) {
        long delayNanos = commitRule.delay().toNanos();
        long cutoff = System.nanoTime() - delayNanos;
        boolean due = ledgers.values().stream().anyMatch(ledger -> ledger.hasWritesFrom(cutoff));
        if (due && (check == LossCheck.NOW || delayNanos == 0 || System.nanoTime() - nextLossCheckNanos >= 0)) {
            commitRule.lookForLosses();
            nextLossCheckNanos = System.nanoTime() + ONE_SECOND_NANOS;
            if (commitRule.lossSigns() == lossSignsSeen) {
                ledgers.values().forEach(ledger -> ledger.safeUpTo(cutoff));
            }
        }
        if (commitRule.lossSigns() != lossSignsSeen) {
            rewindAll();
        }
        commitSettled();
    }

    /** Sends every partition back to its last safe offset: now if idle, when its writer is done otherwise. */
    private void rewindAll() {
        lossSignsSeen = commitRule.lossSigns();
        ledgers.forEach((partition, ledger) -> {
            if (inFlight.containsKey(partition)) {
                ledger.rewindWhenWritten();
            } else {
                long next = rewind(partition, ledger);
                if (!ledger.waiting() && !ledger.atEnd(next)) {
                    consumer.resume(List.of(partition));
                }
            }
        });
    }

    /** Forgets {@code partition}'s writes not yet safe and seeks back to its last safe offset, which it returns. */
    private long rewind(TopicPartition partition, PartitionLedger ledger) {
        long settled = ledger.settled();
        long floor = ledger.rewind();
        if (floor != settled) {
            LOG.info("{}: storing again from offset {}", partition, floor);
        }
        consumer.seek(partition, floor);
        return floor;
    }

    /**
     * Commits the settled offsets. They stay pending until a commit succeeds, so that neither the
     * wake-up of a stop nor a passing Kafka failure loses them; a later commit covers an earlier
     * one, and at worst a record is stored again, which the message id absorbs.
     */
    private void commitSettled() {
        Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
        ledgers.forEach((partition, ledger) -> ledger.toCommit().ifPresent(offset -> uncommitted.put(partition, new OffsetAndMetadata(offset))));
        if (uncommitted.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(uncommitted);
            uncommitted.forEach((partition, offset) -> ledgers.get(partition).committed(offset.offset()));
            if (failedCommits > 0) {
                LOG.info("commit succeeded after {} failed attempts", failedCommits);
                failedCommits = 0;
            }
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            // Once, not at every poll: a rebalance fails every commit for a second or two.
            if (failedCommits++ == 0) {
                LOG.warn("commit of {} failed, will be tried again until it succeeds: {}", uncommitted, e.toString());
            }
        }
    }

    /**
     * Refreshes what the metrics read: the partitions waiting, and each partition's lag, the end
     * offset the consumer last fetched (its position plus its own lag figure) minus the last
     * committed offset. Local to the consumer: no request to the brokers.
     */
    private void refreshGauges() {
        partitionsWaiting = (int) ledgers.values().stream().filter(PartitionLedger::waiting).count();
        Map<TopicPartition, Long> now = new HashMap<>();
        for (TopicPartition partition : consumer.assignment()) {
            OptionalLong unread = consumer.currentLag(partition);
            if (unread.isPresent()) {
                long position = consumer.position(partition);
                PartitionLedger ledger = ledgers.get(partition);
                now.put(partition, position + unread.getAsLong() - (ledger == null ? position : ledger.safe()));
            }
        }
        lag = Map.copyOf(now);
    }

    /** The records of {@code batch} inside the pass's range: all of them while subscribed. */
    private static List<ConsumerRecord<byte[], byte[]>> withinRange(PartitionLedger ledger, List<ConsumerRecord<byte[], byte[]>> batch) {
        // Offsets ascend: a batch whose last record is inside the range, every one while subscribed, is kept whole, uncopied.
        return !ledger.atEnd(batch.get(batch.size() - 1).offset()) ? batch
                : batch.stream().filter(r -> !ledger.atEnd(r.offset())).toList();
    }

    /**
     * Whether a pass's range is settled: its last record, or (where the range ends in offsets that
     * hold no record, such as transaction markers) nothing pending and the consumer past its end.
     */
    private boolean rangeDone(TopicPartition partition) {
        PartitionLedger ledger = ledgers.get(partition);
        return ledger.atEnd(ledger.settled())
                || (!inFlight.containsKey(partition) && !ledger.waiting() && ledger.atEnd(consumer.position(partition)));
    }

    private void resumeWhenDue() {
        long now = System.nanoTime();
        ledgers.forEach((partition, ledger) -> {
            if (ledger.resumeIfDue(now)) {
                consumer.resume(List.of(partition));
            }
        });
    }

    private static BatchEnd outcomeOf(Future<BatchEnd> writer) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return writer.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("a writer failed outside its own error handling", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void report() {
        LOG.info("stored {}, already stored {}, dead letters {} (bounced {}), other back ends' {}, partitions waiting to retry {}",
                counts.get(StoreOutcome.STORED), counts.get(StoreOutcome.ALREADY_STORED),
                counts.get(StoreOutcome.DEAD_LETTER).get() + counts.get(StoreOutcome.BOUNCED).get(),
                counts.get(StoreOutcome.BOUNCED), counts.get(StoreOutcome.OTHER_BACKEND),
                ledgers.entrySet().stream().filter(entry -> entry.getValue().waiting()).map(Map.Entry::getKey).toList());
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            settleWriters(partitions);
            partitions.forEach(ledgers::remove);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Another worker owns them now: their writes may finish (a duplicate is harmless) but
            // commit nothing.
            partitions.forEach(inFlight::remove);
            partitions.forEach(ledgers::remove);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("assigned {}", partitions);
        }
    }
}
