package org.mailstream.local;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One scrape of a Prometheus endpoint over HTTP, read as a test reads it: samples by name and labels. */
public final class MetricsScrape {

    /** One line of the text format: {@code name{label="value",...} number}. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final String text;
    private final List<Sample> samples;

    private MetricsScrape(String text) {
        this.text = text;
        this.samples = text.lines().filter(line -> !line.isBlank() && !line.startsWith("#")).map(MetricsScrape::parse).toList();
    }

    /** GET http://127.0.0.1:PORT/metrics; an IOException while nothing listens there yet. */
    public static MetricsScrape of(int port) throws IOException {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("HTTP " + response.statusCode() + ": " + response.body());
            }
            return new MetricsScrape(response.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The sum of the samples named {@code name} whose labels include {@code labels}: 0 when there is none. */
    public double sum(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
                .mapToDouble(Sample::value).sum();
    }

    public double sum(String name) {
        return sum(name, Map.of());
    }

    /** The scrape as it came, for assertion messages. */
    public String text() {
        return text;
    }

    private static Sample parse(String line) {
        int space = line.lastIndexOf(' ');
        String series = line.substring(0, space);
        double value = Double.parseDouble(line.substring(space + 1));
        int brace = series.indexOf('{');
        if (brace < 0) {
            return new Sample(series, Map.of(), value);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        List<String> pairs = new ArrayList<>(List.of(series.substring(brace + 1, series.length() - 1).split("\",")));
        for (String pair : pairs) {
            int equals = pair.indexOf('=');
            labels.put(pair.substring(0, equals), pair.substring(equals + 2).replaceAll("\"$", ""));
        }
        return new Sample(series.substring(0, brace), labels, value);
    }
}
