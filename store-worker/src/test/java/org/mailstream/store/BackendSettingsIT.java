package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * store-worker reads each provider's schema and durability settings from a real slapd (cn=config with
 * the read right mailstore.database.ldif grants its account), and refuses to store into a back end
 * without the schema or with a store.durability that could lose mail there.
 */
@Timeout(120)
class BackendSettingsIT {

    private static final Map<String, String> LOG_MODE = Map.of("store.durability", "log");

    private final Backend backend = new Backend("settings-" + System.nanoTime(), 1);

    @AfterEach
    void stop() {
        backend.close();
    }

    @Test
    void inSyncModeTheWorkerRefusesABackEndThatDoesNotSyncEachAddNamingTheProvider() {
        backend.slapd.applyShipped("mailstore.durability-log.ldif");

        Run run = run(backend.workerConfig(Map.of()));

        assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
        assertTrue(run.output().contains(backend.slapd.url() + ": olcDatabase={1}mdb,cn=config does not sync each add to disk "
                + "(olcDbNoSync: TRUE)"), run.output());
        assertTrue(run.output().contains("set store.durability=log, or apply mailstore.durability-sync.ldif"), run.output());
    }

    @Test
    void inLogModeTheWorkerRefusesABackEndThatNeverCheckpoints() {
        backend.slapd.modifyConfig("""
                dn: olcDatabase={1}mdb,cn=config
                changetype: modify
                replace: olcDbNoSync
                olcDbNoSync: TRUE
                """);

        Run run = run(backend.workerConfig(LOG_MODE));

        assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
        assertTrue(run.output().contains("neither syncs each add nor checkpoints"), run.output());
    }

    @Test
    void inLogModeTheWorkerRefusesACommitDelayTooShortForTheBackEndsCheckpoint() {
        backend.slapd.applyShipped("mailstore.durability-log.ldif");
        backend.slapd.modifyConfig("""
                dn: olcDatabase={1}mdb,cn=config
                changetype: modify
                replace: olcDbCheckpoint
                olcDbCheckpoint: 0 5
                """);

        Run run = run(backend.workerConfig(LOG_MODE));

        assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
        assertTrue(run.output().contains("checkpoints every 5 min, so store.log.commit.delay.ms must be at least 335000, not 120000"),
                run.output());
    }

    @Test
    void theWorkerRefusesABackEndWithoutTheProjectsSchemaInsteadOfDeadLetteringEveryMessage() {
        try (Slapd bare = Slapd.startWithoutProjectSchema()) {
            Run run = run(StoreWorkerProcess.config(backend.kafka, backend.topic, bare, Map.of()));

            assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
            assertTrue(run.output().contains(bare.url() + ": its schema does not define mailStoreFolder, mailStoreMessage, mailStoreBounceMarker, mailStoreQuotaOwner, mailStoreId, "),
                    run.output());
            assertTrue(run.output().contains("load mailstore.cnconfig.ldif"), run.output());
        }
    }

    @Test
    void theWorkerRefusesABackEndWhoseMessageClassCannotHoldTheHeaderSectionNamingIt() {
        try (Slapd halfUpgraded = Slapd.startWithSchema(schema -> schema.replace(" $ mailStoreHeader ", " "))) {
            Run run = run(StoreWorkerProcess.config(backend.kafka, backend.topic, halfUpgraded, Map.of()));

            assertEquals(WorkerExit.CONFIG.code(), run.status(), run.output());
            assertTrue(run.output().contains(halfUpgraded.url() + ": its class mailStoreMessage may not hold mailStoreHeader, so every"),
                    run.output());
        }
    }

    @Test
    void theShippedSettingsOfEachModePassTheCheck() throws Exception {
        BackendSettings.verify(StoreConfig.load(backend.workerConfig(Map.of())));
        backend.slapd.applyShipped("mailstore.durability-log.ldif");
        BackendSettings.verify(StoreConfig.load(backend.workerConfig(LOG_MODE)));
        backend.slapd.applyShipped("mailstore.durability-sync.ldif");
        BackendSettings.verify(StoreConfig.load(backend.workerConfig(Map.of())));
    }

    private record Run(int status, String output) {
    }

    private static Run run(Path config) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = StoreWorker.run(new String[] {"-c", config.toString()}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }
}
