package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailstream.local.FreePort;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MailPublisher;
import org.mailstream.local.MetricsScrape;
import org.mailstream.local.StoreWorkerProcess;

/** The real bin/store-worker's /metrics, scraped over HTTP while it stores into a real slapd that goes down and comes back. */
class WorkerMetricsIT {

    private final Backend backend = new Backend("metrics-" + System.nanoTime(), 4);
    private final int port = FreePort.next();
    private StoreWorkerProcess worker;
    private int published;

    @AfterEach
    void stop() {
        if (worker != null) {
            worker.close();
        }
        backend.close();
    }

    @Test
    void theScrapeCountsEveryMailStoredShowsWaitingPartitionsAndGrowingLagWhileSlapdIsDownAndNoLagOnceItIsBack() {
        for (int box = 0; box < 10; box++) {
            backend.addMailboxes("box" + box);
        }
        worker = StoreWorkerProcess.start(backend.workerConfig(Map.of("metrics.listen", "127.0.0.1:" + port)));
        publish(1000);
        MetricsScrape stored = awaitScrape("1,000 mails stored", s -> s.sum("mailstream_records_total", Map.of("outcome", "stored")) == 1000);
        assertEquals(1000, stored.sum("mailstream_stored_mail_age_seconds_count"), stored.text());
        assertTrue(stored.sum("mailstream_ldap_operation_duration_seconds_count", Map.of("operation", "add", "result", "success")) >= 1000,
                stored.text());
        assertTrue(stored.sum("jvm_memory_used_bytes") > 0, "the JVM's own metrics: " + stored.text());
        awaitScrape("no lag", s -> s.sum("mailstream_consumer_lag_records") == 0);

        backend.slapd.stop();
        publish(100);
        double lagWhileDown = awaitScrape("waiting partitions and lag while slapd is down",
                s -> s.sum("mailstream_partitions_waiting") >= 1 && s.sum("mailstream_consumer_lag_records") >= 100)
                .sum("mailstream_consumer_lag_records");
        publish(100);
        MetricsScrape grown = awaitScrape("lag grown past " + lagWhileDown,
                s -> s.sum("mailstream_consumer_lag_records") >= lagWhileDown + 100);
        assertTrue(grown.sum("mailstream_store_retries_total") > 0, "retries counted: " + grown.text());

        backend.slapd.restart();
        MetricsScrape back = awaitScrape("every mail stored and no lag once slapd is back",
                s -> s.sum("mailstream_records_total", Map.of("outcome", "stored")) == 1200 && s.sum("mailstream_consumer_lag_records") == 0);
        assertEquals(0, back.sum("mailstream_partitions_waiting"), back.text());
    }

    private void publish(int count) {
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int i = 0; i < count; i++, published++) {
            mails.add(Map.entry("box" + published % 10 + "@example.com", MailCorpus.message("mail " + published, "to a box\r\n")));
        }
        try (MailPublisher publisher = new MailPublisher(backend.kafka.bootstrapServers(), backend.topic)) {
            publisher.publish(mails);
        }
    }

    /** Scrapes until {@code condition} holds; fails with the last scrape and the worker's log. */
    private MetricsScrape awaitScrape(String what, Predicate<MetricsScrape> condition) {
        AtomicReference<MetricsScrape> last = new AtomicReference<>();
        Awaitility.await(what).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
            last.set(MetricsScrape.of(port));
            assertTrue(condition.test(last.get()), () -> what + ", not in:\n" + last.get().text() + "\n" + worker.log());
        });
        return last.get();
    }
}
