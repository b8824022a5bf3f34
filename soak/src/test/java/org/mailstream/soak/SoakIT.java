package org.mailstream.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;

/**
 * The short soak: bin/soak for two minutes with a fault every 5 to 10 s, enough for one round of
 * every kind of fault, then its checker. The hour-long run is on demand (README, "Soak").
 */
class SoakIT {

    @Test
    void twoMinutesOfEveryKindOfFaultLoseDoubleAndMisplaceNothing() {
        Command.Result soak = Command.of(List.of(Command.repositoryRoot().resolve("bin/soak").toString(), "--minutes", "2",
                "--rate", "10", "--fault-interval", "5", "--seed", "20261130")).run(new byte[0], Duration.ofMinutes(15));
        System.out.println(soak.stdout());
        assertEquals(0, soak.exitCode(), soak.toString());
        for (Nemesis.Fault fault : Nemesis.Fault.values()) {
            assertTrue(soak.stdout().contains("nemesis: " + fault.description), fault + " injected:\n" + soak.stdout());
        }
        assertTrue(soak.stdout().contains("| lost | 0 |"), soak.stdout());
    }
}
