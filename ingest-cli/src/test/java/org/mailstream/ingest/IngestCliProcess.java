package org.mailstream.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.mailstream.local.Command;

/** Runs the real bin/ingest-cli as pipe(8) would: its own process, a bare environment. */
final class IngestCliProcess {

    static final Path LAUNCHER = Command.repositoryRoot().resolve("bin/ingest-cli");

    private IngestCliProcess() {
    }

    /** A configuration file holding {@code settings}, for {@code -c}. */
    static Path config(Map<String, String> settings) {
        try {
            Path file = Files.createTempFile("ingest", ".properties");
            file.toFile().deleteOnExit();
            Files.writeString(file, new TreeMap<>(settings).entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n", "", "\n")));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Command.Result run(Path config, byte[] message, String... args) {
        return Command.likePipe(Command.argv(LAUNCHER, "-c", config, List.of(args))).run(message, Duration.ofSeconds(120));
    }
}
