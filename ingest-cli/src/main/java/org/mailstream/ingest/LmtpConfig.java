package org.mailstream.ingest;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.mailstream.config.MetricsEndpoint;
import org.mailstream.server.ServerKeys;
import org.mailstream.server.ServerSettings;

/**
 * ingest-lmtpd's configuration: every key of ingest-cli's ({@link IngestConfig#DEFINITION}),
 * those every protocol server has ({@link ServerKeys}, under lmtp.), and LMTP's own, declared once
 * with their documentation, type, default and validation.
 */
final class LmtpConfig extends IngestConfig {

    static final Path DEFAULT_PATH = Path.of("/etc/mailstream/ingest-lmtpd.properties");

    /** The keys every protocol server has: lmtp.listen, lmtp.allow, lmtp.max.connections and the rest. */
    static final ServerKeys SERVER = new ServerKeys("lmtp");
    static final String MAX_RECIPIENTS = "lmtp.max.recipients";
    static final String XFORWARD_ALLOW = "lmtp.xforward.allow";

    /**
     * Postfix waits lmtp_data_done_timeout (600 s) for the replies after DATA; a send that first
     * waits for the brokers' metadata can take a deadline of its own before the acknowledgement's.
     */
    private static final int LONGEST_DEADLINE_MS = 240_000;

    static final ConfigDef DEFINITION = SERVER.define(MetricsEndpoint.define(IngestConfig.definition(LONGEST_DEADLINE_MS,
                    "lmtp_data_done_timeout (600 s) for LMTP, which must hold the deadline twice: a send may first wait "
                    + "that long for the brokers' metadata")),
                    // 30 connections each holding a message of the largest size twice while it is read, and the
                    // producer's buffers, fit the launcher's heap; Postfix opens 20 (mailstream_destination_concurrency_limit).
                    new ServerKeys.Defaults("unix:/var/spool/postfix/mailstream/lmtp", 30, 300_000, 900_000,
                            "transaction (MAIL FROM to the end of DATA)"))
            .define(MAX_RECIPIENTS, Type.INT, 1_000, Range.between(1, 100_000), Importance.LOW,
                    "Recipients accepted in one transaction; more get 452 4.5.3, which Postfix sends again in the next.")
            .define(XFORWARD_ALLOW, Type.LIST, "", new ServerKeys.EachParses(ServerKeys.Network::parse, "address/prefix-length", true),
                    Importance.MEDIUM, "TCP client networks, as address/prefix-length, whose XFORWARD (the original client's "
                    + "address and the queue id, which go into the stored envelope) is believed; clients of a unix socket "
                    + "always are, as its mode and group admit only Postfix. Empty: no TCP client; others get 550 5.7.0.");

    private final ServerSettings server;
    private final List<ServerKeys.Network> xforwardNetworks;

    private LmtpConfig(Map<?, ?> settings) {
        super(DEFINITION, settings);
        server = SERVER.read(this);
        xforwardNetworks = getList(XFORWARD_ALLOW).stream().map(ServerKeys.Network::parse).toList();
    }

    static LmtpConfig load(Path file) throws IOException {
        return new LmtpConfig(read(file));
    }

    static LmtpConfig of(Map<String, String> settings) {
        return new LmtpConfig(settings);
    }

    @Override
    protected String clientId() {
        return "ingest-lmtpd";
    }

    ServerSettings server() {
        return server;
    }

    String metricsListen() {
        return getString(MetricsEndpoint.METRICS_LISTEN);
    }

    /** Whether a client from {@code address} (null: over a unix socket) may say XFORWARD. */
    boolean xforwardAllowed(InetAddress address) {
        return address == null || ServerKeys.Network.anyContains(xforwardNetworks, address);
    }

    int maxRecipients() {
        return getInt(MAX_RECIPIENTS);
    }
}
