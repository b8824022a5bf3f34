package org.mailstream.schemas;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A message as IMAP serves it: the stored bytes with every LF that lacks its CR served as CRLF,
 * as Dovecot serves a Maildir file (mail that came through Postfix's pipe(8) has LF line ends),
 * and every NUL as 0x80, which Dovecot sends too: IMAP4rev1 has no way to send a NUL. The store
 * worker records its size (mailStoreServedSize) so that RFC822.SIZE never needs the message
 * itself; the IMAP server serves these bytes. Nothing else is changed: a bare CR stays.
 */
public final class ServedForm {

    /** Eight octets of an array at a time, for the look that most messages pass: nothing to change. */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long EACH_ONE = 0x0101010101010101L;
    private static final long EACH_HIGH = 0x8080808080808080L;
    private static final long EACH_LF = EACH_ONE * '\n';

    private ServedForm() {
    }

    /** The number of octets {@link #of} returns for {@code raw}. */
    public static long size(byte[] raw) {
        return raw.length + bareLineFeeds(raw);
    }

    /**
     * The most octets of a header section {@link #header} gives: far more than any mail's header
     * needs, and little beside the message, so that a header fetch reads a few KB, not the message.
     */
    public static final int MAX_HEADER_BYTES = 64 * 1024;

    /**
     * The header section of {@code raw} as served: its octets up to and including the empty line
     * that ends it (all of them when no empty line does: a message may be all header), which
     * store-worker keeps apart (mailStoreHeader) so that a client listing a folder of large mails
     * does not make the IMAP server read them whole. Null when there is none, or when it is longer
     * than {@value #MAX_HEADER_BYTES} octets served: then the message is read whole, as before.
     */
    public static byte[] header(byte[] raw) {
        int end = raw.length;
        boolean lineStart = true;
        for (int i = 0; i < raw.length; i++) {
            if (i > MAX_HEADER_BYTES) {
                return null;
            }
            if (raw[i] == '\n') {
                if (lineStart) {
                    end = i + 1;
                    break;
                }
                lineStart = true;
            } else if (raw[i] != '\r' || i + 1 == raw.length || raw[i + 1] != '\n') {
                // A CR is part of the line end only right before its LF: a bare one is text, as in the served form.
                lineStart = false;
            }
        }
        byte[] header = of(end == raw.length ? raw : Arrays.copyOf(raw, end));
        return header.length == 0 || header.length > MAX_HEADER_BYTES ? null : header;
    }

    /** {@code raw} with each bare LF as CRLF and each NUL as 0x80; {@code raw} itself when it has neither. */
    public static byte[] of(byte[] raw) {
        if (servedAsStored(raw)) {
            return raw;
        }
        int bare = bareLineFeeds(raw);
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

    /**
     * Whether {@code raw} holds neither a NUL nor a bare LF. An IMAP server asks this of every
     * message it sends, so it looks at eight octets at once and at single octets only where a word
     * holds a NUL or an LF (one in nine words of text with lines of 72).
     */
    private static boolean servedAsStored(byte[] raw) {
        int word = 0;
        for (; word + Long.BYTES <= raw.length; word += Long.BYTES) {
            long octets = (long) WORDS.get(raw, word);
            if ((hasZeroOctet(octets) | hasZeroOctet(octets ^ EACH_LF)) != 0 && !servedAsStored(raw, word, word + Long.BYTES)) {
                return false;
            }
        }
        return servedAsStored(raw, word, raw.length);
    }

    /** Nonzero exactly when one of the eight octets of {@code octets} is zero. */
    private static long hasZeroOctet(long octets) {
        return (octets - EACH_ONE) & ~octets & EACH_HIGH;
    }

    private static boolean servedAsStored(byte[] raw, int from, int to) {
        for (int i = from; i < to; i++) {
            if (raw[i] == 0 || raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) {
                return false;
            }
        }
        return true;
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
