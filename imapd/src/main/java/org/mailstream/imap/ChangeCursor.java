package org.mailstream.imap;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.function.LongSupplier;

/**
 * Where a selected folder's next incremental read starts, from the entryCSNs read so far. slapd
 * takes a change's CSN when the change starts, so a change that started before the newest one
 * read may become visible after it: every {@link #MARGIN_READ_INTERVAL} a read reaches
 * {@link #MARGIN} back from the newest change, and the reads in between start at that change
 * (while mail flows in, a read of the margin returns every change of its last 10 s: read every
 * second by each idling session, that was most of what idlers cost slapd). Once the newest
 * change has been known for the margin, everything that started before it has become visible,
 * and a read of the margin that begins then has read it: later reads start at that change, so
 * that a burst of changes long past is not read again.
 */
final class ChangeCursor {

    static final Duration MARGIN = Duration.ofSeconds(10);

    /** How often a read reaches back the margin: a change that became visible late is seen within this. */
    static final Duration MARGIN_READ_INTERVAL = Duration.ofSeconds(3);

    /** Older than any change: where a cursor that has read nothing starts. */
    static final String NO_CHANGE = "19700101000000.000000Z#000000#000#000000";

    private static final String CSN_TIME = "yyyyMMddHHmmss.SSSSSS";
    private static final DateTimeFormatter CSN_TIME_FORMAT = DateTimeFormatter.ofPattern(CSN_TIME);

    private final LongSupplier nanoClock;
    /** The highest entryCSN read, and when it was first read; null before any. */
    private String newest;
    private long newestSeenAt;
    /** An entryCSN before which every change has been read; null while not known. */
    private String readThrough;
    /** When the last read that reached back the margin began. */
    private long marginReadAt;

    ChangeCursor(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Whether any change has been read since the cursor began or was reset. */
    boolean started() {
        return newest != null;
    }

    /** Where the next read starts: back the margin when it is due, else at the newest change read. */
    String from() {
        if (newest == null) {
            return NO_CHANGE;
        }
        return nanoClock.getAsLong() - marginReadAt >= MARGIN_READ_INTERVAL.toNanos() ? marginStart() : newest;
    }

    /** Where a read that reaches back the margin starts, never before what is known to be read, whether it is due or not. */
    String marginStart() {
        if (newest == null) {
            return NO_CHANGE;
        }
        String margin = before(newest, MARGIN);
        return readThrough != null && readThrough.compareTo(margin) > 0 ? readThrough : margin;
    }

    /**
     * A read that began at {@code began} (of the cursor's clock) from {@code from} found changes
     * up to {@code newestRead} (null: none).
     */
    void read(long began, String from, String newestRead) {
        if (newest == null || from.compareTo(marginStart()) <= 0) {
            marginReadAt = began;
            if (newest != null && began - newestSeenAt >= MARGIN.toNanos()) {
                readThrough = newest;
            }
        }
        if (newestRead != null && (newest == null || newestRead.compareTo(newest) > 0)) {
            newest = newestRead;
            newestSeenAt = nanoClock.getAsLong();
        }
    }

    /** Forgets every change read, for a read of the whole folder. */
    void reset() {
        newest = null;
        readThrough = null;
    }

    /** The entryCSN {@code margin} before {@code entryCsn}, before every change of that moment on any provider. */
    static String before(String entryCsn, Duration margin) {
        return CSN_TIME_FORMAT.format(LocalDateTime.ofInstant(time(entryCsn).minus(margin), ZoneOffset.UTC)) + "Z#000000#000#000000";
    }

    /** When the provider that made the change {@code entryCsn} made it, by its clock, to the microsecond. */
    static Instant time(String entryCsn) {
        return LocalDateTime.parse(entryCsn.substring(0, CSN_TIME.length()), CSN_TIME_FORMAT).toInstant(ZoneOffset.UTC);
    }
}
