package org.mailstream.server;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.Channels;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * A protocol's listeners and connections: unix sockets with a mode and group, TCP with an
 * allow-list of client networks, a limit on connections at once, each served by a thread of its
 * own. No client can keep its slot: one silent, or not reading what it is sent, for the idle
 * timeout is disconnected, and so is one that takes longer than the transaction timeout over a
 * transaction, however steadily it trickles. The stop answers every transaction in flight
 * within its grace, then closes what is left without waiting on any client.
 *
 * <p>Blocking I/O cannot time out a write, so every wait on the client is marked while it lasts,
 * and a sweeper, once a second, closes the connections that have waited too long: closing the
 * channel ends the blocked read or write. A farewell line is written only to a client the server
 * is waiting to hear from, by a thread of its own, and the channel is closed soon after whether
 * or not the client took it.
 */
public final class Server {

    private static final Logger LOG = LoggerFactory.getLogger(Server.class);
    private static final Duration REPORT_EVERY = Duration.ofSeconds(60);
    /** How long a farewell may take to write before the connection is closed under it. */
    private static final long FAREWELL_NANOS = Duration.ofSeconds(2).toNanos();

    /** What a connection is waiting for, if anything. */
    private enum Wait { NONE, CLIENT_TO_SEND, CLIENT_TO_READ }

    private final class Link implements Connection {
        final SocketChannel channel;
        final String peer;
        final InetAddress address;
        final InputStream in;
        final OutputStream out;
        /** What the streams read and write: the channel's, or a TLS socket's over it once {@link #startTls} has run. */
        private volatile InputStream rawIn;
        private volatile OutputStream rawOut;
        private volatile boolean secure;
        volatile Wait waiting = Wait.NONE;
        volatile long waitingSinceNanos;
        /** When the server began to end this connection; 0 while it has not. */
        volatile long endingSinceNanos;
        volatile Protocol.Session session;
        /** The selector an {@link #awaitInput} waits on while it waits, for {@link #wake}; null otherwise. */
        private volatile Selector awaiting;
        /** A {@link #wake} not yet taken by an {@link #awaitInput}. */
        private final AtomicBoolean woken = new AtomicBoolean();

        Link(SocketChannel channel, String peer, InetAddress address) {
            this.channel = channel;
            this.peer = peer;
            this.address = address;
            this.rawOut = Channels.newOutputStream(channel);
            this.rawIn = Channels.newInputStream(channel);
            this.out = new BufferedOutputStream(new Waited(), 16 * 1024);
            this.in = new Flushing();
        }

        @Override
        public InputStream in() {
            return in;
        }

        @Override
        public OutputStream out() {
            return out;
        }

        @Override
        public String peer() {
            return peer;
        }

        @Override
        public InetAddress address() {
            return address;
        }

        @Override
        public boolean awaitInput(Duration timeout) throws IOException {
            out.flush();
            // A selector needs the channel non-blocking, and a blocking read needs it blocking
            // again, which it may be only once the selector, closed, has let go of it.
            channel.configureBlocking(false);
            try (Selector selector = Selector.open()) {
                channel.register(selector, SelectionKey.OP_READ);
                awaiting = selector;
                // Published before the flag is read: a wake that came earlier is seen here, a later one wakes the selector.
                if (woken.getAndSet(false)) {
                    return selector.selectNow() > 0;
                }
                return selector.select(Math.max(1, timeout.toMillis())) > 0;
            } finally {
                awaiting = null;
                // The session acts next, which is what a wake asks, however this wait ended.
                woken.set(false);
                channel.configureBlocking(true);
            }
        }

        @Override
        public void wake() {
            woken.set(true);
            Selector selector = awaiting;
            if (selector != null) {
                selector.wakeup();
            }
        }

        @Override
        public int localPort() {
            try {
                return channel.getLocalAddress() instanceof InetSocketAddress inet ? inet.getPort() : 0;
            } catch (IOException closed) {
                return 0;
            }
        }

        @Override
        public boolean secure() {
            return secure;
        }

        @Override
        public void startTls(SSLContext context) throws IOException {
            if (address == null) {
                throw new IOException("TLS is for TCP clients; a unix socket's are vouched for by its mode and group");
            }
            out.flush();
            Socket plain = channel.socket();
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, null, true);
            tls.setUseClientMode(false);
            // The handshake waits on the client like any read: the idle timeout ends one that never comes.
            waitFor(Wait.CLIENT_TO_SEND);
            try {
                tls.startHandshake();
            } finally {
                waiting = Wait.NONE;
            }
            rawIn = tls.getInputStream();
            rawOut = tls.getOutputStream();
            secure = true;
        }

        long waitedNanos(Wait what, long now) {
            return waiting == what ? now - waitingSinceNanos : 0;
        }

        /** Whether the session waits for its client in a transaction begun more than {@code limit} ago. */
        boolean inTransactionLongerThan(long limit, long now) {
            return waiting == Wait.CLIENT_TO_SEND && session != null
                    && session.transactionStartedNanos().stream().anyMatch(started -> now - started > limit);
        }

        /** Whether the session waits for its client to begin a transaction. */
        boolean betweenTransactions() {
            return waiting == Wait.CLIENT_TO_SEND && session != null && session.transactionStartedNanos().isEmpty();
        }

        /**
         * Ends the connection with {@code why} if {@code condition} holds of it, decided atomically
         * with the session's return from a read (see {@link Flushing#read(byte[], int, int)}), so
         * that what the session has read the session answers, and what it has not the farewell;
         * true when it ended it.
         */
        synchronized boolean endIf(Predicate<Link> condition, Protocol.Farewell why) {
            if (endingSinceNanos != 0 || !condition.test(this)) {
                return false;
            }
            end(why);
            return true;
        }

        /** Says {@code why} if the client is waited for, then closes; at most once. */
        synchronized void end(Protocol.Farewell why) {
            if (endingSinceNanos != 0) {
                return;
            }
            endingSinceNanos = System.nanoTime();
            // A farewell goes in the clear: over TLS it would be noise, so the connection just closes.
            if (waiting != Wait.CLIENT_TO_SEND || secure) {
                close(channel);
                return;
            }
            try {
                farewells.execute(() -> sayAndClose(channel, protocol.farewell(why, peer)));
            } catch (RejectedExecutionException stopped) {
                close(channel);
            }
        }

        /** Output that marks the connection as waiting on its client while a write blocks. */
        private final class Waited extends OutputStream {

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                waitFor(Wait.CLIENT_TO_READ);
                try {
                    rawOut.write(bytes, offset, length);
                } finally {
                    waiting = Wait.NONE;
                }
            }
        }

        /** Input that flushes the session's replies before it waits, and marks the wait. */
        private final class Flushing extends InputStream {

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                out.flush();
                waitFor(Wait.CLIENT_TO_SEND);
                int read;
                try {
                    read = rawIn.read(buffer, offset, length);
                } finally {
                    doneWaiting();
                }
                // Ended while the client spoke (a stop between transactions): the farewell, sent
                // on its own thread, answers what was read, so the session must not act on it.
                return endingSinceNanos != 0 ? -1 : read;
            }

            @Override
            public int available() throws IOException {
                return rawIn.available();
            }
        }

        private synchronized void doneWaiting() {
            waiting = Wait.NONE;
        }

        private void waitFor(Wait what) {
            waitingSinceNanos = System.nanoTime();
            waiting = what;
        }
    }

    /** A bound listener, what it is called in the log, and whether its clients come over TCP. */
    private record Listener(ServerSocketChannel channel, String address, boolean tcp) {
    }

    private final ServerSettings settings;
    private final Protocol protocol;
    private final ServerMetrics metrics;
    private final List<Listener> listeners = new ArrayList<>();
    private final List<Path> socketFiles = new ArrayList<>();
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Semaphore slots;
    private final ScheduledExecutorService sweeper;
    private final ExecutorService farewells;
    private volatile boolean stopping;

    private Server(ServerSettings settings, Protocol protocol, ServerMetrics metrics) {
        this.settings = settings;
        this.protocol = protocol;
        this.metrics = metrics;
        this.slots = new Semaphore(settings.maxConnections());
        this.sweeper = Executors.newSingleThreadScheduledExecutor(daemons(protocol.name() + " sweeper"));
        this.farewells = Executors.newCachedThreadPool(daemons(protocol.name() + " farewell"));
    }

    /**
     * Binds every listener (or none: a failure closes those already bound, and is a fault of the
     * configuration) and starts accepting; {@code report}, if not null, is logged every minute
     * with the connection counts.
     */
    public static Server start(ServerSettings settings, Protocol protocol, ServerMetrics metrics, Object report) {
        Server server = new Server(settings, protocol, metrics);
        try {
            for (ServerKeys.Listen listen : settings.listeners()) {
                server.bind(listen);
            }
        } catch (IOException | RuntimeException e) {
            server.closeListeners();
            throw new ConfigException("cannot listen on " + settings.listeners() + ": " + e);
        }
        for (Listener listener : server.listeners) {
            new Thread(() -> server.accept(listener), protocol.name() + " accept " + listener.address()).start();
        }
        server.every(Duration.ofSeconds(1), server::sweep);
        server.every(REPORT_EVERY, () -> LOG.info(metrics + (report == null ? "" : ", " + report)));
        return server;
    }

    /**
     * Waits for SIGTERM or SIGINT, for a server's main thread. They are caught rather than left to
     * the JVM's shutdown, so that the stop runs with logging intact and a stop that answered
     * everything exits 0, not 143.
     */
    public static void awaitStopSignal() {
        CountDownLatch signalled = new CountDownLatch(1);
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), signal -> {
                LOG.info("SIG{}: stopping", name);
                signalled.countDown();
            });
        }
        try {
            signalled.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The addresses listened on, for the start-up log line: unix:/path or inet:host:port. */
    public List<String> addresses() {
        return listeners.stream().map(Listener::address).toList();
    }

    /**
     * Stops accepting, ends every connection between transactions, waits up to {@code grace} for
     * the transactions in flight to end, then ends the rest; returns within {@code grace} and a
     * farewell's few seconds, whatever the clients do.
     */
    public void stop(Duration grace) {
        stopping = true;
        closeListeners();
        long deadline = System.nanoTime() + grace.toNanos();
        while (!links.isEmpty() && System.nanoTime() - deadline < 0) {
            links.forEach(link -> link.endIf(Link::betweenTransactions, Protocol.Farewell.SHUTTING_DOWN));
            pause(50);
        }
        links.forEach(link -> link.end(Protocol.Farewell.SHUTTING_DOWN));
        long closeBy = System.nanoTime() + FAREWELL_NANOS;
        while (!links.isEmpty() && System.nanoTime() - closeBy < 0) {
            pause(50);
        }
        links.forEach(link -> close(link.channel));
        sweeper.shutdownNow();
        farewells.shutdownNow();
        LOG.info(protocol.name() + " stopped: " + metrics);
    }

    /** Ends the connections that have waited on their client too long, and closes those whose farewell is overdue. */
    private void sweep() {
        long now = System.nanoTime();
        long idle = settings.idleTimeout().toNanos();
        long transaction = settings.transactionTimeout().toNanos();
        for (Link link : links) {
            if (link.endingSinceNanos != 0) {
                if (now - link.endingSinceNanos > FAREWELL_NANOS) {
                    close(link.channel);
                }
            } else if (link.endIf(silent -> silent.waitedNanos(Wait.CLIENT_TO_SEND, now) > idle, Protocol.Farewell.IDLE)) {
                metrics.dropped();
            } else if (link.endIf(unread -> unread.waitedNanos(Wait.CLIENT_TO_READ, now) > idle, Protocol.Farewell.IDLE)) {
                metrics.dropped();
                LOG.info(protocol.name() + ": " + link.peer + " did not read its replies for "
                        + settings.idleTimeout().toSeconds() + " s: disconnected");
            } else if (link.endIf(slow -> slow.inTransactionLongerThan(transaction, now), Protocol.Farewell.TRANSACTION_TOO_LONG)) {
                metrics.dropped();
                LOG.info(protocol.name() + ": " + link.peer + " took longer than "
                        + settings.transactionTimeout().toSeconds() + " s over one transaction: disconnected");
            }
        }
    }

    private void bind(ServerKeys.Listen listen) throws IOException {
        if (listen instanceof ServerKeys.Listen.Unix unix) {
            Path path = unix.path();
            removeStaleSocket(path);
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listeners.add(new Listener(channel, "unix:" + path, false));
            channel.bind(UnixDomainSocketAddress.of(path), settings.maxConnections());
            socketFiles.add(path);
            Files.setPosixFilePermissions(path, settings.socketMode());
            if (!settings.socketGroup().isEmpty()) {
                GroupPrincipal group = path.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByGroupName(settings.socketGroup());
                Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(group);
            }
        } else if (listen instanceof ServerKeys.Listen.Inet inet) {
            ServerSocketChannel channel = ServerSocketChannel.open();
            try {
                channel.bind(new InetSocketAddress(InetAddress.getByName(inet.host()), inet.port()), settings.maxConnections());
            } catch (IOException | RuntimeException e) {
                close(channel);
                throw e;
            }
            InetSocketAddress bound = (InetSocketAddress) channel.getLocalAddress();
            listeners.add(new Listener(channel, "inet:" + bound.getAddress().getHostAddress() + ":" + bound.getPort(), true));
        }
    }

    /** A socket file left by a server that died is removed; one that a live server answers on is not. */
    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        boolean answered;
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            answered = true;
        } catch (IOException refused) {
            answered = false;
        }
        if (answered) {
            throw new IOException(path + " is in use by another server");
        }
        Files.delete(path);
    }

    /**
     * Sends each flush at once. A session buffers its replies and flushes them when it has said
     * all it can before the client speaks, so Nagle's algorithm only holds the last segment of a
     * reply back until the client acknowledges the one before, which the client delays (40 ms on
     * Linux): an IMAP client fetching one message at a time waited 23 ms a message for it.
     */
    private static void noDelay(SocketChannel channel) {
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            LOG.debug("TCP_NODELAY not set: " + e);
        }
    }

    private void accept(Listener listener) {
        int failures = 0;
        while (!stopping) {
            SocketChannel channel;
            try {
                channel = listener.channel().accept();
            } catch (IOException e) {
                if (stopping || !listener.channel().isOpen()) {
                    return;
                }
                // Out of file descriptors, say: the listener is still good, so try again soon, and
                // say it once, not ten times a second.
                if (failures++ == 0) {
                    LOG.error("accepting on " + listener.address() + " failed, trying again: " + e);
                }
                pause(100);
                continue;
            }
            if (failures > 0) {
                LOG.info("accepting on " + listener.address() + " again after " + failures + " failed attempts");
                failures = 0;
            }
            serve(channel, listener.tcp());
        }
    }

    private void serve(SocketChannel channel, boolean tcp) {
        InetAddress address = tcp ? remoteAddress(channel) : null;
        String peer = tcp ? (address == null ? "unknown client" : peer(channel)) : "unix socket client";
        if (tcp && (address == null || !settings.allows(address))) {
            metrics.turnedAway();
            LOG.warn(protocol.name() + ": refused " + peer + ": not in " + settings.allowKey());
            sayAndClose(channel, protocol.farewell(Protocol.Farewell.NOT_ALLOWED, peer));
            return;
        }
        if (stopping || !slots.tryAcquire()) {
            metrics.turnedAway();
            sayAndClose(channel, protocol.farewell(stopping ? Protocol.Farewell.SHUTTING_DOWN : Protocol.Farewell.TOO_MANY_CONNECTIONS, peer));
            return;
        }
        if (tcp) {
            noDelay(channel);
        }
        Link link = new Link(channel, peer, address);
        links.add(link);
        metrics.served();
        Thread thread = new Thread(() -> {
            try {
                link.session = protocol.open(link);
                link.session.serve();
                link.out.flush();
            } catch (IOException clientLeftOrWasClosed) {
                // nothing was acknowledged that the client did not hear
            } catch (RuntimeException e) {
                LOG.error(protocol.name() + " session with " + peer + " failed", e);
            } finally {
                close(channel);
                links.remove(link);
                metrics.closed();
                slots.release();
            }
        }, protocol.name() + " " + peer);
        thread.start();
    }

    private void every(Duration period, Runnable task) {
        // A task that throws would be cancelled without a word: say it, and go on.
        sweeper.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error(protocol.name() + " housekeeping failed", e);
            }
        }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void closeListeners() {
        listeners.forEach(listener -> close(listener.channel()));
        for (Path file : socketFiles) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.warn("cannot remove " + file + ": " + e);
            }
        }
    }

    private static void sayAndClose(SocketChannel channel, String line) {
        try {
            channel.write(ByteBuffer.wrap((line + "\r\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException alreadyGone) {
            // the client left first
        }
        close(channel);
    }

    private static void close(Channel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all that was left to do
        }
    }

    private static InetAddress remoteAddress(SocketChannel channel) {
        try {
            return channel.getRemoteAddress() instanceof InetSocketAddress inet ? inet.getAddress() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String peer(SocketChannel channel) {
        try {
            InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
            return remote.getAddress().getHostAddress() + ":" + remote.getPort();
        } catch (IOException | ClassCastException e) {
            return "unknown client";
        }
    }

    private static ThreadFactory daemons(String name) {
        return task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
