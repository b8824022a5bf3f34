package org.mailstream.imap;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The folder views sessions have left behind, so that the next SELECT, STATUS or resync of a
 * folder reads only what changed since (a mail client that checks every few minutes, mbsync run
 * from cron) rather than every entry of it, as Dovecot reads its index rather than the Maildir.
 * A view holds UIDs, flags, ids and sizes, never a message's content, and is found only by the
 * owner's DN as the session is bound and the folder entry's entryUUID as that owner reads it: a
 * view is another's only if the directory says so, and a folder made anew under the same name
 * starts anew. Views are given out whole to one session at a time; held to at most a number of
 * entries, the least recently left dropped first.
 */
final class FolderViews {

    /** Whose folder, as the directory names both: the owner's normalized DN and the folder's entryUUID. */
    record Key(String owner, String folder) {
    }

    private final int capacity;
    private final ImapMetrics metrics;
    /** Least recently kept first. */
    private final LinkedHashMap<Key, FolderView> views = new LinkedHashMap<>();
    private long entries;

    /** Keeps views of at most {@code capacity} entries in all (0: none). */
    FolderViews(int capacity, ImapMetrics metrics) {
        this.capacity = capacity;
        this.metrics = metrics;
    }

    /** The view kept of the folder {@code key} names, now the caller's alone; an empty one when none is kept (or the key is null). */
    synchronized FolderView take(Key key) {
        FolderView kept = key == null ? null : views.remove(key);
        if (kept == null) {
            return new FolderView(metrics, key == null ? null : key.folder());
        }
        entries -= kept.entries();
        metrics.folderViewEntries(entries);
        return kept;
    }

    /** Keeps {@code view}, which its caller no longer uses, for the next look at the folder. */
    synchronized void keep(Key key, FolderView view) {
        if (key == null || capacity == 0 || view.stale() || view.entries() > capacity) {
            return;
        }
        FolderView replaced = views.remove(key);
        if (replaced != null) {
            entries -= replaced.entries();
        }
        views.put(key, view);
        entries += view.entries();
        Iterator<Map.Entry<Key, FolderView>> oldest = views.entrySet().iterator();
        while (entries > capacity) {
            entries -= oldest.next().getValue().entries();
            oldest.remove();
        }
        metrics.folderViewEntries(entries);
    }
}
