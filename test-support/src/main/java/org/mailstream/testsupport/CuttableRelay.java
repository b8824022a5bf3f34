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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP relay on a loopback port to one server, which a test cuts at a moment it chooses: after
 * the server's next reply has been passed on, every connection through the relay is closed, and
 * new ones are either relayed or closed as soon as they are made; or instead of passing a reply
 * on. So a connection is lost between two requests of a client, or with the answer to one, for
 * real, where stopping the server could not be timed.
 */
public final class CuttableRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final int serverPort;
    private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
    private final Set<Socket> servers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionsMade = new AtomicInteger();
    /** What happens once the server's next reply has been passed on; null for nothing. */
    private final AtomicReference<Cut> afterNextReply = new AtomicReference<>();
    /** How many more replies pass before the one that is lost; negative when none is to be lost. */
    private final AtomicInteger repliesBeforeLoss = new AtomicInteger(-1);
    private volatile boolean refusing;

    private enum Cut {
        /** The connections are closed; new ones are relayed. */
        DROP,
        /** The connections are closed, and so is each new one from then on: the server is gone. */
        DOWN
    }

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

    /** How many connections clients have made to the relay, relayed or closed at once. */
    public int connectionsMade() {
        return connectionsMade.get();
    }

    /** Closes every connection once the server's next reply, on any of them, has been passed on; new ones are relayed. */
    public void dropAfterNextReply() {
        afterNextReply.set(Cut.DROP);
    }

    /** Closes every connection once the server's next reply has been passed on, and each new one from then on. */
    public void cutAfterNextReply() {
        afterNextReply.set(Cut.DOWN);
    }

    /**
     * Passes on the server's next {@code passing} replies, then loses the one after: every
     * connection is closed instead of passing it on, so the server has done what was asked and
     * its client never hears; new connections are relayed.
     */
    public void loseReplyAfter(int passing) {
        repliesBeforeLoss.set(passing);
    }

    @Override
    public void close() {
        closeQuietly(listener);
        servers.forEach(CuttableRelay::closeQuietly);
        clients.forEach(CuttableRelay::closeQuietly);
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException closed) {
                return;
            }
            connectionsMade.incrementAndGet();
            if (refusing) {
                closeQuietly(client);
                continue;
            }
            try {
                Socket server = new Socket(InetAddress.getLoopbackAddress(), serverPort);
                clients.add(client);
                servers.add(server);
                pump(client, server, false);
                pump(server, client, true);
            } catch (IOException refused) {
                // The server refused the connection: so does the relay, to its client.
                closeQuietly(client);
            }
        }
    }

    private void pump(Socket from, Socket to, boolean replies) {
        Thread pumping = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int read; (read = in.read(buffer)) >= 0; ) {
                    if (replies && repliesBeforeLoss.get() >= 0 && repliesBeforeLoss.getAndDecrement() == 0) {
                        servers.forEach(CuttableRelay::closeQuietly);
                        clients.forEach(CuttableRelay::closeQuietly);
                        return;
                    }
                    Cut cut = replies ? afterNextReply.getAndSet(null) : null;
                    if (cut != null) {
                        refusing = cut == Cut.DOWN;
                        // The servers' side first: what the client sends once it has this reply must reach no server
                        // (a next request slipped through in the moment between passing the reply on and the cut).
                        servers.forEach(CuttableRelay::closeQuietly);
                    }
                    out.write(buffer, 0, read);
                    out.flush();
                    if (cut != null) {
                        clients.forEach(CuttableRelay::closeQuietly);
                    }
                }
            } catch (IOException e) {
                // One side went away: so does the other.
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                Set.of(from, to).forEach(socket -> {
                    clients.remove(socket);
                    servers.remove(socket);
                });
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
