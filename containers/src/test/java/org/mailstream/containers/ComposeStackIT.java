package org.mailstream.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.mailstream.local.Command;
import org.mailstream.local.FreePort;
import org.mailstream.local.MetricsScrape;

/**
 * compose.yaml brought up for real through bin/compose (here: podman behind its Docker API, the
 * images built from containers/ on the local Debian 13 base), mail sent over SMTP to its published
 * port, and what the two providers hold read from inside their containers. The tests run in order
 * on one stack, which is expensive to build; the last takes it down with its volumes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ComposeStackIT {

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(5);
    private static final String PROJECT = "mailstream-it";
    private static final String SUFFIX = "dc=example,dc=com";
    private static final List<String> OWNERS = List.of("alice", "bob", "carol");
    private static final List<String> VOLUMES = List.of("kafka-data", "ldap-a1-data", "ldap-a1-config", "ldap-a2-data",
            "ldap-a2-config", "postfix-spool");

    private static final int SMTP_PORT = FreePort.next();
    private static final int LMTPD_METRICS_PORT = FreePort.next();
    private static final int WORKER1_METRICS_PORT = FreePort.next();
    private static final int WORKER2_METRICS_PORT = FreePort.next();
    private static final int IMAPS_PORT = FreePort.next();
    private static final int IMAPD_METRICS_PORT = FreePort.next();
    private static int sent;

    @BeforeAll
    static void buildAndStartTheStack() {
        compose(STEP_TIMEOUT, "config", "-q");
        compose(BUILD_TIMEOUT, "build");
        compose(STEP_TIMEOUT, "up", "-d");
        Awaitility.await("Postfix listening on the published SMTP port").atMost(STEP_TIMEOUT)
                .until(() -> FreePort.isListening(SMTP_PORT));
    }

    @AfterAll
    static void removeTheStack() {
        Command.of(composeArgv("down", "-v")).run(new byte[0], STEP_TIMEOUT);
    }

    @Test
    @Order(1)
    void mailSentOverSmtpIsStoredOnceOnBothProviders() throws IOException {
        List<String> subjects = send(30);
        for (String provider : List.of("ldap-a1", "ldap-a2")) {
            awaitSubjects(provider, subjects);
        }
    }

    @Test
    @Order(2)
    void anOwnerReadsItsOwnMailBackAndAnotherOwnerCannot() throws IOException {
        String password = Files.readString(Command.repositoryRoot().resolve("containers/secrets/mailbox_password"));
        String alice = "uid=alice,ou=people," + SUFFIX;
        Command.Result own = compose(STEP_TIMEOUT, "exec", "-T", "ldap-a2", "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x",
                "-H", "ldap://127.0.0.1/", "-D", alice, "-w", password, "-b", "cn=INBOX," + alice, "(objectClass=mailStoreMessage)",
                "mailStoreRaw");
        assertTrue(own.stdout().contains("mailStoreRaw"), "alice reads her messages:\n" + own);
        Command.Result other = Command.of(composeArgv("exec", "-T", "ldap-a2", "ldapsearch", "-LLL", "-x", "-H", "ldap://127.0.0.1/",
                "-D", "uid=bob,ou=people," + SUFFIX, "-w", password, "-b", alice, "(objectClass=mailStoreMessage)"))
                .run(new byte[0], STEP_TIMEOUT);
        assertEquals(32, other.exitCode(), "bob finds no such object below alice:\n" + other);
    }

    @Test
    @Order(3)
    void ownersReadTheirOwnMailOverImapsCheckingTheStacksCertificate() throws IOException {
        String password = Files.readString(Command.repositoryRoot().resolve("containers/secrets/mailbox_password"));
        String certificate = Command.repositoryRoot().resolve("containers/secrets/imapd_tls_certificate").toString();
        // alice's first mail is the first sent, bob's the second: UIDs follow arrival.
        for (String[] owner : new String[][] {{"alice", "compose mail 1"}, {"bob", "compose mail 2"}}) {
            // imapd may still be starting: it is up once it answers.
            Awaitility.await(owner[0] + " reads " + owner[1] + " over IMAPS").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
                    .untilAsserted(() -> {
                        Command.Result curl = Command.of(List.of("curl", "-sS", "--max-time", "30", "--cacert", certificate, "--user",
                                owner[0] + ":" + password, "imaps://localhost:" + IMAPS_PORT + "/INBOX;UID=1")).run(new byte[0], STEP_TIMEOUT);
                        assertEquals(0, curl.exitCode(), curl + "\n" + Command.of(composeArgv("logs", "--tail", "20", "imapd"))
                                .run(new byte[0], STEP_TIMEOUT));
                        assertTrue(curl.stdout().contains("Subject: " + owner[1] + "\r\n"), curl.toString());
                    });
        }
        compose(STEP_TIMEOUT, "exec", "-T", "imapd", "/opt/mailstream/bin/imapd", "check", "-c", "/tmp/imapd.properties");
    }

    @Test
    @Order(4)
    void withOneProviderStoppedMailIsStillStoredAndTheProviderCatchesUpWhenBack() throws IOException {
        compose(STEP_TIMEOUT, "stop", "ldap-a1");
        List<String> subjects = send(5);
        awaitSubjects("ldap-a2", subjects);
        compose(STEP_TIMEOUT, "start", "ldap-a1");
        awaitSubjects("ldap-a1", subjects);
    }

    @Test
    @Order(5)
    void theWorkersAndTheLmtpServerPassTheirChecksAndExportTheirMetrics() throws IOException {
        compose(STEP_TIMEOUT, "exec", "-T", "store-worker-a1", "/opt/mailstream/bin/store-worker", "check", "-c",
                "/tmp/store-worker.properties");
        compose(STEP_TIMEOUT, "exec", "-T", "ingest-lmtpd", "/opt/mailstream/bin/ingest-lmtpd", "check", "-c",
                "/tmp/ingest-lmtpd.properties");
        assertEquals(sent, MetricsScrape.of(LMTPD_METRICS_PORT).sum("mailstream_lmtp_replies_total", Map.of("class", "2xx")));
        double stored = MetricsScrape.of(WORKER1_METRICS_PORT).sum("mailstream_records_total", Map.of("outcome", "stored"))
                + MetricsScrape.of(WORKER2_METRICS_PORT).sum("mailstream_records_total", Map.of("outcome", "stored"));
        assertEquals(sent, stored, "each mail stored by one of the two workers");
    }

    @Test
    @Order(6)
    void kafkaServesTheMailOnlyToTheUsersGrantedItNotToAnyoneOnTheStacksNetwork() throws IOException {
        Command.Result anonymous = consume(null, null);
        assertTrue(anonymous.stderr().contains("Processed a total of 0 messages"), "no credentials, no mail:\n" + anonymous);
        Command.Result ingest = consume("ingest", "kafka_ingest_password");
        assertTrue((ingest.stdout() + ingest.stderr()).contains("Not authorized to access")
                && ingest.stderr().contains("Processed a total of 0 messages"), "the front end's user may only write:\n" + ingest);
        Command.Result worker = consume("store-worker", "kafka_store_password");
        assertTrue(worker.stderr().contains("Processed a total of 1 messages"), "the workers' user reads:\n" + worker);
    }

    @Test
    @Order(7)
    void theProvidersReplicateAsAnIdentityThatReadsEverythingAndWritesNothing() throws IOException {
        Command.Result syncrepl = compose(STEP_TIMEOUT, "exec", "-T", "ldap-a1", "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-Q",
                "-Y", "EXTERNAL", "-H", "ldapi:///", "-b", "olcDatabase={1}mdb,cn=config", "olcSyncrepl");
        assertTrue(syncrepl.stdout().contains("binddn=\"cn=replicator," + SUFFIX + "\""), syncrepl.toString());
        String password = Files.readString(Command.repositoryRoot().resolve("containers/secrets/ldap_replicator_password"));
        Command.Result write = Command.of(composeArgv("exec", "-T", "ldap-a1", "ldapmodify", "-x", "-H", "ldap://127.0.0.1/",
                "-D", "cn=replicator," + SUFFIX, "-w", password)).run(("dn: uid=alice,ou=people," + SUFFIX
                + "\nchangetype: modify\nreplace: mail\nmail: stolen@example.com\n").getBytes(StandardCharsets.US_ASCII), STEP_TIMEOUT);
        assertEquals(50, write.exitCode(), "insufficient access:\n" + write);
    }

    @Test
    @Order(8)
    void theProgramsRunWithoutCapabilitiesAndCannotGainAny() {
        for (String service : List.of("ingest-lmtpd", "store-worker-a1", "imapd", "kafka")) {
            String status = compose(STEP_TIMEOUT, "exec", "-T", service, "cat", "/proc/1/status").stdout();
            assertTrue(status.contains("CapEff:\t0000000000000000"), service + ":\n" + status);
            assertTrue(status.contains("NoNewPrivs:\t1"), service + ":\n" + status);
        }
    }

    @Test
    @Order(9)
    void downRemovesTheContainersTheNetworkAndTheVolumes() {
        Command.Result down = compose(STEP_TIMEOUT, "down", "-v");
        for (String volume : VOLUMES) {
            assertTrue(down.stderr().contains("Removing volume " + PROJECT + "_" + volume), volume + " removed:\n" + down);
        }
        assertEquals("", compose(STEP_TIMEOUT, "ps", "-q").stdout().trim(), "no container left");
    }

    /**
     * Reads one record of the mail topic as {@code user} (with the password in the stack's secret
     * {@code secret}; no credentials when null), from inside the stack's network: a console
     * consumer in the Kafka container, reaching the broker by its name as the programs do.
     */
    private static Command.Result consume(String user, String secret) throws IOException {
        List<String> argv = new ArrayList<>(composeArgv("exec", "-T", "kafka", "java", "-Xmx128m", "-cp", "/opt/kafka/libs/*",
                "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", "kafka:9092", "--topic", "mail.inbound",
                "--from-beginning", "--max-messages", "1", "--timeout-ms", "15000", "--group", "mailstream-store-it-probe"));
        if (user != null) {
            String password = Files.readString(Command.repositoryRoot().resolve("containers/secrets/" + secret));
            argv.addAll(List.of("--consumer-property", "security.protocol=SASL_PLAINTEXT", "--consumer-property",
                    "sasl.mechanism=SCRAM-SHA-512", "--consumer-property", "sasl.jaas.config=org.apache.kafka.common.security.scram."
                    + "ScramLoginModule required username=\"" + user + "\" password=\"" + password + "\";"));
        }
        return Command.of(argv).run(new byte[0], STEP_TIMEOUT);
    }

    /** Sends {@code count} mails over SMTP to the published port, to the owners in turn; returns their subjects. */
    private static List<String> send(int count) {
        List<String> subjects = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String subject = "compose mail " + (++sent);
            Command.Result smtp = Command.of(List.of("swaks", "--server", "127.0.0.1:" + SMTP_PORT, "--from", "sender@example.org",
                    "--to", OWNERS.get(i % OWNERS.size()) + "@example.com", "--header", "Subject: " + subject,
                    "--body", "sent to the stack's SMTP port")).run(new byte[0], STEP_TIMEOUT);
            assertEquals(0, smtp.exitCode(), "accepted over SMTP:\n" + smtp);
            subjects.add(subject);
        }
        return subjects;
    }

    /** Waits until {@code provider} holds each of {@code subjects} exactly once, and nothing sent but not asked for is missing. */
    private static void awaitSubjects(String provider, List<String> subjects) throws IOException {
        try {
            Awaitility.await(provider + " holding " + subjects.size() + " new mails").atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> storedSubjects(provider).containsAll(subjects));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\n" + Command.of(composeArgv("logs", "--tail", "40"))
                    .run(new byte[0], STEP_TIMEOUT), e);
        }
        List<String> stored = storedSubjects(provider);
        assertEquals(new TreeSet<>(stored).size(), stored.size(), provider + " holds no mail twice: " + stored);
        assertEquals(sent, stored.size(), provider + " holds every mail sent: " + stored);
    }

    /** The subjects of every message on {@code provider}, read as its root DN from inside its container. */
    private static List<String> storedSubjects(String provider) throws IOException {
        String password = Files.readString(Command.repositoryRoot().resolve("containers/secrets/ldap_admin_password"));
        Command.Result search = compose(STEP_TIMEOUT, "exec", "-T", provider, "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x",
                "-H", "ldap://127.0.0.1/", "-D", "cn=admin," + SUFFIX, "-w", password, "-b", "ou=people," + SUFFIX,
                "(objectClass=mailStoreMessage)", "mailStoreSubject");
        return search.stdout().lines().filter(line -> line.startsWith("mailStoreSubject: "))
                .map(line -> line.substring("mailStoreSubject: ".length())).toList();
    }

    private static Command.Result compose(Duration timeout, String... arguments) {
        Command.Result result = Command.of(composeArgv(arguments)).run(new byte[0], timeout);
        assertEquals(0, result.exitCode(), result.toString());
        return result;
    }

    /** bin/compose with this test's project name and loopback ports, so that it leaves an operator's own stack alone. */
    private static List<String> composeArgv(String... arguments) {
        List<String> argv = new ArrayList<>(List.of("env", "COMPOSE_PROJECT_NAME=" + PROJECT, "SMTP_PORT=" + SMTP_PORT,
                "LMTPD_METRICS_PORT=" + LMTPD_METRICS_PORT, "WORKER1_METRICS_PORT=" + WORKER1_METRICS_PORT,
                "WORKER2_METRICS_PORT=" + WORKER2_METRICS_PORT, "IMAPS_PORT=" + IMAPS_PORT, "IMAPD_METRICS_PORT=" + IMAPD_METRICS_PORT,
                Command.repositoryRoot().resolve("bin/compose").toString()));
        argv.addAll(List.of(arguments));
        return argv;
    }
}
