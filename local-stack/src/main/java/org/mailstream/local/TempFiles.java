package org.mailstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Files a test hands a command: configuration and password files, removed when the JVM ends. */
public final class TempFiles {

    private TempFiles() {
    }

    /** A temporary file holding {@code content}; its name ends with {@code suffix}. */
    public static Path write(String suffix, String content) {
        try {
            Path file = Files.createTempFile(null, suffix);
            file.toFile().deleteOnExit();
            return Files.writeString(file, content);
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
