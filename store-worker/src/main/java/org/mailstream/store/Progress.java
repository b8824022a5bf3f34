package org.mailstream.store;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A pass's progress: records done of the total, records/s and the time left. On a terminal one
 * line rewritten every second; otherwise (a log, a pipe) a line every ten seconds.
 */
final class Progress {

    private final String verb;
    private final long total;
    private final LongSupplier done;
    private final PrintStream out;
    private final boolean terminal = System.console() != null;
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "progress");
        thread.setDaemon(true);
        return thread;
    });
    private final long started = System.nanoTime();

    Progress(String verb, long total, LongSupplier done, PrintStream out) {
        this.verb = verb;
        this.total = total;
        this.done = done;
        this.out = out;
    }

    void start() {
        long every = terminal ? 1 : 10;
        ticker.scheduleAtFixedRate(this::show, every, every, TimeUnit.SECONDS);
    }

    void stop() {
        ticker.shutdownNow();
        if (terminal) {
            out.println();
        }
    }

    private void show() {
        long records = done.getAsLong();
        double rate = records / Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        String left = rate > 0 ? String.format("%d:%02d", (long) ((total - records) / rate) / 60, (long) ((total - records) / rate) % 60) : "?";
        String line = String.format("%s: %d of %d records (%.0f %%), %.0f records/s, about %s left", verb, records, total,
                total == 0 ? 100.0 : 100.0 * records / total, rate, left);
        if (terminal) {
            out.print("\r" + line);
        } else {
            out.println(line);
        }
        out.flush();
    }
}
