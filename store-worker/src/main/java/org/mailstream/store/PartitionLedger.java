package org.mailstream.store;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.OptionalLong;

/**
 * One partition's offsets as the {@link StoreLoop} keeps them: how far its records are settled,
 * how far their writes are safe by the {@link CommitRule}, which safe offset awaits a commit, and
 * how long the partition waits after a failure. The loop's thread alone uses it; the time comes in
 * as an argument, so that the rules are tested without a consumer or a clock.
 *
 * <p>The offsets only grow, with one exception: a {@linkplain #rewind() rewind} gives back what
 * was settled past the last safe offset, because the back end may have lost those writes.
 */
final class PartitionLedger {

    /** Where a partition's range ends when it has none: while subscribed. */
    static final long NO_END = Long.MAX_VALUE;

    /** Writes within this span share one mark, so that a busy partition keeps a handful of marks, not one per batch. */
    private static final long MARK_SPAN_NANOS = Duration.ofSeconds(1).toNanos();
    private static final long FIRST_BACKOFF_MS = 100;

    /** Every record before {@code nextOffset} was written by {@code writtenAtNanos}; the mark was opened at {@code openedAtNanos}. */
    private record Mark(long nextOffset, long writtenAtNanos, long openedAtNanos) {
    }

    private final long end;
    private long settled;
    private long safe;
    /** Writes whose offsets the commit rule does not allow yet, oldest first. */
    private final ArrayDeque<Mark> notYetSafe = new ArrayDeque<>();
    private OptionalLong toCommit = OptionalLong.empty();
    private boolean rewindWhenWritten;
    /** The last backoff, 0 once a batch went through; it doubles while failures follow each other. */
    private long backoffMs;
    private OptionalLong resumeAtNanos = OptionalLong.empty();

    /** A ledger whose records from {@code start} are still to be settled, up to {@code end} exclusive. */
    PartitionLedger(long start, long end) {
        this.settled = start;
        this.safe = start;
        this.end = end;
    }

    /** The first offset not settled yet. */
    long settled() {
        return settled;
    }

    /** The first offset whose write is not known safe: where a rewind goes back to. */
    long safe() {
        return safe;
    }

    /** Whether {@code offset} lies at or past the end of a bounded pass's range. */
    boolean atEnd(long offset) {
        return offset >= end;
    }

    /** Notes that the records before {@code nextOffset} were written at {@code nowNanos}. */
    void written(long nextOffset, long nowNanos) {
        settled = nextOffset;
        Mark last = notYetSafe.peekLast();
        if (last != null && nowNanos - last.openedAtNanos() < MARK_SPAN_NANOS) {
            notYetSafe.pollLast();
            notYetSafe.addLast(new Mark(nextOffset, nowNanos, last.openedAtNanos()));
        } else {
            notYetSafe.addLast(new Mark(nextOffset, nowNanos, nowNanos));
        }
    }

    /** Whether some write made at or before {@code cutoffNanos} is not counted safe yet. */
    boolean hasWritesFrom(long cutoffNanos) {
        Mark oldest = notYetSafe.peekFirst();
        return oldest != null && oldest.writtenAtNanos() - cutoffNanos <= 0;
    }

    /** Whether some write is not counted safe yet. */
    boolean hasWritesNotYetSafe() {
        return !notYetSafe.isEmpty();
    }

    /** Counts safe every write made at or before {@code cutoffNanos}, and offers the new safe offset for a commit. */
    void safeUpTo(long cutoffNanos) {
        while (hasWritesFrom(cutoffNanos)) {
            safe = notYetSafe.pollFirst().nextOffset();
            toCommit = OptionalLong.of(safe);
        }
    }

    /** Asks for a rewind once the batch being written is done, since its writes may be lost too. */
    void rewindWhenWritten() {
        rewindWhenWritten = true;
    }

    boolean mustRewind() {
        return rewindWhenWritten;
    }

    /** Forgets the writes not yet safe and returns the last safe offset, where the partition goes on. */
    long rewind() {
        rewindWhenWritten = false;
        notYetSafe.clear();
        settled = safe;
        return safe;
    }

    /** The safe offset no commit has covered yet. */
    OptionalLong toCommit() {
        return toCommit;
    }

    /** Notes that {@code offset} was committed; a later safe offset stays to be committed. */
    void committed(long offset) {
        if (toCommit.isPresent() && toCommit.getAsLong() <= offset) {
            toCommit = OptionalLong.empty();
        }
    }

    /**
     * Notes a batch that stopped at a record that could not be stored yet, and returns how long the
     * partition waits before it tries again: 100 ms, doubling with each failure in a row up to
     * {@code maxBackoffMs}.
     */
    long failed(long nowNanos, long maxBackoffMs) {
        backoffMs = Math.min(maxBackoffMs, backoffMs == 0 ? FIRST_BACKOFF_MS : backoffMs * 2);
        resumeAtNanos = OptionalLong.of(nowNanos + backoffMs * 1_000_000);
        return backoffMs;
    }

    /** Notes a batch that went through; returns whether it ended a run of failures. */
    boolean succeeded() {
        boolean recovered = backoffMs != 0;
        backoffMs = 0;
        return recovered;
    }

    /** Whether the partition waits out a backoff. */
    boolean waiting() {
        return resumeAtNanos.isPresent();
    }

    /** Ends the wait if its time has come at {@code nowNanos}; returns whether it did. */
    boolean resumeIfDue(long nowNanos) {
        if (resumeAtNanos.isEmpty() || nowNanos - resumeAtNanos.getAsLong() < 0) {
            return false;
        }
        resumeAtNanos = OptionalLong.empty();
        return true;
    }
}
