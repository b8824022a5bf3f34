package org.mailstream.store;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
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
 */
final class StoreLoop {

    private static final Logger LOG = LoggerFactory.getLogger(StoreLoop.class);
    private static final Duration POLL = Duration.ofMillis(100);
    /** While writers are busy the loop must notice soon that one is done, or its connection idles. */
    private static final Duration POLL_WHILE_WRITING = Duration.ofMillis(5);
    private static final long FIRST_BACKOFF_MS = 100;
    private static final long REPORT_EVERY_NANOS = Duration.ofSeconds(10).toNanos();
    private static final long ONE_SECOND_NANOS = Duration.ofSeconds(1).toNanos();

    /** Where one partition's batch got to: the first offset not settled, and why it stopped there. */
    private record Progress(long nextOffset, String retryReason) {
    }

    private record Waiting(long resumeAtNanos, long backoffMs) {
    }

    /** Every record before {@code nextOffset} was written by {@code writtenAtNanos}; marks made within a second share one. */
    private record Written(long nextOffset, long writtenAtNanos, long openedAtNanos) {
    }

    /** Stores one record, as {@link RecordStorer#store} does: an outcome, or RetryLater when nothing about it is settled. */
    @FunctionalInterface
    interface Storer {
        RecordStorer.Outcome store(ConsumerRecord<byte[], byte[]> record) throws RecordStorer.RetryLater;
    }

    private final Consumer<byte[], byte[]> consumer;
    private final Storer storer;
    private final CommitRule commitRule;
    private final ExecutorService writers;
    private final String topic;
    private final long maxBackoffMs;
    private final Map<TopicPartition, Future<Progress>> inFlight = new HashMap<>();
    private final Map<TopicPartition, Waiting> waiting = new HashMap<>();
    private final Map<TopicPartition, Long> lastBackoffMs = new HashMap<>();
    private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
    /** Commits failed in a row; the first is logged, the success that ends them too. */
    private int failedCommits;
    private final Map<RecordStorer.Outcome, AtomicLong> counts = new HashMap<>();
    /** The end of each range of a bounded pass, exclusive; empty while subscribed. */
    private final Map<TopicPartition, Long> ends = new HashMap<>();
    private final Map<TopicPartition, Long> settled = new HashMap<>();
    /** Writes whose offsets the commit rule does not allow yet, oldest first. */
    private final Map<TopicPartition, ArrayDeque<Written>> notYetSafe = new HashMap<>();
    /** Where each partition goes back to when writes may have been lost: its last offset known safe. */
    private final Map<TopicPartition, Long> safe = new HashMap<>();
    /** Partitions to send back once their writer is done, since writes may have been lost meanwhile. */
    private final Set<TopicPartition> mustRewind = new HashSet<>();
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
        for (RecordStorer.Outcome outcome : RecordStorer.Outcome.values()) {
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
        ends.putAll(until);
        settled.putAll(from);
        safe.putAll(from);
        consumer.assign(from.keySet());
        from.forEach(consumer::seek);
        consumer.pause(from.keySet().stream().filter(p -> atEnd(p, from.get(p))).toList());
        loop(() -> ends.keySet().stream().allMatch(this::rangeDone));
    }

    /** Records settled so far: stored, found stored, dead-lettered or passed over. */
    long settledRecords() {
        return counts.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Times a partition stopped at a record that could not be stored yet. */
    long retries() {
        return retries.get();
    }

    /** Partitions paused until their next attempt, as of the last refresh. */
    int partitionsWaiting() {
        return partitionsWaiting;
    }

    /** Each assigned partition's records not yet committed, as of the last refresh. */
    Map<TopicPartition, Long> lag() {
        return lag;
    }

    /** Whether every settled offset has been committed: false when the last commits failed. */
    boolean allCommitted() {
        return uncommitted.isEmpty();
    }

    /** How many records had each outcome so far. */
    Map<RecordStorer.Outcome, Long> outcomes() {
        Map<RecordStorer.Outcome, Long> snapshot = new EnumMap<>(RecordStorer.Outcome.class);
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
                    safe.putIfAbsent(partition, records.records(partition).get(0).offset());
                    List<ConsumerRecord<byte[], byte[]>> batch = withinRange(partition, records.records(partition));
                    consumer.pause(List.of(partition));
                    if (!batch.isEmpty()) {
                        inFlight.put(partition, writers.submit(() -> storeInOrder(batch)));
                    }
                }
                settle(new ArrayList<>(inFlight.keySet()), false);
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
                settle(new ArrayList<>(inFlight.keySet()), true);
            } catch (WakeupException stopArrivedAfterPoll) {
                // The wake-up is spent now, and the settled offsets are still pending.
                commitSettled();
            }
            if (notYetSafe.values().stream().anyMatch(marks -> !marks.isEmpty())) {
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

    private Progress storeInOrder(List<ConsumerRecord<byte[], byte[]>> batch) {
        for (ConsumerRecord<byte[], byte[]> record : batch) {
            try {
                counts.get(storer.store(record)).incrementAndGet();
            } catch (RecordStorer.RetryLater e) {
                return new Progress(record.offset(), e.getMessage());
            } catch (RuntimeException e) {
                return new Progress(record.offset(), "unexpected " + e);
            }
        }
        return new Progress(batch.get(batch.size() - 1).offset() + 1, null);
    }

    /** Commits what the finished (or, with {@code wait}, all) writers of {@code partitions} settled and the rule allows. */
    private void settle(Collection<TopicPartition> partitions, boolean wait) {
        for (TopicPartition partition : partitions) {
            Future<Progress> writer = inFlight.get(partition);
            if (writer == null || (!wait && !writer.isDone())) {
                continue;
            }
            Progress progress = outcomeOf(writer);
            if (commitRule.lossSigns() != lossSignsSeen) {
                rewindAll();
            }
            inFlight.remove(partition);
            long next = mustRewind.remove(partition) ? rewind(partition) : written(partition, progress.nextOffset());
            if (progress.retryReason() == null) {
                if (lastBackoffMs.remove(partition) != null) {
                    LOG.info("{}: storing again", partition);
                }
                if (!atEnd(partition, next)) {
                    consumer.resume(List.of(partition));
                }
            } else {
                consumer.seek(partition, next);
                long backoff = Math.min(maxBackoffMs, lastBackoffMs.getOrDefault(partition, FIRST_BACKOFF_MS / 2) * 2);
                lastBackoffMs.put(partition, backoff);
                retries.incrementAndGet();
                waiting.put(partition, new Waiting(System.nanoTime() + backoff * 1_000_000, backoff));
                LOG.warn("{}: offset {} not stored, retrying in {} ms: {}", partition, progress.nextOffset(), backoff,
                        progress.retryReason());
            }
        }
        commitSafe(wait);
    }

    /** Notes that {@code partition} is stored up to {@code nextOffset}, now; returns where it goes on. */
    private long written(TopicPartition partition, long nextOffset) {
        settled.put(partition, nextOffset);
        long now = System.nanoTime();
        ArrayDeque<Written> marks = notYetSafe.computeIfAbsent(partition, p -> new ArrayDeque<>());
        Written last = marks.peekLast();
        if (last != null && now - last.openedAtNanos() < ONE_SECOND_NANOS) {
            marks.pollLast();
            marks.addLast(new Written(nextOffset, now, last.openedAtNanos()));
        } else {
            marks.addLast(new Written(nextOffset, now, now));
        }
        return nextOffset;
    }

    /**
     * Hands the offsets whose writes the rule now counts safe to {@link #commitSettled}, after
     * looking for losses (at most once a second, unless {@code now} is asked for: a revocation
     * or the stop); on a sign of loss, sends every partition back instead.
     */
    private void commitSafe(boolean now) {
        long delayNanos = commitRule.delay().toNanos();
        long cutoff = System.nanoTime() - delayNanos;
        boolean due = notYetSafe.values().stream().anyMatch(marks -> !marks.isEmpty() && marks.peekFirst().writtenAtNanos() - cutoff <= 0);
        if (due && (now || delayNanos == 0 || System.nanoTime() - nextLossCheckNanos >= 0)) {
            commitRule.lookForLosses();
            nextLossCheckNanos = System.nanoTime() + ONE_SECOND_NANOS;
            if (commitRule.lossSigns() == lossSignsSeen) {
                notYetSafe.forEach((partition, marks) -> {
                    Written safeNow = null;
                    while (!marks.isEmpty() && marks.peekFirst().writtenAtNanos() - cutoff <= 0) {
                        safeNow = marks.pollFirst();
                    }
                    if (safeNow != null) {
                        uncommitted.put(partition, new OffsetAndMetadata(safeNow.nextOffset()));
                        safe.put(partition, safeNow.nextOffset());
                    }
                });
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
        for (TopicPartition partition : List.copyOf(safe.keySet())) {
            if (inFlight.containsKey(partition)) {
                mustRewind.add(partition);
            } else {
                long next = rewind(partition);
                if (!waiting.containsKey(partition) && !atEnd(partition, next)) {
                    consumer.resume(List.of(partition));
                }
            }
        }
    }

    /** Forgets {@code partition}'s writes not yet safe and seeks back to its last safe offset, which it returns. */
    private long rewind(TopicPartition partition) {
        notYetSafe.remove(partition);
        long floor = safe.get(partition);
        if (!Long.valueOf(floor).equals(settled.get(partition))) {
            LOG.info("{}: storing again from offset {}", partition, floor);
        }
        consumer.seek(partition, floor);
        settled.put(partition, floor);
        return floor;
    }

    /**
     * Commits the settled offsets. They stay pending until a commit succeeds, so that neither the
     * wake-up of a stop nor a passing Kafka failure loses them; a later commit covers an earlier
     * one, and at worst a record is stored again, which the message id absorbs.
     */
    private void commitSettled() {
        if (uncommitted.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(uncommitted);
            uncommitted.clear();
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
        partitionsWaiting = waiting.size();
        Map<TopicPartition, Long> now = new HashMap<>();
        for (TopicPartition partition : consumer.assignment()) {
            OptionalLong unread = consumer.currentLag(partition);
            if (unread.isPresent()) {
                long position = consumer.position(partition);
                now.put(partition, position + unread.getAsLong() - safe.getOrDefault(partition, position));
            }
        }
        lag = Map.copyOf(now);
    }

    /** The records of {@code batch} inside the pass's range: all of them while subscribed. */
    private List<ConsumerRecord<byte[], byte[]>> withinRange(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> batch) {
        Long end = ends.get(partition);
        return end == null ? batch : batch.stream().filter(r -> r.offset() < end).toList();
    }

    /**
     * Whether a pass's range is settled: its last record, or (where the range ends in offsets that
     * hold no record, such as transaction markers) nothing pending and the consumer past its end.
     */
    private boolean rangeDone(TopicPartition partition) {
        return atEnd(partition, settled.get(partition)) || (!inFlight.containsKey(partition) && !waiting.containsKey(partition)
                && atEnd(partition, consumer.position(partition)));
    }

    private boolean atEnd(TopicPartition partition, long offset) {
        Long end = ends.get(partition);
        return end != null && offset >= end;
    }

    private void resumeWhenDue() {
        long now = System.nanoTime();
        waiting.entrySet().removeIf(entry -> {
            if (now - entry.getValue().resumeAtNanos() < 0) {
                return false;
            }
            consumer.resume(List.of(entry.getKey()));
            return true;
        });
    }

    private static Progress outcomeOf(Future<Progress> writer) {
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
                counts.get(RecordStorer.Outcome.STORED), counts.get(RecordStorer.Outcome.ALREADY_STORED),
                counts.get(RecordStorer.Outcome.DEAD_LETTER).get() + counts.get(RecordStorer.Outcome.BOUNCED).get(),
                counts.get(RecordStorer.Outcome.BOUNCED), counts.get(RecordStorer.Outcome.OTHER_BACKEND), waiting.keySet());
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            settle(partitions, true);
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Another worker owns them now: their writes may finish (a duplicate is harmless) but
            // commit nothing.
            partitions.forEach(inFlight::remove);
            forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("assigned {}", partitions);
        }

        private void forget(Collection<TopicPartition> partitions) {
            partitions.forEach(p -> {
                waiting.remove(p);
                lastBackoffMs.remove(p);
                uncommitted.remove(p);
                notYetSafe.remove(p);
                safe.remove(p);
                mustRewind.remove(p);
            });
        }
    }
}
