package org.mailstream.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mailstream.soak.Checker.Delivery;
import org.mailstream.soak.Checker.Report;

/** The checker's verdicts on planted faults: each kind is found and counted, and a clean run passes. */
class CheckerTest {

    // box1 belongs to back end a, box2 to b (SoakStack.MAILBOXES).
    private static final Delivery ONCE = new Delivery("A1", "box1@example.com");
    private static final Delivery TWICE = new Delivery("A2", "box1@example.com");
    private static final Delivery OTHER_BACKEND = new Delivery("A3", "box1@example.com");
    private static final Delivery OTHER_OWNER = new Delivery("A4", "box2@example.com");
    private static final Delivery IN_TOPIC_ONLY = new Delivery("A5", "box2@example.com");
    private static final Delivery NOWHERE = new Delivery("A6", "box2@example.com");

    @Test
    void everyKindOfPlantedFaultIsFoundAndCountedOnce() {
        Map<String, Map<Delivery, List<String>>> stored = Map.of(
                "a", Map.of(ONCE, List.of(dn("1", "box1")), TWICE, List.of(dn("2", "box1"), dn("2b", "box1"))),
                "b", Map.of(OTHER_BACKEND, List.of(dn("3", "box1")), OTHER_OWNER, List.of(dn("4", "box4"))));
        Report report = Checker.classify(Set.of(ONCE, TWICE, OTHER_BACKEND, OTHER_OWNER, IN_TOPIC_ONLY, NOWHERE), stored,
                Set.of(IN_TOPIC_ONLY), 0, 0, Map.of("a", true, "b", true));
        assertEquals(List.of(6, 1, 1, 2, 1, 1), List.of(report.sent(), report.stored(), report.duplicated(), report.misplaced(),
                report.stuck(), report.lost()), report.toString());
        assertFalse(report.clean());
    }

    @Test
    void aRunWithEveryMailStoredOnceInPlaceIsClean() {
        Report report = Checker.classify(Set.of(ONCE), Map.of("a", Map.of(ONCE, List.of(dn("1", "box1"))), "b", Map.of()),
                Set.of(ONCE), 0, 0, Map.of("a", true, "b", true));
        assertTrue(report.clean(), report.toString());
    }

    @Test
    void aBounceMailLeftQueuedOrProvidersThatDisagreeFailAnOtherwiseCleanRun() {
        Map<String, Map<Delivery, List<String>>> stored = Map.of("a", Map.of(ONCE, List.of(dn("1", "box1"))), "b", Map.of());
        assertFalse(Checker.classify(Set.of(ONCE), stored, Set.of(), 1, 0, Map.of("a", true, "b", true)).clean());
        assertFalse(Checker.classify(Set.of(ONCE), stored, Set.of(), 0, 1, Map.of("a", true, "b", true)).clean());
        assertFalse(Checker.classify(Set.of(ONCE), stored, Set.of(), 0, 0, Map.of("a", true, "b", false)).clean());
    }

    private static String dn(String id, String owner) {
        return "mailStoreId=" + id + ",cn=INBOX,uid=" + owner + ",ou=people,dc=example,dc=com";
    }
}
