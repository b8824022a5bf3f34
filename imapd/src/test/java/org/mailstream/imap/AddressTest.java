package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Address headers read for ENVELOPE: what a broken one gives, and that reading one always ends. */
class AddressTest {

    @Test
    void aStrayCharacterNoAddressBeginsWithIsPassedOverNotReadForever() {
        // Before, each of these kept the parser at the same character for good, the session's core with it.
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertEquals(List.of(), Address.parseList(";"));
            assertEquals(List.of(new Address(null, null, "a", "example.org")), Address.parseList("a@example.org >"));
            assertEquals(List.of(new Address(null, null, "a", "example.org")), Address.parseList(") a@example.org"));
        });
    }

    @Test
    void aMailboxWithoutAHostOrAMailboxNameSaysSoRatherThanLookingLikeAGroup() {
        assertEquals(List.of(new Address("Cron Daemon", null, "root", "MISSING_DOMAIN")), Address.parseList("root (Cron Daemon)"));
        assertEquals(List.of(new Address(null, null, "MISSING_MAILBOX", "MISSING_DOMAIN")), Address.parseList("<>"));
        assertEquals(List.of(new Address(null, null, "team", null), new Address(null, null, "a", "example.org"),
                new Address(null, null, null, null)), Address.parseList("team: a@example.org;"), "a group is still one");
    }
}
