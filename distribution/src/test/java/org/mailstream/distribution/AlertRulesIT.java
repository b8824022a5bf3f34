package org.mailstream.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;

/**
 * The shipped Prometheus alerting rules (share/prometheus/mailstream-alerts.yml) as Prometheus's
 * own promtool reads them: valid, and each alert firing on the series its unit tests give and
 * silent on their healthy neighbours.
 */
class AlertRulesIT {

    private static final Path RULES = Command.repositoryRoot().resolve("distribution/src/dist/share/prometheus/mailstream-alerts.yml");
    private static final Path UNIT_TESTS = Command.repositoryRoot().resolve("distribution/src/test/prometheus/mailstream-alerts.test.yml");

    @Test
    void promtoolFindsTheShippedRulesValid() {
        promtool("check", "rules", RULES.toString());
    }

    @Test
    void everyAlertFiresAsItsPromtoolUnitTestsExpect() {
        promtool("test", "rules", UNIT_TESTS.toString());
    }

    private static void promtool(String... arguments) {
        Command.Result result = Command.of(Command.argv("promtool", List.of(arguments))).run(new byte[0], Duration.ofSeconds(60));
        assertEquals(0, result.exitCode(), result.toString());
    }
}
