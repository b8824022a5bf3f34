package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class StrikesTest {

    private static final TopicPartition ZERO = new TopicPartition("mail", 0);
    private static final TopicPartition ONE = new TopicPartition("mail", 1);

    @Test
    void theSameRecordFailingTheLimitInARowIsOutAndNoSoonerWhateverOtherPartitionsDo() {
        Strikes strikes = new Strikes(3);
        assertFalse(strikes.out(strikes.strike(ZERO, 7)));
        assertEquals(1, strikes.strike(ONE, 7), "partitions count apart");
        assertFalse(strikes.out(strikes.strike(ZERO, 7)));
        assertTrue(strikes.out(strikes.strike(ZERO, 7)));
    }

    @Test
    void anotherRecordOrARecordSettledStartsTheCountAgain() {
        Strikes strikes = new Strikes(2);
        strikes.strike(ZERO, 7);
        assertEquals(1, strikes.strike(ZERO, 8), "the next record of the partition");
        strikes.clear(ZERO);
        assertEquals(1, strikes.strike(ZERO, 8), "after the record was settled");
    }
}
