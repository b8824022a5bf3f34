package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.Slapd;

/** The real bin/imapd beside a slapd whose clock runs behind the machine's, as a directory on another host may. */
class ImapdClockIT {

    @Test
    void aFolderMadeUnderTheNameOfOneJustDeletedOrRenamedGetsAGreaterUidvalidityThoughTheDirectorysClockRunsBehindImapds() {
        try (Slapd slapd = Slapd.startWithClockBehind(Duration.ofSeconds(3))) {
            slapd.addMailbox("alice");
            try (ImapdProcess imapd = ImapdProcess.start(slapd, Map.of())) {
                String program = """
                        import imaplib, re
                        box = imaplib.IMAP4('127.0.0.1', %d)
                        box.login('alice', 'alice-secret')
                        def validity(folder):
                            typ, data = box.status(folder, '(UIDVALIDITY)')
                            return re.search(r'UIDVALIDITY (\\d+)', data[0].decode()).group(1)
                        box.create('Doomed')
                        made = validity('Doomed')
                        box.delete('Doomed')
                        box.create('Doomed')
                        remade = validity('Doomed')
                        box.rename('Doomed', 'Moved')
                        box.create('Doomed')
                        print(made, remade, validity('Doomed'), validity('Moved'))
                        """.formatted(imapd.port());
                long started = Instant.now().getEpochSecond();
                Command.Result run = Command.of(List.of("python3", "-")).run(program.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
                assertEquals(0, run.exitCode(), run + "\n" + imapd.log());
                long[] validities = Arrays.stream(run.stdout().strip().split(" ")).mapToLong(Long::parseLong).toArray();
                assertTrue(validities[0] < started - 1, "the directory's clock runs behind, and UIDVALIDITY is its second: " + run);
                assertTrue(validities[1] > validities[0], "made again after a DELETE: " + run);
                assertTrue(validities[2] > validities[1], "made again after a RENAME: " + run);
                assertEquals(validities[1], validities[3], "the renamed folder keeps its own: " + run);
            }
        }
    }
}
