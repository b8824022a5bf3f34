package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The rules of one partition's offsets, on a clock the test moves by hand. */
class PartitionLedgerTest {

    private static final long MS = 1_000_000;
    private static final long T0 = 1_000_000 * MS;

    private final PartitionLedger ledger = new PartitionLedger(0, PartitionLedger.NO_END);

    @Test
    void aWriteIsOfferedForCommitOnlyOnceItIsAsOldAsTheCutoff() {
        ledger.written(5, T0);

        ledger.safeUpTo(T0 - 1);
        assertEquals(OptionalLong.empty(), ledger.toCommit(), "written after the cutoff");
        ledger.safeUpTo(T0);
        assertEquals(OptionalLong.of(5), ledger.toCommit());
        assertEquals(5, ledger.safe());
    }

    @Test
    void writesWithinASecondBecomeSafeTogetherWhenTheLastOfThemDoes() {
        ledger.written(3, T0);
        ledger.written(6, T0 + 500 * MS);
        ledger.written(9, T0 + 1_200 * MS);

        ledger.safeUpTo(T0 + 200 * MS);
        assertEquals(OptionalLong.empty(), ledger.toCommit(), "offset 3 shares its mark with 6, written later");
        ledger.safeUpTo(T0 + 500 * MS);
        assertEquals(OptionalLong.of(6), ledger.toCommit(), "9 was written more than a second after the mark opened");
    }

    @Test
    void aRewindGoesBackToTheLastSafeOffsetAndForgetsTheWritesNotYetSafe() {
        ledger.written(5, T0);
        ledger.safeUpTo(T0);
        ledger.written(9, T0 + 2_000 * MS);

        assertEquals(5, ledger.rewind());
        assertEquals(5, ledger.settled());
        assertFalse(ledger.hasWritesNotYetSafe());
        ledger.safeUpTo(T0 + 10_000 * MS);
        assertEquals(5, ledger.safe(), "the forgotten write never becomes safe");
    }

    @Test
    void aRewindAskedForWhileABatchIsWrittenWaitsForItAndHappensOnce() {
        ledger.rewindWhenWritten();
        assertTrue(ledger.mustRewind());
        ledger.rewind();
        assertFalse(ledger.mustRewind());
    }

    @Test
    void aSafeOffsetStaysToBeCommittedUntilACommitCoversIt() {
        ledger.written(5, T0);
        ledger.safeUpTo(T0);
        ledger.written(9, T0 + 2_000 * MS);
        ledger.safeUpTo(T0 + 2_000 * MS);

        ledger.committed(5);
        assertEquals(OptionalLong.of(9), ledger.toCommit(), "a commit of an older offset leaves the newer one");
        ledger.committed(9);
        assertEquals(OptionalLong.empty(), ledger.toCommit());
    }

    @Test
    void theBackoffDoublesFromATenthOfASecondUpToItsCapAndStartsOverAfterASuccess() {
        List<Long> backoffs = Stream.generate(() -> ledger.failed(T0, 300)).limit(4).toList();
        assertEquals(List.of(100L, 200L, 300L, 300L), backoffs);

        assertTrue(ledger.succeeded(), "a success after failures is a recovery");
        assertFalse(ledger.succeeded(), "the next is not");
        assertEquals(100, ledger.failed(T0, 300));
    }

    @Test
    void aPartitionWaitsUntilItsBackoffHasPassed() {
        ledger.failed(T0, 1_000);

        assertTrue(ledger.waiting());
        assertFalse(ledger.resumeIfDue(T0 + 99 * MS));
        assertTrue(ledger.resumeIfDue(T0 + 100 * MS));
        assertFalse(ledger.waiting());
    }

    @Test
    void aBoundedRangeEndsAtItsEndAndASubscribedPartitionNever() {
        PartitionLedger range = new PartitionLedger(2, 4);

        assertFalse(range.atEnd(3));
        assertTrue(range.atEnd(4));
        assertFalse(ledger.atEnd(Long.MAX_VALUE - 1));
    }
}
