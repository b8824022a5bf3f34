package org.mailstream.config;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * The opt-in Prometheus endpoint of a long-running command: its registry's metrics and the JVM's
 * in Prometheus's text format on {@code http://HOST:PORT/metrics} when {@value #METRICS_LISTEN}
 * is set, and no listener at all when it is empty (the default). Built on the official
 * Prometheus Java client (io.prometheus 1.x): it is Prometheus alone that we export to, so a
 * facade over many monitoring systems (Micrometer) would only add a layer. A client that takes
 * longer than a few seconds to send its request is disconnected.
 */
public final class MetricsEndpoint implements AutoCloseable {

    public static final String METRICS_LISTEN = "metrics.listen";

    /** How long a client may take to send its request before it is disconnected. */
    private static final long REQUEST_SECONDS = 5;

    private final HTTPServer server;

    private MetricsEndpoint(HTTPServer server) {
        this.server = server;
    }

    /** Adds {@value #METRICS_LISTEN} to a command's {@code definition}. */
    public static ConfigDef define(ConfigDef definition) {
        return definition.define(METRICS_LISTEN, ConfigDef.Type.STRING, "", new HostAndPort(), ConfigDef.Importance.MEDIUM, "HOST:PORT where Prometheus may scrape /metrics over HTTP, for instance 127.0.0.1:9464; "
                + "empty: no metrics endpoint. The endpoint has no authentication: bind it to loopback or to a network only "
                + "the Prometheus server reaches.");
    }

    /**
     * Serves {@code registry}, with the JVM's metrics added to it, on {@code listen}; null when
     * {@code listen} is empty. A ConfigException when it cannot listen there (in use, say).
     */
    public static MetricsEndpoint start(String listen, PrometheusRegistry registry) {
        if (listen.isEmpty()) {
            return null;
        }
        JvmMetrics.builder().register(registry);
        InetSocketAddress address = address(listen);
        // The JDK's server, under Prometheus's, reads a request on one of a few threads with no
        // time limit: a dozen clients sending half a request would stall every scrape. Its only
        // limit is this property, read once when the server's configuration class loads.
        System.setProperty("sun.net.httpserver.maxReqTime", Long.toString(REQUEST_SECONDS));
        try {
            return new MetricsEndpoint(HTTPServer.builder().hostname(address.getHostString()).port(address.getPort())
                    .registry(registry).buildAndStart());
        } catch (IOException e) {
            throw new ConfigException(METRICS_LISTEN + ": cannot listen there: " + e.getMessage());
        }
    }

    /** The port the endpoint listens on: the one asked for, or the one the system chose for port 0. */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }

    /** Accepts HOST:PORT, or nothing. */
    private static final class HostAndPort implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (!((String) value).isEmpty()) {
                address((String) value);
            }
        }

        @Override
        public String toString() {
            return "HOST:PORT, or empty";
        }
    }

    private static InetSocketAddress address(String listen) {
        try {
            HostPort endpoint = HostPort.parse(listen);
            return InetSocketAddress.createUnresolved(endpoint.host(), endpoint.port());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(METRICS_LISTEN + " is not HOST:PORT");
        }
    }
}
