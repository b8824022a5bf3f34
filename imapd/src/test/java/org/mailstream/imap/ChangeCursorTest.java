package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ChangeCursorTest {

    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private long now;
    private final ChangeCursor cursor = new ChangeCursor(() -> now);

    private static final String FIRST = "20261205051000.000000Z#000000#000#000000";
    private static final String FIRST_MARGIN = "20261205050950.000000Z#000000#000#000000";

    @Test
    void aChangesTimeIsTheProvidersClockToTheMicrosecondInUtc() {
        assertEquals(Instant.parse("2026-12-06T20:15:00.123456Z"), ChangeCursor.time("20261206201500.123456Z#000000#001#000000"));
    }

    @Test
    void aCursorThatHasReadNothingStartsBeforeEveryChange() {
        assertFalse(cursor.started());
        assertEquals(ChangeCursor.NO_CHANGE, cursor.from());
        cursor.read(now, ChangeCursor.NO_CHANGE, null);
        assertFalse(cursor.started(), "an empty folder gives no change to start from");
    }

    @Test
    void aReadReachesTheMarginBackEveryThreeSecondsAndStartsAtTheNewestChangeInBetween() {
        cursor.read(now, ChangeCursor.NO_CHANGE, FIRST);
        assertTrue(cursor.started());
        now += SECOND;
        assertEquals(FIRST, cursor.from(), "the margin was read a second ago");
        assertEquals(FIRST_MARGIN, cursor.marginStart(), "where a read that must reach back the margin starts, due or not");
        cursor.read(now, FIRST, null);
        now += 2 * SECOND;
        assertEquals(FIRST_MARGIN, cursor.from(), "a change that started earlier may have appeared since");
    }

    @Test
    void aReadOfTheMarginThatBeginsOnceTheNewestChangeHasBeenKnownForTheMarginReadsThroughIt() {
        cursor.read(now, ChangeCursor.NO_CHANGE, FIRST);
        now += 9 * SECOND;
        cursor.read(now, cursor.from(), null);
        now += 3 * SECOND;
        assertEquals(FIRST_MARGIN, cursor.from(), "the read at 9 s began before the margin had passed");
        cursor.read(now, FIRST_MARGIN, null);
        now += 3 * SECOND;
        assertEquals(FIRST, cursor.from(), "the read at 12 s began once the margin had passed");
    }

    @Test
    void aReadFromTheNewestChangeNeverSaysThatWhatWentBeforeItHasBeenRead() {
        cursor.read(now, ChangeCursor.NO_CHANGE, FIRST);
        now += 11 * SECOND;
        cursor.read(now, FIRST, null);
        assertEquals(FIRST_MARGIN, cursor.from());
    }

    @Test
    void aNewerChangeTakesTheReadsBackToItsMarginButNeverBeforeWhatIsKnownToBeRead() {
        cursor.read(now, ChangeCursor.NO_CHANGE, FIRST);
        now += 10 * SECOND;
        cursor.read(now, cursor.from(), "20261205051004.000000Z#000000#000#000000");
        now += 3 * SECOND;
        assertEquals(FIRST, cursor.from(), "read through the first; the second's margin reaches before it");
        cursor.reset();
        assertFalse(cursor.started());
    }

    @Test
    void theMarginCrossesAYearsEndAndSortsBeforeEveryChangeOfThatMomentOnAnyProvider() {
        assertEquals("20261231235955.500000Z#000000#000#000000",
                ChangeCursor.before("20270101000005.500000Z#000003#001#000000", Duration.ofSeconds(10)));
        String from = ChangeCursor.before("20261205051003.123456Z#000000#002#000000", Duration.ZERO);
        assertTrue(from.compareTo("20261205051003.123456Z#000000#001#000000") <= 0);
    }
}
