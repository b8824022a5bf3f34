package org.mailstream.schemas;

/**
 * A message as IMAP serves it: the stored bytes with every LF that lacks its CR served as CRLF,
 * as Dovecot serves a Maildir file (mail that came through Postfix's pipe(8) has LF line ends),
 * and every NUL as 0x80, which Dovecot sends too: IMAP4rev1 has no way to send a NUL. The store
 * worker records its size (mailStoreServedSize) so that RFC822.SIZE never needs the message
 * itself; the IMAP server serves these bytes. Nothing else is changed: a bare CR stays.
 */
public final class ServedForm {

    private ServedForm() {
    }

    /** The number of octets {@link #of} returns for {@code raw}. */
    public static long size(byte[] raw) {
        return raw.length + bareLineFeeds(raw);
    }

    /** {@code raw} with each bare LF as CRLF and each NUL as 0x80; {@code raw} itself when it has neither. */
    public static byte[] of(byte[] raw) {
        int bare = bareLineFeeds(raw);
        if (bare == 0 && !hasNul(raw)) {
            return raw;
        }
        byte[] served = new byte[raw.length + bare];
        int out = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) {
                served[out++] = '\r';
            }
            served[out++] = raw[i] == 0 ? (byte) 0x80 : raw[i];
        }
        return served;
    }

    private static boolean hasNul(byte[] raw) {
        for (byte b : raw) {
            if (b == 0) {
                return true;
            }
        }
        return false;
    }

    private static int bareLineFeeds(byte[] raw) {
        int bare = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) {
                bare++;
            }
        }
        return bare;
    }
}
