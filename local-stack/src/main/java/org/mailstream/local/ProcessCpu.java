package org.mailstream.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The CPU time a server has used, with every process it started: for each process of the tree,
 * from /proc, its own user and system time and that of the children it has reaped. A child that
 * ended is counted in its parent, a live one by itself, so a server that forks a process a
 * connection (Postfix, Dovecot) is counted whole. The difference of two readings is what the
 * tree used between them.
 */
public final class ProcessCpu {

    /** Linux reports times in clock ticks of USER_HZ, 100 a second on every architecture it runs here. */
    private static final double TICKS_PER_SECOND = 100;

    private ProcessCpu() {
    }

    /** CPU seconds used so far by {@code root} and its descendants. */
    public static double seconds(long root) {
        Map<Long, List<Long>> children = new HashMap<>();
        Map<Long, Long> ticks = new HashMap<>();
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                String[] fields = stat(p);
                if (fields != null) {
                    long pid = Long.parseLong(p.getFileName().toString());
                    children.computeIfAbsent(Long.parseLong(fields[1]), parent -> new ArrayList<>()).add(pid);
                    // utime, stime, cutime, cstime: fields 14 to 17 of proc(5), 11 to 14 after the name.
                    ticks.put(pid, Long.parseLong(fields[11]) + Long.parseLong(fields[12]) + Long.parseLong(fields[13])
                            + Long.parseLong(fields[14]));
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc", e);
        }
        long total = 0;
        Deque<Long> tree = new ArrayDeque<>(List.of(root));
        while (!tree.isEmpty()) {
            long pid = tree.pop();
            total += ticks.getOrDefault(pid, 0L);
            tree.addAll(children.getOrDefault(pid, List.of()));
        }
        return total / TICKS_PER_SECOND;
    }

    /** The fields of /proc/PID/stat after the command name, which may hold spaces; null for a process gone meanwhile. */
    private static String[] stat(Path process) {
        try {
            String stat = Files.readString(process.resolve("stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (IOException gone) {
            return null;
        }
    }
}
