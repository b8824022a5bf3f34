package org.mailstream.imap;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The folder a session has selected, as that session has announced it to its client: the
 * visible messages in UID order (message sequence number = position + 1), made from its
 * {@link FolderView}. {@link #sync} brings the view up to date, gives UIDs to mail that has none,
 * and says what changed in untagged responses.
 *
 * <p>UIDs are given lazily, by whichever session of the user looks first: the mail that arrived
 * since the last look, in the order it was received, gets the next UIDs, up to
 * {@link Mailstore#UIDS_PER_ENTRY} of them by adding the one state entry named by the first.
 * Adding an entry that exists fails, so a UID goes to exactly one message; a session that loses
 * that race reads the folder again. Expunged states stay, so the highest UID ever given is always
 * in the folder and no UID is given twice.
 */
final class SelectedFolder {

    /** A visible message: its UID, id, flags, size as served and arrival. */
    record Message(long uid, String id, Set<String> flags, long size, Instant received) {
    }

    final String name;
    final long uidValidity;
    final boolean readOnly;
    /** Where the view is kept between sessions; null for a folder with no entry yet (an INBOX before its first mail). */
    final FolderViews.Key key;
    /** What has been read of the folder, perhaps by an earlier session. */
    final FolderView view;
    private final Map<Long, Mailstore.State> states;
    private final Map<String, Mailstore.Stored> stored;
    private List<Message> messages = new ArrayList<>();
    private long uidNext = 1;
    /** The highest UID the client has been told of: a message it has not been told of must have a higher one. */
    private long highestAnnounced;
    /** Whether the last sync finished: the view read is the one announced. */
    private boolean settled;

    SelectedFolder(String name, long uidValidity, boolean readOnly, FolderViews.Key key, FolderView view) {
        this.name = name;
        this.uidValidity = uidValidity;
        this.readOnly = readOnly;
        this.key = key;
        this.view = view;
        this.states = view.states;
        this.stored = view.stored;
    }

    /** The messages in sequence-number order; read-only, for the session's own changes go through {@link #flagsChanged}. */
    List<Message> messages() {
        return Collections.unmodifiableList(messages);
    }

    long uidNext() {
        return uidNext;
    }

    /** The message with {@code uid}'s sequence number, or 0. */
    int sequenceNumberOf(long uid) {
        int low = 0;
        int high = messages.size() - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            long found = messages.get(middle).uid();
            if (found == uid) {
                return middle + 1;
            } else if (found < uid) {
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        return 0;
    }

    /** The ids this folder's states say were expunged here, as last read: such an id stays gone from it. */
    Set<String> expungedIds() {
        return states.values().stream().filter(Mailstore.State::expunged).map(Mailstore.State::id).collect(Collectors.toSet());
    }

    /** The state of {@code message} as last read, which a change to its flags or an expunge starts from. */
    Mailstore.State stateOf(Message message) {
        return states.get(message.uid());
    }

    /**
     * Replaces one message's flags as the session now knows them, after its own STORE, in the view
     * too: else a read finding another session's change that put them back as the view last read
     * them would find nothing changed, and the session would go on showing its own.
     */
    void flagsChanged(long uid, Set<String> flags) {
        int number = sequenceNumberOf(uid);
        if (number > 0) {
            Message old = messages.get(number - 1);
            messages.set(number - 1, new Message(uid, old.id(), flags, old.size(), old.received()));
        }
        states.computeIfPresent(uid, (key, state) -> new Mailstore.State(uid, state.id(), List.copyOf(flags), state.expunged(),
                state.entry()));
    }

    /**
     * Reads what changed in the folder; returns the untagged responses that tell the client what
     * changed since it last heard (EXPUNGE, EXISTS, FETCH FLAGS), which a caller that must not send
     * them yet drops (RFC 3501 7.4.1: none during FETCH, STORE or SEARCH).
     */
    List<String> sync(Mailstore store) throws Mailstore.Failure {
        if (!view.read(store, name) && settled) {
            return List.of();
        }
        settled = false;
        assignUids(store);
        Map<Long, Message> visible = new HashMap<>();
        long highest = 0;
        for (Mailstore.State state : states.values()) {
            highest = Math.max(highest, state.uid());
            Mailstore.Stored message = stored.get(state.id());
            if (message == null) {
                continue;
            }
            if (state.expunged()) {
                store.removeMessage(name, state.id());
                stored.remove(state.id());
            } else {
                visible.put(state.uid(), new Message(state.uid(), state.id(), Flags.canonical(state.flags()), message.size(),
                        message.received()));
            }
        }
        uidNext = highest + 1;
        settled = true;
        return announce(visible);
    }

    /** Gives UIDs to the messages read that have none, each by this session or another. */
    private void assignUids(Mailstore store) throws Mailstore.Failure {
        while (true) {
            Set<String> named = states.values().stream().map(Mailstore.State::id).collect(Collectors.toSet());
            List<Mailstore.Stored> unnamed = stored.values().stream().filter(message -> !named.contains(message.id()))
                    .sorted(Comparator.comparing(Mailstore.Stored::received).thenComparing(Mailstore.Stored::id)).toList();
            if (unnamed.isEmpty()) {
                return;
            }
            long next = states.isEmpty() ? 1 : Collections.max(states.keySet()) + 1;
            boolean all = true;
            for (int from = 0; from < unnamed.size(); from += Mailstore.UIDS_PER_ENTRY) {
                List<String> ids = unnamed.subList(from, Math.min(unnamed.size(), from + Mailstore.UIDS_PER_ENTRY)).stream()
                        .map(Mailstore.Stored::id).toList();
                if (!store.give(name, next, ids)) {
                    all = false;
                    break;
                }
                for (int i = 0; i < ids.size(); i++) {
                    states.put(next + i, new Mailstore.State(next + i, ids.get(i), List.of(), false, next));
                }
                next += ids.size();
            }
            if (all) {
                return;
            }
            // Another session gave that UID first: read what it gave, and go on after it. Each
            // such read finds at least that UID, so the sessions that race share the work and
            // every one of them ends.
            view.readChanges(store, name);
            if (!states.containsKey(next)) {
                throw new Mailstore.Failure("INUSE", "another session gave UID " + next + " of this folder, but it is not readable yet; try again",
                        null);
            }
        }
    }

    /**
     * Takes {@code visible} as the session's view and says how it differs from the last. A
     * message that appears with a UID not above every one announced (a state replicated late, a
     * folder made anew under the name) waits for the next SELECT: a client must see UIDs only
     * ascend, and a UID names one message only.
     */
    private List<String> announce(Map<Long, Message> visible) {
        Map<Long, Message> before = new HashMap<>();
        messages.forEach(message -> before.put(message.uid(), message));
        List<Message> now = visible.values().stream().filter(message -> {
            Message told = before.get(message.uid());
            return told != null ? told.id().equals(message.id()) : message.uid() > highestAnnounced;
        }).sorted(Comparator.comparingLong(Message::uid)).toList();
        Set<Long> kept = now.stream().map(Message::uid).filter(before::containsKey).collect(Collectors.toSet());
        List<String> responses = new ArrayList<>();
        for (int number = messages.size(); number >= 1; number--) {
            if (!kept.contains(messages.get(number - 1).uid())) {
                responses.add("* " + number + " EXPUNGE");
            }
        }
        int remaining = messages.size() - responses.size();
        if (now.size() != remaining) {
            responses.add("* " + now.size() + " EXISTS");
        }
        for (int number = 1; number <= now.size(); number++) {
            Message message = now.get(number - 1);
            Message old = before.get(message.uid());
            if (old != null && !old.flags().equals(message.flags())) {
                responses.add("* " + number + " FETCH (UID " + message.uid() + " FLAGS " + Flags.list(message.flags()) + ")");
            }
        }
        messages = new ArrayList<>(now);
        if (!now.isEmpty()) {
            highestAnnounced = Math.max(highestAnnounced, now.get(now.size() - 1).uid());
        }
        return responses;
    }
}
