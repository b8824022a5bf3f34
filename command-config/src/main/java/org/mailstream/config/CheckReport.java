package org.mailstream.config;

import java.io.PrintStream;

/** The lines of a pre-flight check, each starting with ok, warn or FAIL; failed once any line did. */
public final class CheckReport {

    private final PrintStream out;
    private boolean failed;

    public CheckReport(PrintStream out) {
        this.out = out;
    }

    public void ok(String line) {
        out.println("ok    " + line);
    }

    public void warn(String line) {
        out.println("warn  " + line);
    }

    public void fail(String line) {
        failed = true;
        out.println("FAIL  " + line);
    }

    /** {@code ok} when {@code passed}, {@code failure} as a failure otherwise. */
    public void report(boolean passed, String ok, String failure) {
        if (passed) {
            ok(ok);
        } else {
            fail(failure);
        }
    }

    public boolean failed() {
        return failed;
    }
}
