package org.mailstream.imap;

import com.unboundid.ldap.sdk.AsyncRequestID;
import com.unboundid.ldap.sdk.AsyncSearchResultListener;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchResultReference;

/**
 * The directory telling a session in IDLE of each change to its folder's entries as it is made:
 * a content synchronization search in refreshAndPersist mode (RFC 4533, which OpenLDAP's syncprov
 * overlay answers), bound as the user like every read, asking only for each changed entry's
 * entryCSN. The session still reads the changes itself, as at any look; the watch only says when
 * there is something to read, and from how far back (a change that began before one already read
 * can become visible after it). It ends when the directory refuses it (a back end without
 * syncprov), or its connection is lost; the session then looks every imap.idle.poll.ms.
 */
final class FolderWatch implements AsyncSearchResultListener, AutoCloseable {

    private static final long serialVersionUID = 1L;

    private final transient Runnable told;
    private transient LDAPConnection connection;
    private transient AsyncRequestID request;
    private boolean ended;
    /** Whether a change was told of since {@link #takeEarliest} last took them. */
    private boolean changed;
    /** The earliest entryCSN among those changes; null when none carried one (a deletion). */
    private String earliest;

    /** A watch that calls {@code told}, from the connection's thread, at each change and at its end. */
    FolderWatch(Runnable told) {
        this.told = told;
    }

    /** The search was sent as {@code request} on {@code connection}; {@link #close} abandons it there. */
    synchronized void sent(LDAPConnection connection, AsyncRequestID request) {
        this.connection = connection;
        this.request = request;
    }

    /** Whether the directory still tells of changes: false once refused, lost or closed. */
    synchronized boolean watching() {
        return !ended;
    }

    /** Whether a change was told of that the session has not read since. */
    synchronized boolean changed() {
        return changed;
    }

    /**
     * Takes the changes told of so far, for a read that begins now: the earliest entryCSN among
     * them, which that read must reach back to, or null when it need not reach back further than
     * usual (none told, or only deletions).
     */
    synchronized String takeEarliest() {
        String taken = earliest;
        changed = false;
        earliest = null;
        return taken;
    }

    @Override
    public void searchEntryReturned(SearchResultEntry entry) {
        String change = entry.getAttributeValue("entryCSN");
        synchronized (this) {
            changed = true;
            if (change != null && (earliest == null || change.compareTo(earliest) < 0)) {
                earliest = change;
            }
        }
        told.run();
    }

    @Override
    public void searchReferenceReturned(SearchResultReference reference) {
    }

    @Override
    public void searchResultReceived(AsyncRequestID requestId, SearchResult result) {
        synchronized (this) {
            ended = true;
        }
        told.run();
    }

    /** Stops the watch: abandons the search, which the directory answers with nothing. */
    @Override
    public synchronized void close() {
        if (!ended && request != null) {
            try {
                connection.abandon(request);
            } catch (LDAPException lost) {
                // the connection is gone, and the search with it
            }
        }
        ended = true;
    }
}
