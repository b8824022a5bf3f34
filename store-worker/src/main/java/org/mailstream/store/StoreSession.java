package org.mailstream.store;

import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * What storing needs, opened together and closed together: the back end's connection pool, one
 * writer thread per connection, the dead-letter producer and a {@link StoreLoop} reading
 * {@code topic} as {@code group}. SIGTERM or SIGINT stops the loop, which finishes its writes
 * and commits before the process exits.
 */
final class StoreSession implements AutoCloseable {

    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(60);

    private final ExecutorService writers;
    private final LDAPConnectionPool pool;
    private final DeadLetters deadLetters;
    private final StoreLoop loop;
    private final CountDownLatch closed = new CountDownLatch(1);

    StoreSession(StoreConfig config, String topic, String group, RecordStorer.WhenStored whenStored)
            throws IOException, GeneralSecurityException, LDAPException {
        pool = LdapServers.pool(config);
        try {
            deadLetters = new DeadLetters(config);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        writers = Executors.newFixedThreadPool(config.getInt(StoreConfig.LDAP_CONNECTIONS));
        RecordStorer storer = new RecordStorer(new Mailboxes(pool, config), deadLetters, config, whenStored);
        loop = new StoreLoop(new KafkaConsumer<>(config.consumerSettings(group)), storer, writers, topic,
                config.getLong(StoreConfig.RETRY_BACKOFF_MAX_MS));
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
            writers.shutdownNow();
            deadLetters.close();
            pool.close();
        } finally {
            // The shutdown hook waits for this; it must come even if closing failed.
            closed.countDown();
        }
    }
}
