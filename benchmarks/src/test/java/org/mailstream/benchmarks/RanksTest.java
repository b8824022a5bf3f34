package org.mailstream.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Comparator;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class RanksTest {

    private static final List<Long> ONE_TO_TWENTY = LongStream.rangeClosed(1, 20).boxed().toList();

    @Test
    void aPercentileIsTheSampleAtItsNearestRankWhateverOrderTheSamplesCameIn() {
        List<Long> shuffled = List.of(20L, 1L, 19L, 2L, 18L, 3L, 17L, 4L, 16L, 5L, 15L, 6L, 14L, 7L, 13L, 8L, 12L, 9L, 11L, 10L);
        assertEquals(19L, Ranks.percentile(shuffled, 95));
        assertEquals(18L, Ranks.percentile(shuffled, 90));
        assertEquals(20L, Ranks.percentile(shuffled, 100));
        assertEquals(1L, Ranks.percentile(shuffled, 1));
    }

    @Test
    void theMedianOfAnEvenNumberIsTheLowerOfTheMiddleTwoNotTheirAverage() {
        assertEquals(10L, Ranks.median(ONE_TO_TWENTY));
        assertEquals(2.0, Ranks.median(List.of(3.0, 1.0, 2.0)));
    }

    @Test
    void theMedianInAGivenOrderIsOneWholeSample() {
        record Run(double seconds, double cpu) {
        }
        List<Run> runs = List.of(new Run(3, 0.1), new Run(1, 0.9), new Run(2, 0.5));
        assertEquals(new Run(2, 0.5), Ranks.median(runs, Comparator.comparingDouble(Run::seconds)));
    }

    @Test
    void noSamplesOrAPercentOutsideOneToAHundredIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Ranks.median(List.<Long>of()));
        assertThrows(IllegalArgumentException.class, () -> Ranks.percentile(ONE_TO_TWENTY, 0));
        assertThrows(IllegalArgumentException.class, () -> Ranks.percentile(ONE_TO_TWENTY, 101));
    }
}
