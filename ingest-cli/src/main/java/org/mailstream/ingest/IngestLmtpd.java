package org.mailstream.ingest;

import static org.mailstream.config.CommandDeclaration.EX_CONFIG;
import static org.mailstream.config.CommandDeclaration.EX_OK;
import static org.mailstream.config.CommandDeclaration.EX_SOFTWARE;
import static org.mailstream.config.CommandDeclaration.EX_USAGE;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import org.apache.kafka.clients.producer.Producer;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.config.HostName;
import org.mailstream.config.MetricsEndpoint;
import org.mailstream.server.Server;
import org.mailstream.server.ServerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ingest-lmtpd: the long-running LMTP server that Postfix's lmtp(8) feeds over cached
 * connections, the throughput path beside the pipe command. Its manual page, {@code
 * ingest-lmtpd --help}, is made from {@link #COMMAND}; the protocol is {@link LmtpSession}, the
 * listeners and connections the server core's {@link Server}, and publishing the core it shares with ingest-cli, {@link Ingest},
 * through one producer for the whole process.
 */
public final class IngestLmtpd {

    private static final Logger LOG = LoggerFactory.getLogger(IngestLmtpd.class);

    /** {@code ingest-lmtpd check}: the pre-flight. */
    private static final CommandDeclaration CHECK = IngestCheck.declaration("ingest-lmtpd", LmtpConfig.DEFAULT_PATH);

    public static final CommandDeclaration COMMAND = new CommandDeclaration("ingest-lmtpd",
            "the LMTP server that hands Postfix's mail to Kafka", """
            Accepts LMTP (RFC 2033) from Postfix's lmtp(8) client on unix sockets and TCP
            listeners, and publishes each message to a Kafka topic, one record per recipient,
            keyed by the recipient with its domain lower-cased and carrying the envelope as a
            record header (client address and queue id from XFORWARD, original recipient from
            ORCPT). After DATA it answers once per recipient, in order: 250 only once that
            recipient's record is acknowledged (acks=all), 451 for everything that may pass
            (Kafka down, the deadline, an internal error), 5xx only where the message or the
            address is provably at fault. The record holds the DATA content as received, CRLF
            line ends included, with the transparency dots removed.

            Extensions: PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SMTPUTF8, DSN (ORCPT),
            SIZE, XFORWARD. One Kafka producer serves every connection.

            It starts, and answers 451, while Kafka is unreachable. SIGTERM or SIGINT: stop
            accepting, say 421 to idle connections, answer every transaction in flight, close
            the producer, exit 0. Logs go to standard error: a line per transaction that was
            not delivered to every recipient, the counts every minute, and the Kafka
            client's warnings (a broker unreachable: at most every 5 s).
            """)
            .configurationFile(LmtpConfig.DEFAULT_PATH)
            .subcommand(CHECK)
            .exitStatus(EX_OK, "stopped by SIGTERM or SIGINT after answering every transaction in flight, or --help")
            .exitStatus(EX_USAGE, "usage error")
            .exitStatus(EX_SOFTWARE, "internal error")
            .exitStatus(EX_CONFIG, "configuration missing, unreadable or invalid (Kafka's producer refusing it included), "
                    + "or a listener that cannot be bound")
            .configuration(LmtpConfig.DEFINITION, """
                    Java properties: ingest-cli's keys and the server's own (lmtp.*). Every key that
                    starts with kafka. and is not listed below goes to the Kafka producer with the
                    prefix removed; acks, enable.idempotence and the serializers are fixed.
                    """);

    private IngestLmtpd() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    /** Serves until SIGTERM or SIGINT; returns the exit status of a start that failed, or of --help. */
    static int run(String[] args, PrintStream out) {
        if (args.length > 0 && args[0].equals("check")) {
            return IngestCheck.run(CHECK, Arrays.copyOfRange(args, 1, args.length), out, LmtpConfig::load);
        }
        return COMMAND.run(args, COMMAND.sysexits(out), LmtpConfig::load, (command, config) -> serve(config));
    }

    private static int serve(LmtpConfig config) {
        Producer<byte[], byte[]> producer = Ingest.producer(config, Duration.ofMillis(config.deadlineMs()));
        Clock clock = Clock.systemUTC();
        LmtpMetrics metrics = new LmtpMetrics();
        // Until the server has served, nothing was published that closing must wait for.
        Duration producerClose = Duration.ZERO;
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(config.metricsListen(), metrics.registry())) {
            warnIfTheHeapIsSmall(config);
            Server server = Server.start(config.server(), new LmtpSession.Context(HostName.get(), config,
                    new Ingest(config, producer, clock), clock, metrics), new ServerMetrics(metrics.registry(), "lmtp"), metrics);
            LOG.info("listening on {}, publishing to {}", server.addresses(), config.topic());
            Server.awaitStopSignal();
            // Time enough for a transaction that has just begun to publish and be answered.
            server.stop(Duration.ofMillis(config.deadlineMs()).plusSeconds(5));
            producerClose = Duration.ofSeconds(10);
        } finally {
            producer.close(producerClose);
        }
        return EX_OK;
    }

    /**
     * Says so when the heap cannot hold a message of the largest size on every connection at once
     * (twice its size while it is read) beside the producer's buffers: the limits an operator sets
     * must agree with the heap, or a burst of large mail ends the process (it exits on
     * OutOfMemoryError, and its supervisor starts it again, but every transaction in flight is lost
     * to a retry).
     */
    private static void warnIfTheHeapIsSmall(LmtpConfig config) {
        long needed = config.server().maxConnections() * 2L * config.maxMessageBytes() + config.producerBufferBytes();
        long heap = Runtime.getRuntime().maxMemory();
        if (needed > heap) {
            LOG.warn("the heap (" + (heap >> 20) + " MiB) cannot hold " + LmtpConfig.SERVER.maxConnections
                    + " (" + config.server().maxConnections() + ") connections each reading a message of " + IngestConfig.MAX_MESSAGE_BYTES
                    + " (" + config.maxMessageBytes() + " octets) twice, beside the producer's buffers (kafka.buffer.memory): "
                    + (needed >> 20) + " MiB. Lower them, or raise -Xmx with JAVA_OPTS");
        }
    }
}
