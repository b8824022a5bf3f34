package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChangeCursorTest {

    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private long now;
    private final ChangeCursor cursor = new ChangeCursor(() -> now);

    @Test
    void aCursorThatHasReadNothingStartsBeforeEveryChange() {
        assertFalse(cursor.started());
        assertEquals(ChangeCursor.NO_CHANGE, cursor.from());
        cursor.read(now, null);
        assertFalse(cursor.started(), "an empty folder gives no change to start from");
    }

    @Test
    void aReadReachesTheMarginBackFromTheNewestChangeUntilThatChangeHasBeenKnownForTheMargin() {
        cursor.read(now, "20261205051000.000000Z#000000#000#000000");
        assertTrue(cursor.started());
        assertEquals("20261205050950.000000Z#000000#000#000000", cursor.from());
        now += 9 * SECOND;
        cursor.read(now, null);
        assertEquals("20261205050950.000000Z#000000#000#000000", cursor.from(), "a change that started earlier may still appear");
        now += SECOND;
        cursor.read(now, null);
        assertEquals("20261205051000.000000Z#000000#000#000000", cursor.from(), "a read began once the margin had passed");
    }

    @Test
    void aNewerChangeTakesTheReadsBackToItsMarginButNeverBeforeWhatIsKnownToBeRead() {
        cursor.read(now, "20261205051000.000000Z#000000#000#000000");
        now += 10 * SECOND;
        cursor.read(now, "20261205051004.000000Z#000000#000#000000");
        assertEquals("20261205051000.000000Z#000000#000#000000", cursor.from(), "read through the first; the second's margin reaches before it");
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
