package org.mailstream.store;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;

/**
 * How often each partition's current record has failed in a way nobody foresaw. A partition's
 * records are stored in order, so one record a partition is all there is to remember; writers of
 * different partitions count at once.
 */
final class Strikes {

    private record Failing(long offset, int count) {
    }

    private final int limit;
    private final Map<TopicPartition, Failing> failing = new ConcurrentHashMap<>();

    Strikes(int limit) {
        this.limit = limit;
    }

    /** Counts a failure of the record at {@code offset}; returns how often it has failed in a row. */
    int strike(TopicPartition partition, long offset) {
        return failing.merge(partition, new Failing(offset, 1),
                (before, now) -> before.offset() == offset ? new Failing(offset, before.count() + 1) : now).count();
    }

    /** Whether {@code count} strikes are enough to stop trying. */
    boolean out(int count) {
        return count >= limit;
    }

    int limit() {
        return limit;
    }

    /** The partition's record is settled: the next one starts with none. */
    void clear(TopicPartition partition) {
        failing.remove(partition);
    }
}
