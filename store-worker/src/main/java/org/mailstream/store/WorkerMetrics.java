package org.mailstream.store;

import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.function.DoubleSupplier;
import org.mailstream.config.MetricsEndpoint;

/**
 * What store-worker, replay and redrive export on /metrics ({@link MetricsEndpoint}, when
 * metrics.listen is set): records by outcome, retries, partitions waiting to retry, each
 * partition's records not yet committed, LDAP operations' latency by result, refusals only the
 * operator can mend, the age of each mail when it was stored, and the owners over quota. docs/operations.md lists them with a sample scrape.
 */
final class WorkerMetrics {

    /** An LDAP operation, timed. */
    @FunctionalInterface
    interface LdapCall<T> {
        T call() throws LDAPException;
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram ldapDuration = Histogram.builder().name("mailstream_ldap_operation_duration_seconds")
            .help("LDAP operations of the worker, by operation and result code")
            .labelNames("operation", "result").classicOnly()
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
            .register(registry);
    private final Histogram storedAge = Histogram.builder().name("mailstream_stored_mail_age_seconds")
            .help("How long after ingest accepted it each mail was stored (now minus the envelope's receivedAt)")
            .classicOnly().classicUpperBounds(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400)
            .register(registry);

    private final Counter operatorFaults = Counter.builder().name("mailstream_store_operator_faults")
            .help("Attempts to store that the back end refused for a reason only the operator can mend (rights, "
                    + "credentials, transport security), by result code; storing waits meanwhile")
            .labelNames("result").register(registry);

    PrometheusRegistry registry() {
        return registry;
    }

    /** Runs {@code call}, recording its latency under {@code operation} and the result code it ended with. */
    <T> T timed(String operation, LdapCall<T> call) throws LDAPException {
        long start = System.nanoTime();
        ResultCode result = ResultCode.SUCCESS;
        try {
            return call.call();
        } catch (LDAPException e) {
            result = e.getResultCode();
            throw e;
        } finally {
            ldapDuration.labelValues(operation, label(result)).observe((System.nanoTime() - start) / 1e9);
        }
    }

    /** Exports the owners marked over quota as {@code count} finds them, read at each scrape; NaN when it cannot tell. */
    void watchOverQuota(DoubleSupplier count) {
        GaugeWithCallback.builder().name("mailstream_owners_over_quota")
                .help("Mailbox owners of the back end marked over quota (mailStoreOverQuota), whose mail Postfix refuses at "
                        + "RCPT time; NaN while the back end does not answer")
                .callback(callback -> callback.call(count.getAsDouble())).register(registry);
    }

    void operatorFault(ResultCode result) {
        operatorFaults.labelValues(label(result)).inc();
    }

    void stored(Instant receivedAt) {
        if (receivedAt != null) {
            storedAge.observe(Math.max(0, Duration.between(receivedAt, Instant.now()).toMillis() / 1e3));
        }
    }

    /** Exports what {@code loop} counts, read at each scrape. */
    void watch(StoreStats loop) {
        CounterWithCallback.builder().name("mailstream_records")
                .help("Records settled, by outcome: stored, already_stored, reindexed, dead_letter (sent to the dead-letter "
                        + "topic), bounced (a dead letter whose sender a bounce told), given_up (a letter redrive gave up on), other_backend (left to the back end that owns it)")
                .labelNames("outcome")
                .callback(callback -> loop.outcomes().forEach((outcome, count) ->
                        callback.call(count, outcome.name().toLowerCase(Locale.ROOT))))
                .register(registry);
        CounterWithCallback.builder().name("mailstream_store_retries")
                .help("Times a partition stopped at a record that could not be stored yet and waited to try it again")
                .callback(callback -> callback.call(loop.retries()))
                .register(registry);
        GaugeWithCallback.builder().name("mailstream_partitions_waiting")
                .help("Partitions paused until their next attempt at a record that could not be stored yet")
                .callback(callback -> callback.call(loop.partitionsWaiting()))
                .register(registry);
        GaugeWithCallback.builder().name("mailstream_consumer_lag_records")
                .help("Records of each assigned partition not yet committed: the end offset the consumer last fetched minus "
                        + "the last committed offset (in log mode, this includes the writes waiting for a checkpoint)")
                .labelNames("topic", "partition")
                .callback(callback -> loop.lag().forEach((partition, lag) ->
                        callback.call(lag, partition.topic(), Integer.toString(partition.partition()))))
                .register(registry);
    }

    private static String label(ResultCode result) {
        return result.getName().replace(' ', '_');
    }
}
