package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FolderViewTest {

    private static final Mailstore.State GIVEN = new Mailstore.State(2, "b".repeat(64), List.of(), false, 1);
    private static final Mailstore.State OWN = new Mailstore.State(2, "b".repeat(64), List.of("\\Flagged"), false, 2);

    private final FolderView view = new FolderView(new ImapMetrics(), "a-folder-uuid");

    @Test
    void aMessagesOwnStateEntryOutranksTheEntryThatGaveItsUidReadAfterIt() {
        view.merge(0, ChangeCursor.NO_CHANGE, snapshot(OWN, "20261206050000.000000Z#000000#000#000000"));
        // The entry that gave UID 2 read again, as when the first message's flags change.
        assertFalse(view.merge(1, ChangeCursor.NO_CHANGE, snapshot(GIVEN, "20261206050001.000000Z#000000#000#000000")), "nothing changed");
        assertEquals(OWN, view.states.get(2L));
    }

    @Test
    void aMessagesOwnStateEntryReplacesWhatTheEntryThatGaveItsUidSaid() {
        view.merge(0, ChangeCursor.NO_CHANGE, snapshot(GIVEN, "20261206050000.000000Z#000000#000#000000"));
        assertTrue(view.merge(1, ChangeCursor.NO_CHANGE, snapshot(OWN, "20261206050001.000000Z#000000#000#000000")));
        assertEquals(OWN, view.states.get(2L));
    }

    private static Mailstore.Snapshot snapshot(Mailstore.State state, String change) {
        return new Mailstore.Snapshot(List.of(state), List.of(), change, true);
    }
}
