package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link Mailstore#idIn}: the id a message copied, moved or appended into a folder takes there. */
class PutBackIdTest {

    private static final String CONTENT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    @Test
    void aMessageTakesItsContentsIdWhereThatWasNeverExpunged() {
        assertEquals(CONTENT, Mailstore.idIn(Set.of(), CONTENT));
    }

    @Test
    void aCopyOfAMessagePutBackElsewhereTakesItsContentsIdAgain() {
        assertEquals(CONTENT, Mailstore.idIn(Set.of(), CONTENT + ".1"));
    }

    @Test
    void aMessagePutBackWhereItWasExpungedTakesTheFirstSuffixNotExpungedThere() {
        assertEquals(CONTENT + ".1", Mailstore.idIn(Set.of(CONTENT), CONTENT));
        assertEquals(CONTENT + ".3", Mailstore.idIn(Set.of(CONTENT, CONTENT + ".1", CONTENT + ".2"), CONTENT + ".1"));
    }
}
