package org.mailstream.local;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real command as a separate process, feeds it standard input, and keeps both output
 * streams, which {@link Result#toString()} prints so that a failed assertion shows them.
 */
public final class Command {

    private final List<String> argv;
    private final Map<String, String> environment;

    private Command(List<String> argv, Map<String, String> environment) {
        this.argv = List.copyOf(argv);
        this.environment = environment;
    }

    /**
     * {@code argv} with the environment pipe(8) gives a command: nothing but TZ and LANG (and
     * MAIL_CONFIG, which we do not need), so no PATH, no HOME, no JAVA_HOME.
     */
    public static Command likePipe(List<String> argv) {
        return new Command(argv, Map.of("TZ", "UTC", "LANG", "C.UTF-8"));
    }

    /** {@code argv} with this process's environment. */
    public static Command of(List<String> argv) {
        return new Command(argv, null);
    }

    public Result run(byte[] stdin, Duration timeout) {
        try {
            Path stdout = Files.createTempFile("command", ".out");
            Path stderr = Files.createTempFile("command", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(argv)
                        .redirectOutput(stdout.toFile())
                        .redirectError(stderr.toFile());
                if (environment != null) {
                    builder.environment().clear();
                    builder.environment().putAll(environment);
                }
                long started = System.nanoTime();
                Process process = builder.start();
                Thread feeder = new Thread(() -> feed(process, stdin), "stdin of " + argv.get(0));
                feeder.start();
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor();
                    feeder.join();
                    return new Result(argv, -1, Files.readString(stdout), Files.readString(stderr) + "\n(killed after " + timeout + ")",
                            Duration.ofNanos(System.nanoTime() - started));
                }
                Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                feeder.join();
                return new Result(argv, process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                        Files.readString(stderr, StandardCharsets.UTF_8), elapsed);
            } finally {
                Files.deleteIfExists(stdout);
                Files.deleteIfExists(stderr);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + argv, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + argv, e);
        }
    }

    /** A command that stops reading early is not an error here: its exit status tells. */
    private static void feed(Process process, byte[] stdin) {
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin);
        } catch (IOException ignoredBrokenPipe) {
            // the command closed its standard input; its exit status says what that meant
        }
    }

    /** What a command did: exit status, both output streams and how long it took. */
    public record Result(List<String> argv, int exitCode, String stdout, String stderr, Duration elapsed) {

        @Override
        public String toString() {
            return "command: " + String.join(" ", argv) + "\nexit status: " + exitCode + " after " + elapsed.toMillis()
                    + " ms\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr + "\n---";
        }
    }

    /** The repository's root: the nearest directory above the working directory with bin/. */
    public static Path repositoryRoot() {
        for (File dir = new File("").getAbsoluteFile(); dir != null; dir = dir.getParentFile()) {
            if (new File(dir, "bin/ingest-cli").isFile()) {
                return dir.toPath();
            }
        }
        throw new IllegalStateException("no bin/ingest-cli above " + new File("").getAbsolutePath());
    }

    public static List<String> argv(Object... parts) {
        List<String> argv = new ArrayList<>();
        for (Object part : parts) {
            if (part instanceof List<?> list) {
                list.forEach(p -> argv.add(p.toString()));
            } else {
                argv.add(part.toString());
            }
        }
        return argv;
    }
}
