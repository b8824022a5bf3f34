package org.mailstream.store;

import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.mailstream.config.MetricsEndpoint;

/**
 * What storing needs, opened together and closed together, once the back end's providers have
 * been found to match store.durability ({@link BackendSettings}): the back end's connection pool, the
 * metrics endpoint when one is configured, one
 * writer thread per connection, the dead-letter producer and a {@link StoreLoop} reading
 * {@code topic} as {@code group}. SIGTERM or SIGINT stops the loop, which finishes its writes
 * and commits before the process exits.
 */
final class StoreSession implements AutoCloseable {

    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(60);

    private final LDAPConnectionPool pool;
    private final DeadLetters deadLetters;
    private final Quotas quotas;
    private final ExecutorService writers;
    private final StoreLoop loop;
    /** The metrics endpoint, or null when metrics.listen is empty. */
    private final MetricsEndpoint endpoint;
    private final CountDownLatch closed = new CountDownLatch(1);

    /**
     * Opens everything or nothing: when a step fails, what the steps before it opened is closed again.
     * Serves metrics on {@code metricsListen}, none when it is empty; sends bounces when {@code bouncing}.
     */
    StoreSession(StoreConfig config, String topic, String group, RecordStorer.WhenStored whenStored, String metricsListen,
            boolean bouncing) throws LDAPException {
        BackendSettings.verify(config);
        LogCommitRule logRule = config.logDurability() ? new LogCommitRule(config.logCommitDelay()) : null;
        pool = LdapServers.pool(config, logRule);
        if (logRule != null) {
            logRule.watch(pool);
        }
        CommitRule commitRule = logRule == null ? CommitRule.IMMEDIATE : logRule;
        DeadLetters opened = null;
        ExecutorService threads = null;
        MetricsEndpoint served = null;
        Quotas counting = null;
        try {
            opened = new DeadLetters(config);
            threads = Executors.newFixedThreadPool(config.ldapConnections());
            WorkerMetrics metrics = new WorkerMetrics();
            counting = new Quotas(pool, config, metrics);
            counting.startFlushing();
            metrics.watchOverQuota(counting::overQuota);
            RecordStorer storer = new RecordStorer(new Mailboxes(pool, config, counting, metrics), opened, new Bounces(pool, config, metrics, bouncing), config,
                    whenStored, metrics);
            served = MetricsEndpoint.start(metricsListen, metrics.registry());
            // Last: nothing after it can fail, so the consumer needs no closing here.
            loop = new StoreLoop(new KafkaConsumer<>(config.consumerSettings(group)), storer::store, commitRule, threads, topic,
                    config.retryBackoffMaxMs());
            metrics.watch(loop);
        } catch (RuntimeException | Error e) {
            if (served != null) {
                served.close();
            }
            if (threads != null) {
                threads.shutdownNow();
            }
            if (counting != null) {
                counting.close();
            }
            if (opened != null) {
                opened.close();
            }
            pool.close();
            throw e;
        }
        deadLetters = opened;
        quotas = counting;
        writers = threads;
        endpoint = served;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                loop.stop(SHUTDOWN_TIMEOUT);
                closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "store-worker shutdown"));
    }

    StoreLoop loop() {
        return loop;
    }

    @Override
    public void close() {
        try {
            if (endpoint != null) {
                endpoint.close();
            }
            writers.shutdownNow();
            quotas.close();
            deadLetters.close();
            pool.close();
        } finally {
            // The shutdown hook waits for this; it must come even if closing failed.
            closed.countDown();
        }
    }
}
