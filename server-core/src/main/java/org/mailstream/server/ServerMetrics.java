package org.mailstream.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;

/** The connections of one protocol's server, under {@code mailstream_<protocol>_connections}. */
public final class ServerMetrics {

    private final Counter connections;
    private final Gauge open;

    public ServerMetrics(PrometheusRegistry registry, String protocol) {
        connections = Counter.builder().name("mailstream_" + protocol + "_connections")
                .help("Connections, by what became of them: served; turned_away (not allowed, too many, shutting down); "
                        + "dropped by the server (silent or not reading for the idle timeout, a transaction over its timeout)")
                .labelNames("result").register(registry);
        open = Gauge.builder().name("mailstream_" + protocol + "_connections_open")
                .help("Connections being served now").register(registry);
    }

    /** A connection accepted and served; {@link #closed()} when it ends. */
    void served() {
        connections.labelValues("served").inc();
        open.inc();
    }

    void closed() {
        open.dec();
    }

    void turnedAway() {
        connections.labelValues("turned_away").inc();
    }

    void dropped() {
        connections.labelValues("dropped").inc();
    }

    /** Connections served so far, and of them turned away and dropped, for the log. */
    @Override
    public String toString() {
        CounterSnapshot snapshot = connections.collect();
        return "connections " + (long) total(snapshot, null) + " (turned away " + (long) total(snapshot, "turned_away")
                + ", dropped " + (long) total(snapshot, "dropped") + ")";
    }

    private static double total(CounterSnapshot counter, String result) {
        return counter.getDataPoints().stream()
                .filter(point -> result == null || result.equals(point.getLabels().getValue(0)))
                .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
    }
}
