package org.mailstream.config;

/**
 * Where a check tells what it finds, a line each: a {@link CheckReport} prints every line for an
 * operator; a program that starts may log the warnings and refuse at the first failure. So one
 * check serves the check command and the start alike.
 */
public interface Findings {

    void ok(String line);

    void warn(String line);

    void fail(String line);

    /** {@code ok} when {@code passed}, {@code failure} as a failure otherwise. */
    default void report(boolean passed, String ok, String failure) {
        if (passed) {
            ok(ok);
        } else {
            fail(failure);
        }
    }
}
