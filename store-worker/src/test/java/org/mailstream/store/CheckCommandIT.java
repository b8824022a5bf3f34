package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.SearchScope;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TempFiles;

/** store-worker check against a real broker and a real slapd, set up as shipped and then wrong in one way at a time. */
@Timeout(120)
class CheckCommandIT {

    private final Backend backend = new Backend("check-" + System.nanoTime(), 2);

    @AfterEach
    void stop() {
        backend.close();
    }

    @Test
    void theShippedSetUpPassesEveryCheck() throws Exception {
        backend.addMailboxes("bob");

        Run run = check(backend.workerConfig(Map.of()));

        assertEquals(WorkerExit.CHECKED.code(), run.status(), run.output());
        assertTrue(run.output().lines().allMatch(line -> line.startsWith("ok    ") || line.startsWith("warn  ")), run.output());
        for (String expected : new String[] {"broker(s) answer at", "topic " + backend.topic + ": 2 partitions",
            "takes the largest record of " + backend.topic, ": bound as " + Slapd.SERVICE_DN, ": the schema defines what the worker writes",
            "syncs each add, as store.durability=sync needs", "olcSockbufMaxIncomingAuth 16777215 takes ldap.max.write.bytes",
            "finds mailbox owners, such as uid=bob," + Slapd.PEOPLE, "may add below uid=bob," + Slapd.PEOPLE}) {
            assertTrue(run.output().contains(expected), expected + "\n" + run.output());
        }
        try (LDAPConnection root = backend.slapd.rootConnection()) {
            assertEquals(0, root.search(Slapd.PEOPLE, SearchScope.SUB, "(cn=mailstream-check-*)").getEntryCount(),
                    "the check's folder was deleted again");
        }
    }

    @Test
    void aDeadLetterTopicTooSmallForTheTopicsLargestRecordFails() {
        backend.addMailboxes("bob");
        String small = backend.topic + ".small-dlq";
        backend.kafka.createTopic(small, 1, 1, Map.of("max.message.bytes", "1048588"));

        Run run = check(backend.workerConfig(Map.of("dlq.topic", small)));

        assertFailedWith(run, "FAIL  dead-letter topic " + small + ": max.message.bytes 1048588 cannot take the largest record of "
                + backend.topic + " (11000000) with its dead-letter headers: raise it to 11065536");
    }

    @Test
    void aBackEndWithoutTheSchemaFails() {
        try (Slapd bare = Slapd.startWithoutProjectSchema()) {
            Run run = check(StoreWorkerProcess.config(backend.kafka, backend.topic, bare, Map.of()));

            assertFailedWith(run, "FAIL  " + bare.url() + ": its schema does not define mailStoreFolder, mailStoreMessage");
        }
    }

    @Test
    void anAccountThatMayFindOwnersButNotWriteBelowThemFails() {
        backend.addMailboxes("bob");

        Run run = check(backend.workerConfig(Map.of("ldap.bind.dn", Slapd.LOOKUP_DN,
                "ldap.bind.password.file", TempFiles.write("password", Slapd.LOOKUP_PASSWORD).toString())));

        assertTrue(run.output().contains("finds mailbox owners, such as uid=bob," + Slapd.PEOPLE), run.output());
        assertFailedWith(run, "FAIL  " + backend.slapd.url() + ": may not add below uid=bob," + Slapd.PEOPLE + ": 50 (insufficient access rights)");
    }

    @Test
    void aWrongPasswordFails() {
        Run run = check(backend.workerConfig(Map.of("ldap.bind.password.file", TempFiles.write("password", "wrong").toString())));

        assertFailedWith(run, "FAIL  " + backend.slapd.url() + ": 49 (invalid credentials)");
    }

    private static void assertFailedWith(Run run, String line) {
        assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
        assertTrue(run.output().contains(line), line + "\n" + run.output());
    }

    private record Run(int status, String output) {
    }

    private static Run check(Path config) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = StoreWorker.run(new String[] {"check", "-c", config.toString()}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }
}
