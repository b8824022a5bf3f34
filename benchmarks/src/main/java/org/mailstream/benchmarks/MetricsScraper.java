package org.mailstream.benchmarks;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Scrapes a /metrics endpoint every second, as a Prometheus server would at its shortest interval, until closed. */
final class MetricsScraper implements AutoCloseable {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final HttpClient client = HttpClient.newHttpClient();
    private final AtomicInteger scrapes = new AtomicInteger();

    MetricsScraper(int port) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
        timer.scheduleAtFixedRate(() -> {
            try {
                if (client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    scrapes.incrementAndGet();
                }
            } catch (Exception notUpYet) {
                // the process is starting, or has stopped
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    int scrapes() {
        return scrapes.get();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
