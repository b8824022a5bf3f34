package org.mailstream.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * One client connection as a session sees it. Reading flushes what the session has written
 * before it waits for the client, so that a pipelining client is answered without the
 * session having to flush; every wait on the client, to read or to write, is timed by the server.
 */
public interface Connection {

    InputStream in();

    /** Buffered: flushed before any read that waits, and by the session where it must be. */
    OutputStream out();

    /** The client's address and port, or "unix socket client", for the log. */
    String peer();

    /** The client's address over TCP; null over a unix socket, whose clients the socket's mode and group vouch for. */
    InetAddress address();

    /**
     * Flushes the replies, then waits up to {@code timeout} for the client to send something,
     * without reading it: true once there is input. For a session that must act while it waits
     * (IMAP's IDLE). Not counted as a wait for the idle timeout: the session keeps its own.
     */
    boolean awaitInput(Duration timeout) throws IOException;

    /**
     * Ends the {@link #awaitInput} in progress as if its timeout had passed, or else the next one
     * at once: for another thread to make a waiting session act now (IMAP's IDLE, told of a change
     * another session made).
     */
    void wake();

    /** The TCP port the client connected to; 0 over a unix socket. */
    int localPort();

    /** Whether the connection is encrypted: {@link #startTls} has run. */
    boolean secure();

    /**
     * Flushes the replies, then turns the connection into a TLS server connection and runs the
     * handshake; what is read and written afterwards goes through TLS. TCP clients only.
     */
    void startTls(SSLContext context) throws IOException;
}
