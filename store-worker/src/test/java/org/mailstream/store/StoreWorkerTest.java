package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How store-worker refuses to start: a clear line and the sysexits status, before touching Kafka or LDAP. */
class StoreWorkerTest {

    @TempDir
    Path directory;

    @Test
    void aMissingConfigurationFileExits78NamingIt() {
        Run run = run("-c", directory.resolve("absent.properties").toString());
        assertEquals(StoreWorker.EX_CONFIG, run.status());
        assertTrue(run.output().contains("absent.properties"), run.output());
    }

    @Test
    void anUnknownKeyExits78NamingIt() throws Exception {
        Run run = run("-c", config("ldap.bind.password.files=/x\n").toString());
        assertEquals(StoreWorker.EX_CONFIG, run.status());
        assertTrue(run.output().contains("ldap.bind.password.files"), run.output());
    }

    @Test
    void anUnreadablePasswordFileExits78() throws Exception {
        Run run = run("-c", config("").toString());
        assertEquals(StoreWorker.EX_CONFIG, run.status());
        assertTrue(run.output().contains("no-such-password"), run.output());
    }

    @Test
    void aFilterWithoutPlaceholderExits78() throws Exception {
        Run run = run("-c", config("ldap.mailbox.filter=(mail=bob@example.com)\n").toString());
        assertEquals(StoreWorker.EX_CONFIG, run.status());
        assertTrue(run.output().contains("ldap.mailbox.filter"), run.output());
    }

    @Test
    void aBackEndMissingFromTheRoutingExits78NamingIt() throws Exception {
        Run run = run("-c", config("backend=c\nrouting.backends=a,b\n").toString());
        assertEquals(StoreWorker.EX_CONFIG, run.status());
        assertTrue(run.output().contains("backend 'c' is not one of routing.backends [a, b]"), run.output());
    }

    @Test
    void anUnknownOptionExits64() {
        assertEquals(StoreWorker.EX_USAGE, run("-x").status());
    }

    @Test
    void helpPrintsTheManualPageWithEveryConfigurationKey() {
        Run run = run("--help");
        assertEquals(0, run.status());
        StoreConfig.DEFINITION.names().forEach(key -> assertTrue(run.output().contains(key), key));
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
