package org.mailstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A server run privately for a test, a benchmark, the demo or the install step: one process
 * known by its pid, its output appended to a log file, stopped by SIGTERM (SIGKILL if it
 * outstays its grace) or killed with SIGKILL. One shutdown hook stops every process still
 * running when this JVM exits (SIGTERM, SIGKILL after a few seconds), so that no failed run
 * leaves a broker, a slapd or a Postfix with its children behind.
 *
 * <p>A process that daemonizes (Postfix's master) is {@linkplain #adopt adopted} by the pid it
 * writes, and then handled the same way.
 */
public final class ManagedProcess {

    private static final Set<ProcessHandle> RUNNING = ConcurrentHashMap.newKeySet();
    private static final int LOG_TAIL_CHARACTERS = 6000;

    private static final Duration GRACE_AT_EXIT = Duration.ofSeconds(5);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ManagedProcess::stopAllRunning, "stop managed processes"));
    }

    private final String name;
    private final ProcessHandle handle;
    /** The process when this JVM started it, for its exit status; null when adopted. */
    private final Process process;
    private final Path log;

    private ManagedProcess(String name, ProcessHandle handle, Process process, Path log) {
        this.name = name;
        this.handle = handle;
        this.process = process;
        this.log = log;
        RUNNING.add(handle);
        handle.onExit().thenRun(() -> RUNNING.remove(handle));
    }

    private static void stopAllRunning() {
        List<ProcessHandle> running = List.copyOf(RUNNING);
        running.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + GRACE_AT_EXIT.toNanos();
        for (ProcessHandle handle : running) {
            try {
                handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception stillRunning) {
                handle.destroyForcibly();
            }
        }
    }

    /** Starts {@code argv} with this JVM's environment, both output streams appended to {@code log}. */
    public static ManagedProcess start(String name, List<String> argv, Path log) {
        try {
            Process process = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            return new ManagedProcess(name, process.toHandle(), process, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + " (" + argv.get(0) + ")", e);
        }
    }

    /** A process that another one started, such as a daemon known by its pid file. */
    public static ManagedProcess adopt(String name, long pid, Path log) {
        ProcessHandle handle = ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException(name + ": no process " + pid));
        return new ManagedProcess(name, handle, null, log);
    }

    /**
     * Waits until {@code ready} holds; fails at once, with the log's end, if the process exits
     * first, and likewise after {@code timeout}.
     */
    public void awaitReady(Duration timeout, BooleanSupplier ready) {
        try {
            Awaitility.await(name + " ready").atMost(timeout).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                    .failFast(name + " exited", () -> !handle.isAlive())
                    .until(ready::getAsBoolean);
        } catch (ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            throw new IllegalStateException(name + " did not become ready: " + e.getMessage() + "\n" + logTail());
        }
    }

    /** SIGTERM, without waiting: to stop several at once. */
    public void requestStop() {
        handle.destroy();
    }

    /**
     * SIGTERM; SIGKILL if still running after {@code grace}, what it was waiting on written to
     * standard error first, so that a test's output says why (as systemd kills a service that
     * outlives its stop timeout). Returns once it is gone: true if SIGTERM ended it.
     */
    public boolean stop(Duration grace) {
        requestStop();
        if (awaitExit(grace)) {
            return true;
        }
        System.err.println(this + " still ran " + grace.toMillis() + " ms after SIGTERM, and is killed. Its threads waited in: "
                + waitChannels() + "; its TCP connections (a full send queue is a reply its client does not read):\n" + connections());
        kill();
        return false;
    }

    /** How many of its threads wait in each kernel function (/proc/PID/task/TID/wchan). */
    private String waitChannels() {
        try (Stream<Path> threads = Files.list(Path.of("/proc", Long.toString(pid()), "task"))) {
            return threads.map(thread -> {
                try {
                    return Files.readString(thread.resolve("wchan"));
                } catch (IOException gone) {
                    return "(gone)";
                }
            }).collect(Collectors.groupingBy(channel -> channel, TreeMap::new, Collectors.counting())).toString();
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** Its TCP connections as ss(8) shows them, with their queues. */
    private String connections() {
        try {
            Command.Result ss = Command.of(List.of("ss", "-tnp")).run(new byte[0], Duration.ofSeconds(10));
            return ss.stdout().lines().filter(line -> line.contains("pid=" + pid() + ",")).collect(Collectors.joining("\n"));
        } catch (UncheckedIOException noSs) {
            return "(ss(8) cannot be run: " + noSs.getMessage() + ")";
        }
    }

    /** SIGKILL: a crash in the middle of whatever it was doing. Returns once it is gone. */
    public void kill() {
        handle.destroyForcibly();
        if (!awaitExit(Duration.ofSeconds(30))) {
            throw new IllegalStateException(name + " (pid " + pid() + ") survived SIGKILL for 30 s");
        }
    }

    /**
     * SIGSTOP: the process hangs, answering nothing and closing nothing, as a host that froze or
     * lost its power; the kernel still accepts connections on its listening sockets.
     */
    public void pause() {
        signal("STOP");
    }

    /** SIGCONT: a paused process runs on. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String signal) {
        Command.Result sent = Command.of(List.of("kill", "-" + signal, Long.toString(pid()))).run(new byte[0], Duration.ofSeconds(10));
        if (sent.exitCode() != 0) {
            throw new IllegalStateException("cannot send SIG" + signal + " to " + name + ":\n" + sent);
        }
    }

    /** Waits up to {@code timeout} for the process to end; true if it did. */
    public boolean awaitExit(Duration timeout) {
        try {
            handle.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name, e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The exit status of a process this JVM started, once it has ended. */
    public int exitStatus() {
        if (process == null) {
            throw new IllegalStateException(name + " was adopted: its exit status belongs to its parent");
        }
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name, e);
        }
    }

    public boolean isAlive() {
        return handle.isAlive();
    }

    public long pid() {
        return handle.pid();
    }

    /** Its name and pid, as log lines and reports show it. */
    @Override
    public String toString() {
        return name + " (pid " + pid() + ")";
    }


    /** Everything the process has logged so far. */
    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The end of the log, headed by the process's name, for the message of a failure. */
    public String logTail() {
        return logTail(name, log);
    }

    /** The end of {@code log}, headed by {@code name}: for a process that is gone, or that this class never ran. */
    public static String logTail(String name, Path log) {
        try {
            String text = Files.readString(log);
            return "--- " + name + " log (" + log + ") ---\n"
                    + (text.length() > LOG_TAIL_CHARACTERS ? "..." + text.substring(text.length() - LOG_TAIL_CHARACTERS) : text);
        } catch (IOException e) {
            return "(no log for " + name + ": " + e + ")";
        }
    }
}
