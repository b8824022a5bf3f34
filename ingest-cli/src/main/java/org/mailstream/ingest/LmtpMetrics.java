package org.mailstream.ingest;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.util.List;

/**
 * What ingest-lmtpd counts: exported on /metrics when metrics.listen is set, and summed up in its
 * log every minute: transactions, each recipient's reply by class and enhanced status code,
 * message sizes, and the time from the end of DATA to the brokers' acknowledgment. The
 * connections are the server core's ({@link org.mailstream.server.ServerMetrics}).
 * docs/operations.md lists them with a sample scrape.
 */
final class LmtpMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter transactions = Counter.builder().name("mailstream_lmtp_transactions")
            .help("Transactions answered after DATA").register(registry);
    private final Counter replies = Counter.builder().name("mailstream_lmtp_replies")
            .help("Replies to each recipient after DATA, by class (2xx delivered, 4xx deferred, 5xx refused) and enhanced "
                    + "status code").labelNames("class", "code").register(registry);
    private final Histogram sizes = Histogram.builder().name("mailstream_lmtp_message_size_bytes")
            .help("Size of each message received with DATA").classicOnly()
            .classicExponentialUpperBounds(1024, 4, 9).register(registry);
    private final Histogram publishing = Histogram.builder().name("mailstream_publish_duration_seconds")
            .help("From the end of DATA to the brokers' acknowledgment of every recipient's record").classicOnly()
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
            .register(registry);

    PrometheusRegistry registry() {
        return registry;
    }

    void received(int size) {
        sizes.observe(size);
    }

    void published(long nanos) {
        publishing.observe(nanos / 1e9);
    }

    /** A transaction answered with {@code answers}, one reply a recipient. */
    void transaction(List<LmtpTransaction.Reply> answers) {
        transactions.inc();
        for (LmtpTransaction.Reply reply : answers) {
            replies.labelValues(reply.status().replyCode() / 100 + "xx", reply.status().enhancedCode()).inc();
        }
    }

    @Override
    public String toString() {
        return "transactions " + (long) transactions.get() + ", recipients delivered " + (long) total(replies.collect(), "2xx")
                + ", deferred " + (long) total(replies.collect(), "4xx") + ", refused " + (long) total(replies.collect(), "5xx");
    }

    /** The sum of {@code counter}'s values whose first label is {@code first}, or of all of them for null. */
    private static double total(CounterSnapshot counter, String first) {
        return counter.getDataPoints().stream()
                .filter(point -> first == null || first.equals(point.getLabels().getValue(0)))
                .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
    }
}
