package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.local.Command;
import org.mailstream.testsupport.DocumentedReference;

/** How store-worker refuses to start: a clear line and the sysexits status, before touching Kafka or LDAP. */
class StoreWorkerTest {

    @TempDir
    Path directory;

    @Test
    void theSystemdUnitTakesTheStatusOfAStopBySigtermForSuccessSoThatEveryStopLeavesItInactiveNotFailed() throws Exception {
        Path unit = Command.repositoryRoot().resolve("distribution/src/dist/share/systemd/store-worker@.service");
        List<String> success = Files.readAllLines(unit).stream().filter(line -> line.startsWith("SuccessExitStatus="))
                .flatMap(line -> List.of(line.substring(line.indexOf('=') + 1).split(" ")).stream()).toList();
        assertTrue(success.contains(Integer.toString(WorkerExit.TERMINATED.code())), unit + ": SuccessExitStatus " + success);
    }

    @Test
    void aMissingConfigurationFileExits78SayingSo() {
        Path absent = directory.resolve("absent.properties");
        Run run = run("-c", absent.toString());
        assertEquals(WorkerExit.CONFIG.code(), run.status());
        assertEquals("store-worker: configuration " + absent + ": no such file\n", run.output());
    }

    @Test
    void anUnknownKeyExits78NamingIt() throws Exception {
        Run run = run("-c", config("ldap.bind.password.files=/x\n").toString());
        assertEquals(WorkerExit.CONFIG.code(), run.status());
        assertTrue(run.output().contains("ldap.bind.password.files"), run.output());
    }

    @Test
    void anUnreadablePasswordFileExits78() throws Exception {
        Run run = run("-c", config("").toString());
        assertEquals(WorkerExit.CONFIG.code(), run.status());
        assertTrue(run.output().contains("no-such-password"), run.output());
    }

    @Test
    void aFilterWithoutPlaceholderExits78() throws Exception {
        Run run = run("-c", config("ldap.mailbox.filter=(mail=bob@example.com)\n").toString());
        assertEquals(WorkerExit.CONFIG.code(), run.status());
        assertTrue(run.output().contains("ldap.mailbox.filter"), run.output());
    }

    @Test
    void aBackEndMissingFromTheRoutingExits78NamingIt() throws Exception {
        Run run = run("-c", config("backend=c\nrouting.backends=a,b\n").toString());
        assertEquals(WorkerExit.CONFIG.code(), run.status());
        assertTrue(run.output().contains("backend 'c' is not one of routing.backends [a, b]"), run.output());
    }

    @Test
    void routeTellsTheBackEndOfEachAddressAsTheWorkersRouteItWithoutAskingAnyone() throws Exception {
        Path config = config("backend=b\nrouting.backends=a,b\nrouting.pins=carol@example.com=a\nrecipient.delimiter=+\n");
        BackendRouting routing = StoreConfig.load(config).routing();
        Run run = run("route", "-c", config.toString(), "-a", "alice@example.com", "ALICE+news@Example.COM", "carol@example.com");

        assertEquals(0, run.status(), run.output());
        String alices = routing.ownerOf("alice@example.com");
        assertEquals("alice@example.com: back end " + alices + "\nALICE+news@Example.COM: back end " + alices
                + "\ncarol@example.com: back end a (pinned)\n", run.output(), "an extension and the case route with the mailbox");
        assertEquals("bob@example.com: the only back end\n", run("route", "-c", config("").toString(), "-a", "bob@example.com").output());
    }

    @Test
    void itsDocumentHoldsEachCommandsOptionsAndExitStatusesAsDeclared() {
        for (CommandDeclaration command : List.of(StoreWorker.COMMAND, ReplayCommands.REPLAY, ReplayCommands.REDRIVE, CheckCommand.CHECK,
                QuotaCommand.RECALC, RouteCommand.ROUTE)) {
            DocumentedReference.assertDocumentsOptions("docs/store-worker.md", command);
            DocumentedReference.assertDocumentsExitStatuses("docs/store-worker.md", command);
        }
    }

    @Test
    void eachHelpPrintsItsDeclaredManualWithTheExitStatusesOfItsScope() {
        assertEquals(StoreWorker.COMMAND.manual(), run("--help").output());
        assertEquals(ReplayCommands.REPLAY.manual(), run("replay", "--help").output());
        assertEquals(ReplayCommands.REDRIVE.manual(), run("redrive", "--help").output());
        assertEquals(CheckCommand.CHECK.manual(), run("check", "--help").output());
        assertEquals(QuotaCommand.RECALC.manual(), run("quota", "recalc", "--help").output());
        assertEquals(RouteCommand.ROUTE.manual(), run("route", "--help").output());
        assertTrue(run("replay", "--help").output().contains("\n    65 "), "replay can end with 65");
        assertFalse(run("--help").output().contains("\n    65 "), "the worker never ends with 65");
    }

    @Test
    void anUnknownOptionExits64() {
        assertEquals(WorkerExit.USAGE.code(), run("-x").status());
    }

    @Test
    void helpPrintsTheManualPageWithEveryConfigurationKey() {
        Run run = run("--help");
        assertEquals(0, run.status());
        StoreConfig.DEFINITION.names().forEach(key -> assertTrue(run.output().contains(key), key));
    }

    @Test
    void replayWithoutAStartExits64SayingWhichOptionsGiveOne() {
        Run run = run("replay", "--execute");
        assertEquals(WorkerExit.USAGE.code(), run.status());
        assertTrue(run.output().contains("one of (--from-earliest | --from-time TIME | --from-offsets P=O,...) is required"), run.output());
    }

    @Test
    void replayWithTwoStartsExits64() {
        assertEquals(WorkerExit.USAGE.code(), run("replay", "--from-earliest", "--from-time", "2026-11-25T10:00:00Z").status());
    }

    @Test
    void replayWithAnUnknownModeOrAMalformedTimeOrOffsetExits64NamingIt() {
        Run mode = run("replay", "--from-earliest", "--mode", "refill");
        assertEquals(WorkerExit.USAGE.code(), mode.status());
        assertTrue(mode.output().contains("refill"), mode.output());
        Run time = run("replay", "--from-time", "yesterday");
        assertEquals(WorkerExit.USAGE.code(), time.status());
        assertTrue(time.output().contains("yesterday"), time.output());
        Run offsets = run("replay", "--from-offsets", "0:12");
        assertEquals(WorkerExit.USAGE.code(), offsets.status());
        assertTrue(offsets.output().contains("0:12"), offsets.output());
    }

    @Test
    void replayAndRedriveWithAnUnreadablePasswordFileExit78BeforeTouchingKafka() throws Exception {
        Path config = config("");
        for (String[] args : new String[][] {{"replay", "-c", config.toString(), "--from-earliest", "--execute"},
            {"redrive", "-c", config.toString(), "--execute"}}) {
            Run run = run(args);
            assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
        }
    }

    @Test
    void replayExits75WhenKafkaDoesNotAnswerAndChangesNothing() throws Exception {
        Run run = run("replay", "-c", config("kafka.default.api.timeout.ms=3000\nkafka.request.timeout.ms=3000\n").toString(),
                "--from-earliest");
        assertEquals(WorkerExit.TEMPORARY.code(), run.status(), run.output());
        assertTrue(run.output().startsWith("store-worker replay: Kafka: "), run.output());
    }

    @Test
    void aKafkaClientSettingKafkaRefusesExits78NamingItForTheWorkerAndForReplay() throws Exception {
        Path password = Files.writeString(directory.resolve("password"), "secret\n");
        Path config = config("kafka.request.timeout.ms=soon\nldap.bind.password.file=" + password + "\n");
        for (String[] args : new String[][] {{"-c", config.toString()}, {"replay", "-c", config.toString(), "--from-earliest"}}) {
            Run run = run(args);
            assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
            assertTrue(run.output().contains("request.timeout.ms"), run.output());
        }
    }

    @Test
    void replayAndRedriveHelpPrintTheirOwnManualPages() {
        assertTrue(run("replay", "--help").output().contains("store-worker replay - store a back end's mail again"));
        assertTrue(run("redrive", "--help").output().contains("store-worker redrive - store the dead letters"));
    }

    private Path config(String extra) throws Exception {
        return Files.writeString(directory.resolve("store-worker.properties"), String.join("\n",
                "kafka.bootstrap.servers=127.0.0.1:9", "ldap.urls=ldap://127.0.0.1:9", "ldap.bind.dn=cn=x",
                "ldap.bind.password.file=" + directory.resolve("no-such-password"), "ldap.base.dn=dc=example,dc=com", extra));
    }

    private record Run(int status, String output) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = StoreWorker.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }
}
