package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.Slapd;

/**
 * IDLE as the directory drives it: a session idling on a folder, on one imapd, while mail is
 * appended through another imapd (so that no session of the first asks the idler to look). With
 * syncprov loaded, as replication loads it, slapd tells the session of the change; a back end set
 * up from Debian's stock configuration has no syncprov, and the session looks at its interval.
 */
class ImapdIdleIT {

    /** Looks at this interval would read the folder about twelve times in the quiet three seconds. */
    private static final String POLL_MS = "250";

    @Test
    void anIdlingSessionReadsItsFolderOnlyWhenTheDirectoryTellsOfAChange() throws IOException {
        try (Slapd slapd = Slapd.start()) {
            JsonNode idled = idleWhileAnotherImapdAppends(slapd);
            assertEquals(0, idled.get("quietReads").asInt(), "no read while nothing changed: " + idled);
            assertEquals("* 2 EXISTS", idled.get("heard").asText(), idled.toString());
            assertTrue(idled.get("looks").get("told").asInt() >= 1, idled.toString());
            assertEquals(0, idled.get("looks").get("interval").asInt(), idled.toString());
            System.out.printf("IDLE told by slapd: the appended mail's EXISTS came %s s after the APPEND was sent%n", idled.get("after"));
        }
    }

    @Test
    void whereTheDirectoryCannotTellOfChangesAnIdlingSessionLooksEveryInterval() throws IOException {
        try (Slapd slapd = Slapd.startFromDebianPackageConfiguration()) {
            JsonNode idled = idleWhileAnotherImapdAppends(slapd);
            assertTrue(idled.get("quietReads").asInt() >= 5, "a read every 250 ms: " + idled);
            assertEquals("* 2 EXISTS", idled.get("heard").asText(), idled.toString());
            assertEquals(0, idled.get("looks").get("told").asInt(), idled.toString());
            assertTrue(idled.get("looks").get("interval").asInt() >= 5, idled.toString());
        }
    }

    /**
     * carol's folder Watched, made with one message through a second imapd; a session of hers
     * idling on it through the first (imap.idle.poll.ms 250), its folder reads counted over three
     * quiet seconds; then a message appended through the second: the first line the idler hears,
     * how long after, and its looks by cause.
     */
    private static JsonNode idleWhileAnotherImapdAppends(Slapd slapd) throws IOException {
        slapd.addMailbox("carol");
        int metricsPort = FreePort.next();
        try (ImapdProcess watching = ImapdProcess.start(slapd, Map.of("imap.idle.poll.ms", POLL_MS, "metrics.listen",
                "127.0.0.1:" + metricsPort)); ImapdProcess writing = ImapdProcess.start(slapd, Map.of())) {
            String program = """
                    import imaplib, json, re, time, urllib.request
                    def metric(name, label=''):
                        text = urllib.request.urlopen('http://127.0.0.1:%d/metrics', timeout=10).read().decode()
                        return int(sum(float(line.split()[-1]) for line in text.splitlines()
                                       if line.startswith(name) and label in line))
                    def login(port):
                        box = imaplib.IMAP4('127.0.0.1', port)
                        box.login('carol', 'carol-secret')
                        return box
                    writer = login(%d)
                    writer.create('Watched')
                    writer.append('Watched', None, None, b'Subject: first\\r\\n\\r\\nbody\\r\\n')
                    watcher = login(%d)
                    watcher.select('Watched')
                    watcher.send(b'w IDLE\\r\\n')
                    started = watcher.readline().decode().strip()
                    time.sleep(2)
                    before = metric('mailstream_imap_folder_reads_total')
                    time.sleep(3)
                    quiet = metric('mailstream_imap_folder_reads_total') - before
                    watcher.sock.settimeout(20)
                    began = time.time()
                    writer.append('Watched', None, None, b'Subject: second\\r\\n\\r\\nbody\\r\\n')
                    heard = watcher.readline().decode().strip()
                    after = round(time.time() - began, 3)
                    watcher.send(b'DONE\\r\\n')
                    while not watcher.readline().startswith(b'w '):
                        pass
                    looks = {cause: metric('mailstream_imap_idle_looks_total', 'cause="%%s"' %% cause)
                             for cause in ('told', 'asked', 'interval')}
                    print(json.dumps({'started': started, 'quietReads': quiet, 'heard': heard, 'after': after, 'looks': looks}))
                    """.formatted(metricsPort, writing.port(), watching.port());
            Command.Result run = Command.of(List.of("python3", "-")).run(program.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
            assertEquals(0, run.exitCode(), run + "\nimapd, watching:\n" + watching.log() + "\nimapd, writing:\n" + writing.log());
            JsonNode idled = new ObjectMapper().readTree(run.stdout());
            assertTrue(idled.get("started").asText().startsWith("+ "), idled.toString());
            return idled;
        }
    }
}
