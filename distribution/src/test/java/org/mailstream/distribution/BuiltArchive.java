package org.mailstream.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.mailstream.local.Command;

/** The release archive that this build's package phase made, as the tests of what ships read it. */
final class BuiltArchive {

    private BuiltArchive() {
    }

    /** distribution/target/mailstream-VERSION.tar.gz. */
    static Path path() throws IOException {
        try (Stream<Path> built = Files.list(Command.repositoryRoot().resolve("distribution/target"))) {
            return built.filter(file -> file.getFileName().toString().matches("mailstream-.*\\.tar\\.gz")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no release archive in distribution/target: run mvn package"));
        }
    }
}
