package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.junit.jupiter.api.Test;

/** The replay and redrive plan: where each partition starts, and what it refuses, from what the topic holds. */
class PassPlanTest {

    private static final Instant TIME = Instant.parse("2026-11-25T10:00:00Z");

    @Test
    void fromTheEarliestOfAnIntactTopicEveryPartitionIsReadFromZeroToItsEnd() throws Exception {
        Pass pass = plan(new Pass.Start.Earliest(), Map.of(0, held(0, 10, 4L), 1, held(0, 3, null)));
        assertEquals(List.of(new Pass.Range(0, 4L, 0, 10), new Pass.Range(1, null, 0, 3)), pass.ranges);
        assertEquals(List.of(), pass.missing);
        assertEquals(13, pass.records());
    }

    @Test
    void fromTheEarliestAfterRetentionRemovedRecordsTheGoneOffsetsAreListed() throws Exception {
        Pass pass = plan(new Pass.Start.Earliest(), Map.of(0, held(5, 10, null), 1, held(0, 3, null)));
        assertEquals(List.of("partition 0: offsets 0 to 4"), pass.missing);
    }

    @Test
    void givenOffsetsBelowTheLogStartAreListedAndPartitionsNotNamedAreLeftAtTheirEnd() throws Exception {
        Pass pass = plan(new Pass.Start.AtOffsets(Map.of(0, 2L)), Map.of(0, held(5, 10, null), 1, held(0, 3, 1L)));
        assertEquals(List.of("partition 0: offsets 2 to 4"), pass.missing);
        assertEquals(new Pass.Range(1, 1L, 3, 3), pass.ranges.get(1));
    }

    @Test
    void givenOffsetsAtTheLogStartGoAheadKnowingly() throws Exception {
        Pass pass = plan(new Pass.Start.AtOffsets(Map.of(0, 5L)), Map.of(0, held(5, 10, null)));
        assertEquals(List.of(), pass.missing);
        assertEquals(new Pass.Range(0, null, 5, 10), pass.ranges.get(0));
    }

    @Test
    void anOffsetPastTheEndOrAPartitionTheTopicLacksIsABadStart() {
        assertThrows(Pass.BadStart.class, () -> plan(new Pass.Start.AtOffsets(Map.of(0, 11L)), Map.of(0, held(0, 10, null))));
        assertThrows(Pass.BadStart.class, () -> plan(new Pass.Start.AtOffsets(Map.of(7, 0L)), Map.of(0, held(0, 10, null))));
    }

    @Test
    void aTimeWhoseFirstHeldRecordIsLaterAfterRetentionIsListedAsPossiblyGone() throws Exception {
        ListOffsetsResultInfo firstHeldIsLater = new ListOffsetsResultInfo(5, TIME.toEpochMilli() + 1, Optional.empty());
        Pass pass = plan(new Pass.Start.AtTime(TIME), Map.of(0, new Pass.Held(5, 10, null, firstHeldIsLater)));
        assertEquals(List.of("partition 0: offsets before 5 may be from " + TIME + " or later"), pass.missing);
    }

    @Test
    void aTimeFoundExactlyInTheHeldRecordsStartsThereWithNothingMissing() throws Exception {
        ListOffsetsResultInfo found = new ListOffsetsResultInfo(7, TIME.toEpochMilli(), Optional.empty());
        Pass pass = plan(new Pass.Start.AtTime(TIME), Map.of(0, new Pass.Held(5, 10, null, found)));
        assertEquals(List.of(), pass.missing);
        assertEquals(new Pass.Range(0, null, 7, 10), pass.ranges.get(0));
    }

    @Test
    void aRedriveStartsAtItsCommittedOffsetAndPassesOverWhatRetentionRemovedBeforeIt() throws Exception {
        Pass pass = plan(new Pass.Start.Committed(), Map.of(0, held(5, 10, 2L), 1, held(0, 4, null)));
        assertEquals(List.of("partition 0: offsets 2 to 4"), pass.expired);
        assertEquals(List.of(), pass.missing);
        assertEquals(List.of(new Pass.Range(0, 2L, 5, 10), new Pass.Range(1, null, 0, 4)), pass.ranges);
    }

    private static Pass.Held held(long logStart, long end, Long committed) {
        return new Pass.Held(logStart, end, committed, null);
    }

    private static Pass plan(Pass.Start start, Map<Integer, Pass.Held> held) throws Pass.BadStart {
        return Pass.plan("replay", "mail.inbound", "g", start, new java.util.TreeMap<>(held));
    }
}
