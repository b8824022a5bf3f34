package org.mailstream.local;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlapdIT {

    @Test
    void aSlapdThatDiedWithoutRemovingItsPidFileIsStoppedSayingSoAndStartsAgain() {
        try (Slapd slapd = Slapd.start()) {
            long pid = slapd.pid();
            // Killed behind the fixture's back, as a crash on the way out would leave it: its pid file stays.
            Command.Result killed = Command.of(List.of("kill", "-KILL", Long.toString(pid))).run(new byte[0], Duration.ofSeconds(10));
            assertEquals(0, killed.exitCode(), killed.toString());
            ByteArrayOutputStream said = new ByteArrayOutputStream();
            PrintStream standardError = System.err;
            System.setErr(new PrintStream(said, true, UTF_8));
            try {
                slapd.stop();
            } finally {
                System.setErr(standardError);
            }
            String report = said.toString(UTF_8);
            assertTrue(report.contains("(pid " + pid + ") ended with exit status 137 and left its pid file behind"), report);
            slapd.restart();
            slapd.addMailbox("alice");
        }
    }
}
