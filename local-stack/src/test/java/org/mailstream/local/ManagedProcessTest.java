package org.mailstream.local;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagedProcessTest {

    @Test
    void aProcessThatIgnoresSigtermIsKilledAfterItsGraceSayingWhatItWasWaitingOn(@TempDir Path directory) {
        ManagedProcess stubborn = started("stubborn", "trap '' TERM; echo ready; while :; do sleep 1; done", directory);
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        PrintStream standardError = System.err;
        System.setErr(new PrintStream(said, true, UTF_8));
        boolean endedBySigterm;
        try {
            endedBySigterm = stubborn.stop(Duration.ofMillis(500));
        } finally {
            System.setErr(standardError);
        }
        String report = said.toString(UTF_8);
        assertFalse(endedBySigterm, report);
        assertFalse(stubborn.isAlive(), report);
        assertTrue(report.startsWith(stubborn + " still ran 500 ms after SIGTERM, and is killed. Its threads waited in: {"), report);
    }

    @Test
    void aProcessThatEndsOnSigtermIsStoppedWithoutBeingKilled(@TempDir Path directory) {
        ManagedProcess obliging = started("obliging", "echo ready; exec sleep 60", directory);
        assertTrue(obliging.stop(Duration.ofSeconds(30)));
        assertEquals(143, obliging.exitStatus(), "ended by SIGTERM (128 + 15), not SIGKILL");
    }

    private static ManagedProcess started(String name, String script, Path directory) {
        ManagedProcess process = ManagedProcess.start(name, List.of("sh", "-c", script), directory.resolve(name + ".log"));
        process.awaitReady(Duration.ofSeconds(10), () -> process.logText().contains("ready"));
        return process;
    }
}
