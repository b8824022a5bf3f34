package org.mailstream.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.ReleaseArchive;

/**
 * docs/install.md, run as an operator runs it: its shell blocks in order, in one shell, as root on
 * a fresh Debian 12 host (a container of a debootstrapped bookworm root with systemd as its init,
 * on a network of its own), with only the release archive, Debian's packages and a Kafka of the
 * site's own (containers/src/test/install/sites-kafka). The guide's first block, the site's names,
 * is the one block replaced, by this test's; the guide's last block reads its test mail back over
 * IMAP as its owner. The units run under systemd, sandboxing and all.
 */
class InstallGuideIT {

    private static final Path ROOT = Command.repositoryRoot();
    private static final String IMAGE = "localhost/mailstream-install-host:bookworm";
    private static final String PREFIX = "mailstream-install-";
    private static final String CONTAINER = PREFIX + ProcessHandle.current().pid();
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration GUIDE_TIMEOUT = Duration.ofMinutes(15);
    private static final Pattern SHELL_BLOCK = Pattern.compile("(?ms)^```sh\\n(.*?)^```$");
    private static final Pattern NAME = Pattern.compile("(?m)^([A-Z_]+)=");

    /** The hosts of runs whose JVM was killed before its {@link #removeTheHost}: each still runs its whole stack under systemd. */
    @BeforeAll
    static void removeHostsLeftByKilledRuns() {
        for (String name : podman(Duration.ofMinutes(1), "ps", "--all", "--filter", "name=^" + PREFIX, "--format", "{{.Names}}")
                .stdout().lines().toList()) {
            String pid = name.substring(PREFIX.length());
            if (pid.matches("\\d+") && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                podman(Duration.ofMinutes(1), "rm", "--force", "--volumes", "--ignore", "--time", "5", name);
            }
        }
    }

    @AfterAll
    static void removeTheHost() {
        podman(Duration.ofMinutes(1), "rm", "--force", "--volumes", "--ignore", "--time", "5", CONTAINER);
    }

    @Test
    void theGuidesCommandsInstallAFreshDebian12HostAndItsTestMailIsReadBackByItsOwner() throws IOException {
        List<String> blocks = shellBlocks(Files.readString(ROOT.resolve("docs/install.md")));
        Path archive = ReleaseArchive.path();
        String site = String.join("\n", "DOMAIN=example.com", "SUFFIX=dc=example,dc=com",
                "RELEASE=/root/" + archive.getFileName(), "KAFKA=/opt/kafka", "BROKERS=127.0.0.1:9093",
                "KAFKA_ADMIN=/root/kafka-admin.properties", "KAFKA_CA=/root/kafka-ca.pem", "REPLICAS=1", "MIN_INSYNC=1") + "\n";
        assertEquals(names(blocks.get(0)), names(site), "the guide's first block names what this test sets");

        run(STEP_TIMEOUT, ROOT.resolve("containers/debian-image").toString(), "bookworm", IMAGE, "systemd,systemd-sysv,dbus");
        // SYS_PTRACE: as on a real host, root may read /proc/PID/exe of another user's process, which
        // Debian's init scripts (start-stop-daemon --exec) need to find the slapd they stop.
        podman(STEP_TIMEOUT, "run", "-d", "--name", CONTAINER, "--hostname", "mail.example.com", "--cap-add=SYS_PTRACE",
                "--systemd=always", IMAGE, "/sbin/init");
        podman(STEP_TIMEOUT, "exec", CONTAINER, "mkdir", "-p", "/opt/kafka");
        podman(STEP_TIMEOUT, "cp", ROOT.resolve("containers/target/kafka-broker/lib").toString(), CONTAINER + ":/opt/kafka/libs");
        podman(STEP_TIMEOUT, "cp", ROOT.resolve("containers/src/test/install/sites-kafka").toString(), CONTAINER + ":/root/");
        podman(STEP_TIMEOUT, "cp", archive.toString(), CONTAINER + ":/root/");
        podman(STEP_TIMEOUT, "exec", CONTAINER, "/root/sites-kafka");

        StringBuilder script = new StringBuilder("set -euxo pipefail\n").append(site);
        blocks.subList(1, blocks.size()).forEach(script::append);
        Path file = Files.writeString(Files.createTempFile("install-guide", ".sh"), script, StandardCharsets.UTF_8);
        try {
            podman(STEP_TIMEOUT, "cp", file.toString(), CONTAINER + ":/root/install-guide.sh");
        } finally {
            Files.delete(file);
        }
        Command.Result guide = podmanCommand("exec", CONTAINER, "bash", "/root/install-guide.sh").run(new byte[0], GUIDE_TIMEOUT);
        String journal = guide.exitCode() == 0 ? ""
                : podmanCommand("exec", CONTAINER, "journalctl", "--no-pager", "-n", "150").run(new byte[0], STEP_TIMEOUT).stdout();
        assertEquals(0, guide.exitCode(), "a step of the guide failed:\n" + guide + "\nthe host's journal:\n" + journal);
        assertTrue(guide.stdout().contains("Subject: mailstream is installed"), guide.toString());
    }

    /** The bodies of the guide's ```sh blocks, in order. */
    private static List<String> shellBlocks(String guide) {
        List<String> blocks = new ArrayList<>();
        Matcher block = SHELL_BLOCK.matcher(guide);
        while (block.find()) {
            blocks.add(block.group(1));
        }
        assertTrue(blocks.size() > 5, "docs/install.md has its steps as ```sh blocks: " + blocks.size());
        return blocks;
    }

    private static List<String> names(String block) {
        List<String> names = new ArrayList<>();
        Matcher name = NAME.matcher(block);
        while (name.find()) {
            names.add(name.group(1));
        }
        return names;
    }


    private static Command podmanCommand(String... arguments) {
        // podman as bin/compose runs it on these machines (runc, the host's ulimits).
        return Command.of(Command.argv("bash", "-c", "source \"$0\" && podman \"$@\"",
                ROOT.resolve("containers/podman-settings").toString(), List.of(arguments)));
    }

    private static Command.Result podman(Duration timeout, String... arguments) {
        Command.Result result = podmanCommand(arguments).run(new byte[0], timeout);
        assertEquals(0, result.exitCode(), result.toString());
        return result;
    }

    private static void run(Duration timeout, String... argv) {
        Command.Result result = Command.of(List.of(argv)).run(new byte[0], timeout);
        assertEquals(0, result.exitCode(), result.toString());
    }
}
