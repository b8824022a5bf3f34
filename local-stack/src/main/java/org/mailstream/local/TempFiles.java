package org.mailstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * Files and directories a test or a benchmark hands a command (configuration, passwords, a
 * client's Maildir), removed when the JVM ends: a run of the suite would otherwise leave
 * gigabytes of them in the temporary directory.
 */
public final class TempFiles {

    private static final List<Path> DIRECTORIES = new CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> DIRECTORIES.forEach(Chores::deleteRecursively), "temporary directories"));
    }

    private TempFiles() {
    }

    /** A new empty directory (mode 0700) whose name starts with {@code prefix}, removed with what it holds when the JVM ends. */
    public static Path directory(String prefix) {
        try {
            Path directory = Files.createTempDirectory(prefix);
            DIRECTORIES.add(directory);
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new empty file whose name starts with {@code prefix} (if not null) and ends with {@code suffix}, a process's log say. */
    public static Path file(String prefix, String suffix) {
        try {
            Path file = Files.createTempFile(prefix, suffix);
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A temporary file holding {@code content}; its name ends with {@code suffix}. */
    public static Path write(String suffix, String content) {
        try {
            return Files.writeString(file(null, suffix), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Java properties file holding {@code settings}, in key order. */
    public static Path properties(String suffix, Map<String, String> settings) {
        return write(suffix, new TreeMap<>(settings).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n")));
    }
}
