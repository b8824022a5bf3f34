package org.mailstream.benchmarks;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.mailstream.local.FreePort;
import org.mailstream.local.KafkaCluster;
import org.mailstream.local.LmtpClient;
import org.mailstream.local.LmtpdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.MetricsScrape;

/**
 * HostileLoadBenchmark: the real bin/ingest-lmtpd (its launcher's heap, a real broker) under
 * clients that do not play by the rules, for as long as they hold on, with figures rather than a
 * verdict:
 *
 * <ol>
 * <li>Room for all: {@code DEAF} clients that pipeline NOOPs and never read a reply, and
 *     {@code LIARS} that announce MAIL SIZE=10485760 and trickle DATA a byte every two seconds,
 *     with lmtp.max.connections above their sum: the server's heap, sampled each second from its
 *     /metrics, beside its limit, and an honest delivery's time while they all hold on.
 * <li>The default limit of connections: the deaf clients take every slot; how long until an honest
 *     client, trying once a second as Postfix's queue would, is delivered, beside the idle timeout
 *     that frees the slots.
 * </ol>
 *
 * <p>Usage: {@code HostileLoadBenchmark SECONDS IDLE_TIMEOUT_MS}; needs bin/install.
 */
public final class HostileLoadBenchmark {

    private static final String TOPIC = "bench-hostile";
    private static final int DEAF = 100;
    private static final int LIARS = 60;

    private HostileLoadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        String idleTimeoutMs = args[1];
        ExecutorService clients = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task);
            thread.setDaemon(true);
            return thread;
        });
        try (KafkaCluster kafka = KafkaCluster.start(1)) {
            kafka.createTopic(TOPIC, 1, 1, Map.of("max.message.bytes", "11000000"));
            int metricsPort = FreePort.next();
            Map<String, String> settings = new HashMap<>(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC,
                    "lmtp.idle.timeout.ms", idleTimeoutMs, "metrics.listen", "127.0.0.1:" + metricsPort));

            settings.put("lmtp.max.connections", Integer.toString(DEAF + LIARS + 10));
            try (LmtpdProcess server = LmtpdProcess.start(settings)) {
                List<Socket> hostile = new ArrayList<>();
                for (int i = 0; i < DEAF; i++) {
                    hostile.add(LmtpClient.neverReading(server.port(), clients));
                }
                for (int i = 0; i < LIARS; i++) {
                    hostile.add(liar(server.port(), i, clients));
                }
                Thread.sleep(2_000);
                long start = System.nanoTime();
                boolean delivered = deliver(server.port());
                double honestMs = (System.nanoTime() - start) / 1e6;
                double heapLimit = MetricsScrape.of(metricsPort).sum("jvm_memory_max_bytes", Map.of("area", "heap"));
                double heapPeak = 0;
                for (int i = 0; i < seconds; i++) {
                    heapPeak = Math.max(heapPeak, MetricsScrape.of(metricsPort).sum("jvm_memory_used_bytes", Map.of("area", "heap")));
                    Thread.sleep(1_000);
                }
                double open = MetricsScrape.of(metricsPort).sum("mailstream_lmtp_connections_open");
                System.out.printf("%n%d clients that never read and %d announcing 10 MB and trickling, %d s, lmtp.max.connections %s%n",
                        DEAF, LIARS, seconds, settings.get("lmtp.max.connections"));
                System.out.println("| figure | value |");
                System.out.println("| --- | --- |");
                System.out.printf("| connections open at the end | %.0f |%n", open);
                System.out.printf("| heap used at its peak (sampled each second) | %.0f MiB |%n", heapPeak / (1 << 20));
                System.out.printf("| heap limit (-Xmx of bin/ingest-lmtpd) | %.0f MiB |%n", heapLimit / (1 << 20));
                System.out.printf("| peak / limit | %.2f |%n", heapPeak / heapLimit);
                System.out.printf("| server alive | %s |%n", server.isAlive());
                System.out.printf("| an honest delivery 2 s after they connected | %s in %.0f ms |%n", delivered ? "250" : "NOT delivered",
                        honestMs);
                closeAll(hostile);
            }

            settings.remove("lmtp.max.connections");
            try (LmtpdProcess server = LmtpdProcess.start(settings)) {
                List<Socket> hostile = new ArrayList<>();
                for (int i = 0; i < DEAF; i++) {
                    hostile.add(LmtpClient.neverReading(server.port(), clients));
                }
                Thread.sleep(500);
                long start = System.nanoTime();
                int attempts = 0;
                boolean delivered = false;
                while (!delivered && System.nanoTime() - start < Duration.ofMinutes(5).toNanos()) {
                    attempts++;
                    delivered = deliver(server.port());
                    if (!delivered) {
                        Thread.sleep(1_000);
                    }
                }
                double waited = (System.nanoTime() - start) / 1e9;
                System.out.printf("%n%d clients that never read against the default lmtp.max.connections (30)%n", DEAF);
                System.out.println("| figure | value |");
                System.out.println("| --- | --- |");
                System.out.printf("| lmtp.idle.timeout.ms | %s |%n", idleTimeoutMs);
                System.out.printf("| an honest client, trying once a second, delivered after | %.1f s (%d attempts) |%n", waited, attempts);
                System.out.printf("| server alive | %s |%n", server.isAlive());
                System.out.printf("| connections dropped by the server | %.0f |%n",
                        MetricsScrape.of(metricsPort).sum("mailstream_lmtp_connections_total", Map.of("result", "dropped")));
                closeAll(hostile);
            }
        } finally {
            clients.shutdownNow();
        }
    }

    /** One LMTP delivery of a small mail on a new connection; false when the server turned it away or did not deliver. */
    private static boolean deliver(int port) {
        try (LmtpClient client = new LmtpClient(port)) {
            client.begin("sender@example.org", "honest@bench.example");
            String go = client.send("DATA\r\n").reply();
            if (go == null || !go.startsWith("354")) {
                return false;
            }
            String reply = client.send(MailCorpus.message("honest", "x\r\n")).send(".\r\n").reply();
            return reply != null && reply.startsWith("250");
        } catch (RuntimeException refused) {
            return false;
        }
    }

    /** A client that announces a message of 10 MB, then sends its DATA a byte every two seconds. */
    private static Socket liar(int port, int n, ExecutorService clients) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        OutputStream out = socket.getOutputStream();
        out.write(("LHLO liar.example\r\nMAIL FROM:<liar@example.org> SIZE=10485760\r\nRCPT TO:<liar" + n
                + "@bench.example>\r\nDATA\r\n").getBytes(StandardCharsets.US_ASCII));
        clients.execute(() -> {
            try {
                while (true) {
                    Thread.sleep(2_000);
                    out.write('x');
                }
            } catch (IOException | InterruptedException disconnected) {
                // the server dropped it, or the run is over
            }
        });
        return socket;
    }

    private static void closeAll(List<Socket> sockets) throws IOException {
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
