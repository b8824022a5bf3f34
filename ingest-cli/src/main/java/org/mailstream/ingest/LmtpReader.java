package org.mailstream.ingest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The LMTP wire, read: command lines and DATA, byte by byte, buffered without the locking of
 * BufferedInputStream. DATA is binary-clean (RFC 5321 4.5.2): only the transparency dots go.
 */
final class LmtpReader {

    /** A command line longer than the limit; it has been read to its end. */
    static final class LineTooLong extends IOException {
        private static final long serialVersionUID = 1L;
    }

    private final InputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;

    LmtpReader(InputStream in) {
        this.in = in;
    }

    /** The next octet, or -1 at the end of the stream. */
    int read() throws IOException {
        if (position == limit) {
            limit = in.read(buffer, 0, buffer.length);
            position = 0;
            if (limit <= 0) {
                limit = 0;
                return -1;
            }
        }
        return buffer[position++] & 0xff;
    }

    /** A line without its LF (and the CR before it); null at the end of the stream. */
    byte[] readLine(int maxLength) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        boolean tooLong = false;
        int b;
        while ((b = read()) != -1 && b != '\n') {
            if (line.size() < maxLength) {
                line.write(b);
            } else {
                tooLong = true;
            }
        }
        if (b == -1 && line.size() == 0) {
            return null;
        }
        if (tooLong) {
            throw new LineTooLong();
        }
        byte[] bytes = line.toByteArray();
        return bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? Arrays.copyOf(bytes, bytes.length - 1) : bytes;
    }

    /**
     * The DATA content up to the line that holds only a dot, with the dot that starts any
     * other line removed; octets past {@code maxBytes} are read but kept no further than one
     * past the limit, so that the caller sees it was exceeded. Null when the stream ends first.
     * The buffer grows with what arrives, never with what a client announces (MAIL's SIZE).
     */
    byte[] readData(int maxBytes) throws IOException {
        Capped data = new Capped(16 * 1024, maxBytes + 1);
        boolean lineStart = true;
        boolean afterCr = false;
        while (true) {
            int b = read();
            if (b == -1) {
                return null;
            }
            if (lineStart && b == '.') {
                int next = read();
                if (next == '\r') {
                    int third = read();
                    if (third == '\n') {
                        return data.toArray();
                    }
                    if (third == -1) {
                        return null;
                    }
                    // ".\rX": a stuffed dot before a bare CR
                    data.offer('\r');
                    b = third;
                    afterCr = true;
                } else if (next == -1) {
                    return null;
                } else {
                    b = next; // the transparency dot is dropped
                    afterCr = false;
                }
            }
            data.offer(b);
            lineStart = b == '\n' && afterCr;
            afterCr = b == '\r';
        }
    }

    /**
     * DATA's buffer: it keeps the first {@code limit} octets offered and drops the rest, and
     * grows by doubling up to the limit, not beyond. ByteArrayOutputStream would take the next
     * power of two for a message near the size limit, and ingest-lmtpd's heap is sized for twice
     * the largest message on every connection, not three times.
     */
    private static final class Capped {
        private final int limit;
        private byte[] bytes;
        private int size;

        Capped(int capacity, int limit) {
            this.limit = limit;
            this.bytes = new byte[Math.min(capacity, limit)];
        }

        void offer(int b) {
            if (size == limit) {
                return;
            }
            if (size == bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(limit, bytes.length * 2L));
            }
            bytes[size++] = (byte) b;
        }

        byte[] toArray() {
            return Arrays.copyOf(bytes, size);
        }
    }
}
