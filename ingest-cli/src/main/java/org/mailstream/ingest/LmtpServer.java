package org.mailstream.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.BufferedOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The LMTP listeners and their connections: unix sockets with a mode and group so that only
 * Postfix reaches them, TCP on the addresses given with an allow-list of client networks, a
 * limit on connections at once, an idle timeout, and a stop that answers every transaction in
 * flight before it closes. Each connection is served by a thread of its own.
 */
final class LmtpServer {

    private static final System.Logger LOG = System.getLogger(LmtpServer.class.getName());
    private static final Duration REPORT_EVERY = Duration.ofSeconds(60);

    /** One client connection and what the idle timeout and the stop need to know of it. */
    private final class Connection {
        final SocketChannel channel;
        final LmtpSession session;
        volatile boolean waitingForClient;
        volatile long lastHeardNanos = System.nanoTime();

        Connection(SocketChannel channel, String peer) {
            this.channel = channel;
            this.session = new LmtpSession(context, new Heard(Channels.newInputStream(channel), this),
                    new BufferedOutputStream(Channels.newOutputStream(channel), 16 * 1024), peer);
        }

        /**
         * Says {@code reply} and closes, if the connection is waiting for its client; one inside a
         * transaction only when {@code evenInTransaction}: nothing of it has been acknowledged yet.
         */
        void closeIfWaiting(String reply, boolean evenInTransaction) {
            if (waitingForClient && (evenInTransaction || !session.inTransaction())) {
                sayAndClose(channel, reply);
            }
        }
    }

    /** Marks a connection as waiting for its client while a read blocks. */
    private static final class Heard extends InputStream {
        private final InputStream in;
        private final Connection connection;

        Heard(InputStream in, Connection connection) {
            this.in = in;
            this.connection = connection;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            connection.waitingForClient = true;
            try {
                return in.read(buffer, offset, length);
            } finally {
                connection.waitingForClient = false;
                connection.lastHeardNanos = System.nanoTime();
            }
        }
    }

    private final LmtpConfig config;
    private final LmtpSession.Context context;
    /** A bound listener, what it is called in the log, and whether its clients come over TCP. */
    private record Listener(ServerSocketChannel channel, String address, boolean tcp) {
    }

    private final List<Listener> listeners = new ArrayList<>();
    private final List<Path> socketFiles = new ArrayList<>();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Semaphore slots;
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "lmtp idle sweeper");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean stopping;

    private LmtpServer(LmtpConfig config, LmtpSession.Context context) {
        this.config = config;
        this.context = context;
        this.slots = new Semaphore(config.maxConnections());
    }

    /** Binds every listener (or none: a failure closes those already bound) and starts accepting. */
    static LmtpServer start(LmtpConfig config, LmtpSession.Context context) throws IOException {
        LmtpServer server = new LmtpServer(config, context);
        try {
            for (LmtpConfig.Listen listen : config.listeners()) {
                server.bind(listen);
            }
        } catch (IOException | RuntimeException e) {
            server.closeListeners();
            throw e;
        }
        for (Listener listener : server.listeners) {
            new Thread(() -> server.accept(listener), "lmtp accept " + listener.address()).start();
        }
        long idleNanos = TimeUnit.MILLISECONDS.toNanos(config.idleTimeoutMs());
        server.sweeper.scheduleWithFixedDelay(() -> server.connections.stream()
                .filter(c -> System.nanoTime() - c.lastHeardNanos > idleNanos)
                .forEach(c -> c.closeIfWaiting("421 4.4.2 idle for too long, closing the connection", true)), 1, 1, TimeUnit.SECONDS);
        server.sweeper.scheduleWithFixedDelay(() -> LOG.log(System.Logger.Level.INFO, context.metrics().toString()),
                REPORT_EVERY.toSeconds(), REPORT_EVERY.toSeconds(), TimeUnit.SECONDS);
        return server;
    }

    /** The addresses listened on, for the start-up log line: unix:/path or inet:host:port. */
    List<String> addresses() {
        return listeners.stream().map(Listener::address).toList();
    }

    /**
     * Stops accepting, says 421 to every client between transactions, waits up to {@code grace}
     * for the transactions in flight to be answered, then closes what is left.
     */
    void stop(Duration grace) {
        stopping = true;
        closeListeners();
        long deadline = System.nanoTime() + grace.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            connections.forEach(c -> c.closeIfWaiting("421 4.3.2 shutting down, try again later", false));
            pause(50);
        }
        connections.forEach(c -> sayAndClose(c.channel, "421 4.3.2 shutting down, try again later"));
        sweeper.shutdownNow();
        LOG.log(System.Logger.Level.INFO, "stopped: " + context.metrics());
    }

    private void bind(LmtpConfig.Listen listen) throws IOException {
        if (listen instanceof LmtpConfig.Listen.Unix unix) {
            Path path = unix.path();
            removeStaleSocket(path);
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listeners.add(new Listener(channel, "unix:" + path, false));
            channel.bind(UnixDomainSocketAddress.of(path), config.maxConnections());
            socketFiles.add(path);
            Files.setPosixFilePermissions(path, config.socketMode());
            if (!config.socketGroup().isEmpty()) {
                GroupPrincipal group = path.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByGroupName(config.socketGroup());
                Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(group);
            }
        } else if (listen instanceof LmtpConfig.Listen.Inet inet) {
            ServerSocketChannel channel = ServerSocketChannel.open();
            channel.bind(new InetSocketAddress(InetAddress.getByName(inet.host()), inet.port()), config.maxConnections());
            InetSocketAddress bound = (InetSocketAddress) channel.getLocalAddress();
            listeners.add(new Listener(channel, "inet:" + bound.getAddress().getHostAddress() + ":" + bound.getPort(), true));
        }
    }

    /** A socket file left by a server that died is removed; one that a live server answers on is not. */
    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException(path + " is in use by another server");
        } catch (IOException refused) {
            if (refused.getMessage() != null && refused.getMessage().endsWith("in use by another server")) {
                throw refused;
            }
            Files.delete(path);
        }
    }

    private void accept(Listener listener) {
        while (!stopping) {
            SocketChannel channel;
            try {
                channel = listener.channel().accept();
            } catch (IOException e) {
                if (!stopping) {
                    LOG.log(System.Logger.Level.ERROR, "accepting on " + listener.address() + " failed: " + e);
                }
                return;
            }
            serve(channel, listener.tcp());
        }
    }

    private void serve(SocketChannel channel, boolean tcp) {
                String peer = peer(channel);
        if (tcp && !allowed(channel)) {
            context.metrics().turnedAway();
            LOG.log(System.Logger.Level.WARNING, "refused " + peer + ": not in " + LmtpConfig.ALLOW);
            sayAndClose(channel, "554 5.7.1 " + peer + " may not connect");
            return;
        }
        if (stopping || !slots.tryAcquire()) {
            context.metrics().turnedAway();
            sayAndClose(channel, stopping ? "421 4.3.2 shutting down, try again later"
                    : "421 4.3.2 too many connections, try again later");
            return;
        }
        Connection connection = new Connection(channel, peer);
        connections.add(connection);
        context.metrics().served();
        Thread thread = new Thread(() -> {
            try {
                connection.session.serve();
            } catch (IOException clientLeftOrWasClosed) {
                // nothing was acknowledged that the client did not hear
            } finally {
                close(channel);
                connections.remove(connection);
                context.metrics().closed();
                slots.release();
            }
        }, "lmtp " + peer);
        thread.start();
    }

    private boolean allowed(SocketChannel channel) {
        try {
            InetAddress address = ((InetSocketAddress) channel.getRemoteAddress()).getAddress();
            return config.allowedNetworks().stream().anyMatch(network -> network.contains(address));
        } catch (IOException | ClassCastException e) {
            return false;
        }
    }

    private void closeListeners() {
        listeners.forEach(listener -> close(listener.channel()));
        for (Path file : socketFiles) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove " + file + ": " + e);
            }
        }
    }

    private static void sayAndClose(SocketChannel channel, String reply) {
        try {
            channel.write(ByteBuffer.wrap((reply + "\r\n").getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException alreadyGone) {
            // the client left first
        }
        close(channel);
    }

    private static void close(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all that was left to do
        }
    }

    private static String peer(SocketChannel channel) {
        try {
            Object remote = channel.getRemoteAddress();
            return remote instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() + ":" + inet.getPort()
                    : "unix socket client";
        } catch (IOException e) {
            return "unknown client";
        }
    }


    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
