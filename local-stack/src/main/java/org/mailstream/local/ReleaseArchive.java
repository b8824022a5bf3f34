package org.mailstream.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The release archive this build's package phase made, as the tests of what ships take it. */
public final class ReleaseArchive {

    private ReleaseArchive() {
    }

    /** distribution/target/mailstream-VERSION.tar.gz. */
    public static Path path() throws IOException {
        try (Stream<Path> built = Files.list(Command.repositoryRoot().resolve("distribution/target"))) {
            return built.filter(file -> file.getFileName().toString().matches("mailstream-.*\\.tar\\.gz")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no release archive in distribution/target: run mvn package"));
        }
    }
}
