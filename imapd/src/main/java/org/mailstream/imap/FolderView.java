package org.mailstream.imap;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * What has been read of one folder's entries: every state (expunged ones too) and every message
 * entry, and where the next read of what changed starts. One session owns it at a time; between
 * sessions {@link FolderViews} keeps it, so that the next look at the folder, by any session of
 * its owner, reads only what changed since.
 */
final class FolderView {

    /** How often a view is read whole, for what an incremental read can miss. */
    static final Duration WHOLE_READ_INTERVAL = Duration.ofMinutes(5);

    /** Every state read, by UID, expunged ones too. */
    final Map<Long, Mailstore.State> states = new HashMap<>();
    /** Every message entry read, by id. */
    final Map<String, Mailstore.Stored> stored = new HashMap<>();
    private final ChangeCursor changes = new ChangeCursor(System::nanoTime);
    private final ImapMetrics metrics;
    /** The folder's entryUUID: a folder made anew under its name is another; null for an INBOX with no entry yet. */
    private final String folderUuid;
    /** Whether a read has found the folder: an INBOX may have no entry yet. */
    private boolean found;
    /** Whether a read has found it gone since (deleted, renamed, or made anew): the view stays empty. */
    private boolean gone;
    private long lastWholeRead;
    /** The provider the view was read whole from: CSNs say what is new on one provider only. */
    private String provider;

    FolderView(ImapMetrics metrics, String folderUuid) {
        this.metrics = metrics;
        this.folderUuid = folderUuid;
    }

    /**
     * Brings the view up to date: the whole folder on the first read, from another provider, and
     * every {@link #WHOLE_READ_INTERVAL}; otherwise what the cursor says may have changed. A
     * message is deleted only once its state says expunged, a change read like any other; what an
     * incremental read can miss (a change replicated from another provider later than the
     * cursor's margin, a message deleted with ldapdelete) the next whole read finds. A folder
     * found gone stays gone to this view, empty, even if one of its name is made again: that is
     * another folder, whose UIDs start again. False when nothing changed.
     */
    boolean read(Mailstore store, String folder) throws Mailstore.Failure {
        if (gone) {
            return false;
        }
        long now = System.nanoTime();
        boolean whole = stale() || !store.provider().equals(provider);
        metrics.folderRead(whole ? "whole" : "changes");
        String from = whole ? ChangeCursor.NO_CHANGE : changes.from();
        Mailstore.Snapshot read = whole ? store.snapshot(folder, folderUuid) : store.changesSince(folder, folderUuid, from);
        if (!read.folderFound()) {
            gone = found || folderUuid != null;
            states.clear();
            stored.clear();
            changes.reset();
            return gone;
        }
        found = true;
        if (whole) {
            states.clear();
            stored.clear();
            changes.reset();
            provider = store.provider();
            lastWholeRead = now;
        }
        return merge(now, from, read) || whole;
    }

    /**
     * Reads what changed, back the cursor's margin, and adds it, without deciding whether the view
     * must be read whole: for a UID another session gave, which that session's change, begun
     * before the newest change read, can carry an earlier CSN than it.
     */
    void readChanges(Mailstore store, String folder) throws Mailstore.Failure {
        String from = changes.marginStart();
        merge(System.nanoTime(), from, store.changesSince(folder, folderUuid, from));
    }

    /**
     * Adds what a read found; false when it was all known as it is (a read reaches back to changes
     * already read). A message's own state entry says more than the entry that gave its UID with
     * others, whichever of the two a read finds first.
     */
    boolean merge(long began, String from, Mailstore.Snapshot read) {
        boolean changed = false;
        for (Mailstore.State state : read.states()) {
            Mailstore.State known = states.get(state.uid());
            if (state.given() && known != null && !known.given()) {
                continue;
            }
            changed |= !state.equals(states.put(state.uid(), state));
        }
        for (Mailstore.Stored message : read.messages()) {
            changed |= !message.equals(stored.put(message.id(), message));
        }
        changes.read(began, from, read.newestChange());
        return changed;
    }

    /** Entries held, what the view costs in memory. */
    int entries() {
        return states.size() + stored.size();
    }

    /** Whether the view is not worth keeping: its folder gone, never read, or last read whole too long ago (the next read is whole). */
    boolean stale() {
        return gone || !changes.started() || System.nanoTime() - lastWholeRead > WHOLE_READ_INTERVAL.toNanos();
    }
}
