package org.mailstream.store;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/** What the store loop counts, for the metrics to read at each scrape, from their own thread. */
interface StoreStats {

    /** How many records had each outcome so far. */
    Map<StoreOutcome, Long> outcomes();

    /** Times a partition stopped at a record that could not be stored yet. */
    long retries();

    /** Partitions paused until their next attempt, as of the last refresh. */
    int partitionsWaiting();

    /** Each assigned partition's records not yet committed, as of the last refresh. */
    Map<TopicPartition, Long> lag();
}
