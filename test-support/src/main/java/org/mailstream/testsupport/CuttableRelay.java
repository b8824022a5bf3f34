package org.mailstream.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP relay on a loopback port to one server, which a test cuts at a moment it chooses: after
 * the server's next reply has been passed on, every connection through the relay is closed and
 * each new one closed as soon as it is made, until {@link #mend()}. So a connection is lost
 * between two requests of a client for real, where stopping the server could not be timed.
 */
public final class CuttableRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final int serverPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean cutAfterReply = new AtomicBoolean();
    private volatile boolean cut;

    private CuttableRelay(ServerSocket listener, int serverPort) {
        this.listener = listener;
        this.serverPort = serverPort;
    }

    /** A relay to {@code serverPort} of 127.0.0.1, accepting on a free loopback port of its own. */
    public static CuttableRelay to(int serverPort) {
        try {
            CuttableRelay relay = new CuttableRelay(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), serverPort);
            Thread accepting = new Thread(relay::accept, "relay to " + serverPort);
            accepting.setDaemon(true);
            accepting.start();
            return relay;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for the relay", e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Cuts the relay once the server's next reply, on any connection, has been passed on to its client. */
    public void cutAfterNextReply() {
        cutAfterReply.set(true);
    }

    /** Relays new connections again. */
    public void mend() {
        cut = false;
    }

    @Override
    public void close() {
        closeQuietly(listener);
        open.forEach(CuttableRelay::closeQuietly);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                if (cut) {
                    closeQuietly(client);
                    continue;
                }
                Socket server = new Socket(InetAddress.getLoopbackAddress(), serverPort);
                open.add(client);
                open.add(server);
                pump(client, server, false);
                pump(server, client, true);
            } catch (IOException e) {
                // The listener closed, or the server refused one connection: its client sees it closed.
            }
        }
    }

    private void pump(Socket from, Socket to, boolean replies) {
        Thread pumping = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int read; (read = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, read);
                    out.flush();
                    if (replies && cutAfterReply.compareAndSet(true, false)) {
                        cut = true;
                        open.forEach(CuttableRelay::closeQuietly);
                    }
                }
            } catch (IOException e) {
                // One side went away: so does the other.
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "relay " + (replies ? "reply" : "request"));
        pumping.setDaemon(true);
        pumping.start();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // Already closed.
        }
    }
}
