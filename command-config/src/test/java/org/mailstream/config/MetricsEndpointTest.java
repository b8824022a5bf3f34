package org.mailstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The metrics endpoint over real HTTP on loopback, and each way it refuses to start. */
class MetricsEndpointTest {

    private static final ConfigDef DEFINITION = MetricsEndpoint.define(new ConfigDef());

    @Test
    void anEmptyAddressOpensNoPort() {
        assertNull(MetricsEndpoint.start("", new PrometheusRegistry()));
    }

    @Test
    void anAddressThatIsNotHostAndPortIsRefusedNamingTheKey() {
        for (String wrong : new String[] {"9464", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":9464"}) {
            ConfigException refused = assertThrows(ConfigException.class,
                    () -> new AbstractConfig(DEFINITION, Map.of(MetricsEndpoint.METRICS_LISTEN, wrong)), wrong);
            assertTrue(refused.getMessage().contains("metrics.listen") && refused.getMessage().contains("HOST:PORT"), refused.getMessage());
        }
    }

    @Test
    void itServesItsRegistryAndTheJvmsMetricsInTheTextFormat() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        Counter.builder().name("mailstream_test_events").help("events").register(registry).inc(3);
        try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1:0", registry)) {
            HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, scrape.statusCode());
            assertTrue(scrape.body().contains("mailstream_test_events_total 3.0"), scrape.body());
            assertTrue(scrape.body().contains("jvm_memory_used_bytes"), scrape.body());
        }
    }

    @Test
    void clientsThatSendHalfARequestAndWaitDoNotStallTheScrape() throws Exception {
        try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1:0", new PrometheusRegistry())) {
            List<Socket> stalling = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    Socket socket = new Socket(InetAddress.getLoopbackAddress(), endpoint.port());
                    socket.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                    stalling.add(socket);
                }
                HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics")).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, scrape.statusCode());
            } finally {
                for (Socket socket : stalling) {
                    socket.close();
                }
            }
        }
    }

    @Test
    void aPortInUseIsAConfigurationErrorNamingTheKey() {
        try (MetricsEndpoint first = MetricsEndpoint.start("127.0.0.1:0", new PrometheusRegistry())) {
            String taken = "127.0.0.1:" + first.port();
            ConfigException refused = assertThrows(ConfigException.class, () -> MetricsEndpoint.start(taken, new PrometheusRegistry()));
            assertTrue(refused.getMessage().startsWith("metrics.listen: cannot listen there"), refused.getMessage());
        }
    }
}
