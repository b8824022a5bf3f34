package org.mailstream.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;

/** The README's first command, as bin/demo runs it once it has built: the demo's own verdict, and what it shows. */
class DemoIT {

    @Test
    void theDemoStoresEveryAcceptedMailAndEachUserReadsTheirsBackOverImap() {
        Path root = Command.repositoryRoot();
        Command.Result demo = Command.of(List.of(root.resolve("bin/run-main").toString(), "demo", "Demo", root.toString()))
                .run(new byte[0], Duration.ofMinutes(5));
        assertEquals(0, demo.exitCode(), demo.toString());
        for (String row : List.of("bob        1 Plain", "bob        2 Grüße aus Köln", "alice      1 Long line", "carol      1 attachment")) {
            assertTrue(demo.stdout().contains(row), "read back over IMAP: " + row + "\n" + demo);
        }
        assertTrue(demo.stdout().contains("the malformed one bounced (5.6.0)"), demo.toString());
    }
}
