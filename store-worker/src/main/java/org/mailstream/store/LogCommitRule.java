package org.mailstream.store;

import com.unboundid.ldap.sdk.DisconnectHandler;
import com.unboundid.ldap.sdk.DisconnectType;
import com.unboundid.ldap.sdk.GetEntryLDAPConnectionPoolHealthCheck;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPConnectionPoolHealthCheck;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit rule of {@code store.durability=log}: the back end's providers run without a sync per
 * add ({@code olcDbNoSync}) and flush to disk at each checkpoint ({@code olcDbCheckpoint}), so a
 * provider that loses power loses the writes since its last checkpoint, and nothing else. The
 * topic still holds every record, so a record's offset is committed only once its write can no
 * longer be lost:
 *
 * <ol>
 * <li>its write was acknowledged at least {@code store.log.commit.delay.ms} ago, which is longer
 *     than a checkpoint interval plus the time it takes this worker to notice a provider gone; and
 * <li>no connection to the back end has been lost since (any disconnect but the pool's own
 *     closing counts, even an idle one, because a provider that restarted may have come back
 *     without its tail); and
 * <li>a check of the idle connections, made just before the commit, finds none broken.
 * </ol>
 *
 * <p>Why that suffices: a write w lives on the provider that acknowledged it. If that provider
 * dies before its next checkpoint, it dies less than a checkpoint interval after w; the
 * connections to it then break at once (a process gone) or fail within
 * {@code ldap.response.timeout.ms} (in use) or within {@link #CHECK_INTERVAL} plus
 * {@link #CHECK_TIMEOUT} (idle, checked in the background), so the loss is seen before w is old
 * enough to commit, and the loop stores forward again from the last committed offset. If it dies
 * after that checkpoint, w is on its disk. The other providers take w by replication and, should
 * they lose it, take it again from that provider when they refresh.
 */
final class LogCommitRule implements CommitRule, DisconnectHandler {

    /** How often the pool's idle connections are checked in the background. */
    static final Duration CHECK_INTERVAL = Duration.ofSeconds(5);
    static final Duration CHECK_TIMEOUT = Duration.ofSeconds(5);
    /** The shortest checkpoint slapd's back-mdb can be given: olcDbCheckpoint counts in minutes. */
    static final Duration SHORTEST_CHECKPOINT = Duration.ofMinutes(1);
    /** Allowance for the checkpoint's own sync and for slapd's task queue running it late. */
    static final Duration MARGIN = Duration.ofSeconds(5);

    private static final Duration WARN_EVERY = Duration.ofSeconds(1);
    private static final Logger LOG = LoggerFactory.getLogger(LogCommitRule.class);

    private final Duration delay;
    private final AtomicLong lossSigns = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_EVERY.toNanos() - 1);
    private final LDAPConnectionPoolHealthCheck check = new GetEntryLDAPConnectionPoolHealthCheck("", CHECK_TIMEOUT.toMillis(),
            false, false, false, false, true, false);
    private volatile LDAPConnectionPool pool;

    LogCommitRule(Duration delay) {
        this.delay = delay;
    }

    /** The shortest commit delay that covers a checkpoint every {@code checkpoint} when an operation may take {@code responseTimeout}. */
    static Duration shortestDelay(Duration checkpoint, Duration responseTimeout) {
        Duration noticeIdle = CHECK_INTERVAL.plus(CHECK_TIMEOUT);
        Duration notice = responseTimeout.compareTo(noticeIdle) > 0 ? responseTimeout : noticeIdle;
        return checkpoint.plus(notice).plus(MARGIN);
    }

    /** Watches {@code pool}, whose connections must have been made with this rule as their disconnect handler. */
    void watch(LDAPConnectionPool watched) {
        watched.setHealthCheck(check);
        watched.setHealthCheckIntervalMillis(CHECK_INTERVAL.toMillis());
        this.pool = watched;
    }

    @Override
    public Duration delay() {
        return delay;
    }

    @Override
    public long lossSigns() {
        return lossSigns.get();
    }

    @Override
    public void lookForLosses() {
        LDAPConnectionPool watched = pool;
        if (watched != null && watched.invokeHealthCheck(check, false, false).getNumDefunct() > 0) {
            // The pool has closed them, which counted already; this covers a handler not called.
            lossSigns.incrementAndGet();
        }
    }

    @Override
    public void handleDisconnect(LDAPConnection connection, String host, int port, DisconnectType type, String message,
            Throwable cause) {
        if (type == DisconnectType.POOL_CLOSED) {
            return;
        }
        lossSigns.incrementAndGet();
        long now = System.nanoTime();
        long last = lastWarning.get();
        // A provider gone closes every connection to it at once: one line says it.
        if (now - last > WARN_EVERY.toNanos() && lastWarning.compareAndSet(last, now)) {
            LOG.warn("connection to {}:{} lost ({}{}): the writes since the last committed offsets may be lost, storing them again",
                    host, port, type.name(), message == null ? "" : ": " + message);
        }
    }
}
