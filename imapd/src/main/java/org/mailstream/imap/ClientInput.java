package org.mailstream.imap;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A client's input, read in blocks, that knows how far into it the session has read: a place in
 * what the client sent stays the same place however much of it is buffered meanwhile.
 */
final class ClientInput extends BufferedInputStream {

    /** The octets the buffer has taken from the connection. */
    private static final class Counted extends FilterInputStream {
        private long taken;

        Counted(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int octet = super.read();
            taken += octet < 0 ? 0 : 1;
            return octet;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            int read = super.read(into, offset, length);
            taken += Math.max(read, 0);
            return read;
        }

        @Override
        public long skip(long octets) throws IOException {
            long skipped = super.skip(octets);
            taken += skipped;
            return skipped;
        }
    }

    private final Counted source;

    ClientInput(InputStream in, int bufferSize) {
        this(new Counted(in), bufferSize);
    }

    private ClientInput(Counted source, int bufferSize) {
        super(source, bufferSize);
        this.source = source;
    }

    /** The octets read so far, as the session read them (a reset to the mark takes back what was read since). */
    synchronized long position() {
        return source.taken - (count - pos);
    }
}
