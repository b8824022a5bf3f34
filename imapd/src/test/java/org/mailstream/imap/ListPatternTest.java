package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** LIST patterns as RFC 3501 6.3.8 defines them, and no pattern that takes a session's core. */
class ListPatternTest {

    @Test
    void aStarMatchesAnyCharactersAndAPercentAnyButTheHierarchyDelimiter() {
        assertTrue(new ListPattern("*").matches("Projects/2026/Q1"));
        assertTrue(new ListPattern("*").matches(""));
        assertTrue(new ListPattern("Projects/%").matches("Projects/2026"));
        assertFalse(new ListPattern("Projects/%").matches("Projects/2026/Q1"));
        assertTrue(new ListPattern("Projects/*").matches("Projects/2026/Q1"));
        assertTrue(new ListPattern("%/%/Q%").matches("Projects/2026/Q1"));
        assertTrue(new ListPattern("P*j%s").matches("Projects"));
        assertFalse(new ListPattern("P*j%s").matches("Projects/s"));
        assertTrue(new ListPattern("Sent").matches("Sent"));
        assertFalse(new ListPattern("Sent").matches("sent"), "every character but a wildcard is itself, case and all");
        assertFalse(new ListPattern("Sent").matches("Sent Items"));
        assertFalse(new ListPattern("").matches("Sent"));
        assertTrue(new ListPattern("a.b(c)[d]+?").matches("a.b(c)[d]+?"), "no character of a regular expression is special");
    }

    @Test
    void aPatternOfManyWildcardsAgainstALongNameIsDecidedWithoutBacktracking() {
        // As a regular expression, eight of these took 52 s against sixty a's, and each one more multiplied that.
        String pattern = "*a".repeat(40) + "*c";
        String name = "a".repeat(237);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertFalse(new ListPattern(pattern).matches(name));
            assertTrue(new ListPattern(pattern).matches(name + "c"));
            assertFalse(new ListPattern(pattern.replace('*', '%')).matches(name + "/c"));
        });
    }
}
