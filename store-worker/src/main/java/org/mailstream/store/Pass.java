package org.mailstream.store;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * One bounded pass over a topic as a consumer group, for replay and redrive: a plan (where each
 * partition starts and ends), checked against what the topic still holds and against the group
 * being idle, printed in the manner of kafka-consumer-groups --reset-offsets, and run only when
 * asked to, with progress and a summary.
 */
final class Pass {

    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    /** Where a pass starts in each partition. */
    sealed interface Start {
        /** The first record the topic holds; the records before it are gone if it is not offset 0. */
        record Earliest() implements Start {
        }

        /** The first record with a timestamp at or after {@code time}. */
        record AtTime(Instant time) implements Start {
        }

        /** Given offsets of given partitions; the other partitions are left out. */
        record AtOffsets(Map<Integer, Long> offsets) implements Start {
        }

        /** The group's committed offset, or the first record held when it has none (redrive). */
        record Committed() implements Start {
        }
    }

    /** A start the topic cannot give: a partition it lacks, an offset past its end. */
    static final class BadStart extends Exception {
        private static final long serialVersionUID = 1L;

        BadStart(String message) {
            super(message);
        }
    }

    /** One partition's part of a pass: {@code from} up to, not including, {@code until}. */
    record Range(int partition, Long committed, long from, long until) {
        long records() {
            return Math.max(0, until - from);
        }
    }

    private final String verb;
    private final String topic;
    private final String group;
    final List<Range> ranges;
    /** What the pass would need that the topic no longer holds, one line a partition. */
    final List<String> missing;
    /** What a redrive passes over because retention removed it first, one line a partition. */
    final List<String> expired;

    private Pass(String verb, String topic, String group, List<Range> ranges, List<String> missing, List<String> expired) {
        this.verb = verb;
        this.topic = topic;
        this.group = group;
        this.ranges = ranges;
        this.missing = missing;
        this.expired = expired;
    }

    /**
     * Runs {@code verb} (replay, redrive) over {@code topic} as {@code group}: refuses while the
     * group has active members or when the topic no longer holds what the start asks for; prints
     * the plan; then, with {@code execute}, stores every record of it. Returns the exit status.
     */
    static WorkerExit run(String verb, StoreConfig config, String topic, String group, Start start,
            RecordStorer.WhenStored whenStored, boolean execute, PrintStream out) throws Exception {
        // Opened first, so that an unreadable password or trust file is reported before any Kafka call. Without
        // metrics: a pass prints its progress, and runs beside the worker, whose metrics.listen it would contend for.
        // Bounces from redrive only: a replay stores again what a worker has settled, bounced or not, before.
        try (StoreSession session = execute ? new StoreSession(config, topic, group, whenStored, "", verb.equals("redrive"))
                : null) {
            Pass pass;
            try (Admin admin = Admin.create(config.adminSettings())) {
                Collection<MemberDescription> members = activeMembers(admin, group);
                if (!members.isEmpty()) {
                    out.println("store-worker " + verb + ": group " + group + " has " + members.size() + " active member(s) ("
                            + members.stream().map(m -> m.clientId() + " on " + m.host()).collect(Collectors.joining(", "))
                            + "); stop them first, since two consumers of one partition would break its order");
                    return WorkerExit.TEMPORARY;
                }
                pass = plan(verb, admin, topic, group, start);
            } catch (BadStart e) {
                out.println("store-worker " + verb + ": " + e.getMessage());
                return WorkerExit.USAGE;
            } catch (ExecutionException | TimeoutException e) {
                out.println("store-worker " + verb + ": Kafka: " + (e instanceof ExecutionException ? e.getCause() : e));
                return WorkerExit.TEMPORARY;
            }
            pass.print(out);
            if (!pass.expired.isEmpty()) {
                out.println();
                out.println("Removed by retention before a " + verb + " read them, and so passed over:");
                pass.expired.forEach(line -> out.println("  " + line));
            }
            if (!pass.missing.isEmpty()) {
                out.println();
                out.println("The topic no longer holds records this " + verb + " asks for (removed by retention or deleteRecords):");
                pass.missing.forEach(line -> out.println("  " + line));
                out.println("Nothing changed. To go ahead without them, give --from-offsets with the first offsets held.");
                return WorkerExit.DATA_GONE;
            }
            if (session == null) {
                out.println();
                out.println("Dry run: nothing changed. Add --execute to " + verb + " these " + pass.records() + " records.");
                return WorkerExit.DONE;
            }
            pass.execute(session.loop(), out);
            if (!session.loop().allCommitted()) {
                out.println("store-worker " + verb + ": the records are stored, but group " + group + " refused the last offsets "
                        + "(did a worker join it meanwhile?); its workers will store some records again, which is harmless");
                return WorkerExit.TEMPORARY;
            }
            return WorkerExit.DONE;
        }
    }

    private static Collection<MemberDescription> activeMembers(Admin admin, String group) throws Exception {
        try {
            return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS).members();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return List.of();
            }
            throw e;
        }
    }

    /** What the topic and the group hold for one partition, as the plan needs it. */
    record Held(long logStart, long end, Long committed, ListOffsetsResultInfo atTime) {
    }

    /** Reads what the plan needs from Kafka, then plans. */
    private static Pass plan(String verb, Admin admin, String topic, String group, Start start) throws Exception {
        List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                .get(topic).partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        Map<TopicPartition, ListOffsetsResultInfo> logStarts = offsets(admin, partitions, p -> OffsetSpec.earliest());
        Map<TopicPartition, ListOffsetsResultInfo> ends = offsets(admin, partitions, p -> OffsetSpec.latest());
        Map<TopicPartition, ListOffsetsResultInfo> atTime = start instanceof Start.AtTime at
                ? offsets(admin, partitions, p -> OffsetSpec.forTimestamp(at.time().toEpochMilli())) : Map.of();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                .get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        Map<Integer, Held> held = new TreeMap<>();
        for (TopicPartition partition : partitions) {
            OffsetAndMetadata groupOffset = committed.get(partition);
            held.put(partition.partition(), new Held(logStarts.get(partition).offset(), ends.get(partition).offset(),
                    groupOffset == null ? null : groupOffset.offset(), atTime.get(partition)));
        }
        return plan(verb, topic, group, start, held);
    }

    /**
     * Where each partition's range starts and ends, from what the topic and the group {@code held}
     * (by partition number), and what the start asks for that the topic no longer holds.
     */
    static Pass plan(String verb, String topic, String group, Start start, Map<Integer, Held> held) throws BadStart {
        List<Range> ranges = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> expired = new ArrayList<>();
        for (Map.Entry<Integer, Held> entry : held.entrySet()) {
            int partition = entry.getKey();
            long logStart = entry.getValue().logStart();
            long end = entry.getValue().end();
            Long current = entry.getValue().committed();
            long from;
            if (start instanceof Start.AtTime at) {
                ListOffsetsResultInfo found = entry.getValue().atTime();
                from = found.offset() < 0 ? end : found.offset();
                // Records older than the first one held may have been at or after the time asked for.
                boolean firstHeldIsLater = found.offset() < 0 || found.timestamp() > at.time().toEpochMilli();
                if (logStart > 0 && from == logStart && firstHeldIsLater) {
                    missing.add("partition " + partition + ": offsets before " + logStart + " may be from "
                            + at.time() + " or later");
                }
            } else if (start instanceof Start.AtOffsets given) {
                from = given.offsets().getOrDefault(partition, end);
                if (from > end) {
                    throw new BadStart("partition " + partition + " ends at offset " + end + ", not " + from);
                }
                if (from < logStart) {
                    missing.add("partition " + partition + ": offsets " + from + " to " + (logStart - 1));
                }
            } else if (start instanceof Start.Committed) {
                long wanted = current == null ? 0 : current;
                from = Math.max(wanted, logStart);
                if (wanted < logStart) {
                    expired.add("partition " + partition + ": offsets " + wanted + " to " + (logStart - 1));
                }
            } else {
                from = logStart;
                if (logStart > 0) {
                    missing.add("partition " + partition + ": offsets 0 to " + (logStart - 1));
                }
            }
            ranges.add(new Range(partition, current, from, end));
        }
        if (start instanceof Start.AtOffsets given) {
            for (int partition : given.offsets().keySet()) {
                if (!held.containsKey(partition)) {
                    throw new BadStart(topic + " has no partition " + partition);
                }
            }
        }
        return new Pass(verb, topic, group, ranges, missing, expired);
    }

    private static Map<TopicPartition, ListOffsetsResultInfo> offsets(Admin admin, List<TopicPartition> partitions,
            Function<TopicPartition, OffsetSpec> spec) throws Exception {
        return admin.listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, spec)))
                .all().get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    long records() {
        return ranges.stream().mapToLong(Range::records).sum();
    }

    private void print(PrintStream out) {
        out.printf("%-28s %-28s %9s %14s %10s %10s %10s%n", "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET",
                "END-OFFSET", "RECORDS");
        for (Range range : ranges) {
            out.printf("%-28s %-28s %9d %14s %10d %10d %10d%n", group, topic, range.partition(),
                    range.committed() == null ? "-" : range.committed(), range.from(), range.until(), range.records());
        }
    }

    private void execute(StoreLoop loop, PrintStream out) {
        Map<TopicPartition, Long> from = new TreeMap<>(Comparator.comparingInt(TopicPartition::partition));
        Map<TopicPartition, Long> until = new TreeMap<>(Comparator.comparingInt(TopicPartition::partition));
        for (Range range : ranges) {
            from.put(new TopicPartition(topic, range.partition()), range.from());
            until.put(new TopicPartition(topic, range.partition()), range.until());
        }
        Progress progress = new Progress(verb, records(), loop::settledRecords, System.err);
        progress.start();
        long started = System.nanoTime();
        try {
            loop.pass(from, until);
        } finally {
            progress.stop();
        }
        double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        out.printf("%n%s: %d records in %.1f s (%.0f records/s): %s%n", verb, loop.settledRecords(), seconds,
                loop.settledRecords() / seconds, loop.outcomes().entrySet().stream()
                        .map(e -> e.getKey().name().toLowerCase().replace('_', ' ') + " " + e.getValue())
                        .collect(Collectors.joining(", ")));
    }
}
