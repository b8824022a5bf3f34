package org.mailstream.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The small things every fixture here does: waiting a moment, removing its temporary directory. */
public final class Chores {

    private Chores() {
    }

    /** Sleeps; an interruption ends the test or tool that asked, with the interrupt kept. */
    public static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Removes {@code directory} and everything below it; a leftover temporary file is harmless. */
    public static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // already gone, or never made
        }
    }
}
