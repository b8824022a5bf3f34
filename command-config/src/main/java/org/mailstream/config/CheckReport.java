package org.mailstream.config;

import java.io.PrintStream;

/** The lines of a pre-flight check, each starting with ok, warn or FAIL; failed once any line did. */
public final class CheckReport implements Findings {

    private final PrintStream out;
    private boolean failed;

    public CheckReport(PrintStream out) {
        this.out = out;
    }

    @Override
    public void ok(String line) {
        out.println("ok    " + line);
    }

    @Override
    public void warn(String line) {
        out.println("warn  " + line);
    }

    @Override
    public void fail(String line) {
        failed = true;
        out.println("FAIL  " + line);
    }

    public boolean failed() {
        return failed;
    }
}
