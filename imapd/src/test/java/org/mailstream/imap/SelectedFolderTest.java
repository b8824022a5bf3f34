package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SelectedFolderTest {

    @Test
    void anIncrementalReadReachesBackTheMarginAcrossAYearsEnd() {
        assertEquals("20261231235955.500000Z#000000#000#000000",
                SelectedFolder.before("20270101000005.500000Z#000003#001#000000", Duration.ofSeconds(10)));
    }

    @Test
    void theChangeAMarginBackSortsBeforeEveryChangeOfThatMomentOnAnyProvider() {
        String newest = "20261205051003.123456Z#000000#002#000000";
        String from = SelectedFolder.before(newest, Duration.ZERO);
        assertTrue(from.compareTo("20261205051003.123456Z#000000#001#000000") <= 0);
        assertTrue(from.compareTo(newest) <= 0);
    }
}
