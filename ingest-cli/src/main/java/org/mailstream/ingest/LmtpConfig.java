package org.mailstream.ingest;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.MetricsEndpoint;

/**
 * ingest-lmtpd's configuration: every key of ingest-cli's ({@link IngestConfig#DEFINITION}) and
 * the server's own, declared once here with their documentation, type, default and validation.
 */
final class LmtpConfig extends IngestConfig {

    static final Path DEFAULT_PATH = Path.of("/etc/mailstream/ingest-lmtpd.properties");

    static final String LISTEN = "lmtp.listen";
    static final String SOCKET_MODE = "lmtp.socket.mode";
    static final String SOCKET_GROUP = "lmtp.socket.group";
    static final String ALLOW = "lmtp.allow";
    static final String MAX_CONNECTIONS = "lmtp.max.connections";
    static final String IDLE_TIMEOUT_MS = "lmtp.idle.timeout.ms";
    static final String MAX_RECIPIENTS = "lmtp.max.recipients";

    /**
     * Postfix waits lmtp_data_done_timeout (600 s) for the replies after DATA; a send that first
     * waits for the brokers' metadata can take a deadline of its own before the acknowledgement's.
     */
    private static final int LONGEST_DEADLINE_MS = 240_000;

    static final ConfigDef DEFINITION = MetricsEndpoint.define(new ConfigDef(IngestConfig.DEFINITION))
            .define(LISTEN, Type.LIST, "unix:/var/spool/postfix/mailstream/lmtp", new EachParses(Listen::parse, "unix:/path or inet:host:port"), Importance.HIGH,
                    "Where to accept LMTP connections, separated by commas: unix:/path for a socket that only Postfix "
                    + "reaches (see lmtp.socket.mode and lmtp.socket.group), inet:host:port for TCP (127.0.0.1 unless "
                    + "told otherwise; see lmtp.allow).")
            .define(SOCKET_MODE, Type.STRING, "0660", new ModeValidator(), Importance.HIGH,
                    "Permissions of each unix socket, in octal: 0660 lets its owner and its group connect.")
            .define(SOCKET_GROUP, Type.STRING, "", Importance.HIGH,
                    "Group given each unix socket, so that Postfix's lmtp(8) may connect; empty leaves the group it is "
                    + "created with, which a set-group-ID directory of group postfix makes postfix (see the README).")
            .define(ALLOW, Type.LIST, "127.0.0.0/8,::1/128", new EachParses(Network::parse, "address/prefix-length"), Importance.HIGH,
                    "Client networks, as address/prefix-length, that may connect over TCP; others get 554 5.7.1 and "
                    + "are disconnected. Unix sockets are guarded by their mode and group instead.")
            .define(MAX_CONNECTIONS, Type.INT, 100, Range.between(1, 10_000), Importance.MEDIUM,
                    "Connections served at once; one more gets 421 4.3.2 and is disconnected, so Postfix tries later. "
                    + "Keep it above the lmtp transport's process limit.")
            .define(IDLE_TIMEOUT_MS, Type.INT, 300_000, Range.between(1_000, 3_600_000), Importance.LOW,
                    "Time a client may stay silent, between commands or inside DATA, before 421 4.4.2 and a disconnect.")
            .define(MAX_RECIPIENTS, Type.INT, 1_000, Range.between(1, 100_000), Importance.LOW,
                    "Recipients accepted in one transaction; more get 452 4.5.3, which Postfix sends again in the next.");

    /** A listener: a unix socket's path, or a TCP host and port. */
    sealed interface Listen {
        record Unix(Path path) implements Listen {
        }

        record Inet(String host, int port) implements Listen {
        }

        static Listen parse(String spec) {
            if (spec.startsWith("unix:") && spec.length() > 5 && spec.charAt(5) == '/') {
                return new Unix(Path.of(spec.substring(5)));
            }
            if (spec.startsWith("inet:")) {
                int colon = spec.lastIndexOf(':');
                String host = spec.substring(5, colon).replaceAll("^\\[|]$", "");
                try {
                    int port = Integer.parseInt(spec.substring(colon + 1));
                    if (!host.isEmpty() && port >= 0 && port <= 65_535) {
                        return new Inet(host, port);
                    }
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            throw new IllegalArgumentException("'" + spec + "' is neither unix:/absolute/path nor inet:host:port");
        }
    }

    private LmtpConfig(Map<?, ?> settings) {
        super(DEFINITION, settings);
        if (deadlineMs() > LONGEST_DEADLINE_MS) {
            throw new ConfigException(DEADLINE_MS, deadlineMs(), "must be at most " + LONGEST_DEADLINE_MS
                    + " for LMTP: Postfix gives up on the replies after lmtp_data_done_timeout (600 s) and delivers again");
        }
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

    List<Listen> listeners() {
        return getList(LISTEN).stream().map(Listen::parse).toList();
    }

    Set<PosixFilePermission> socketMode() {
        return ModeValidator.permissions(getString(SOCKET_MODE));
    }

    String metricsListen() {
        return getString(MetricsEndpoint.METRICS_LISTEN);
    }

    String socketGroup() {
        return getString(SOCKET_GROUP);
    }

    List<Network> allowedNetworks() {
        return getList(ALLOW).stream().map(Network::parse).toList();
    }

    int maxConnections() {
        return getInt(MAX_CONNECTIONS);
    }

    int idleTimeoutMs() {
        return getInt(IDLE_TIMEOUT_MS);
    }

    int maxRecipients() {
        return getInt(MAX_RECIPIENTS);
    }

    /** A network as address/prefix-length: whether it holds an address. */
    record Network(byte[] address, int prefixLength) {

        static Network parse(String spec) {
            int slash = spec.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException("'" + spec + "' is not address/prefix-length");
            }
            try {
                byte[] address = InetAddress.getByName(literal(spec.substring(0, slash))).getAddress();
                int prefixLength = Integer.parseInt(spec.substring(slash + 1));
                if (prefixLength < 0 || prefixLength > address.length * 8) {
                    throw new IllegalArgumentException("prefix length " + prefixLength + " does not fit " + spec);
                }
                return new Network(address, prefixLength);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("'" + spec + "' is not address/prefix-length");
            }
        }

        boolean contains(InetAddress candidate) {
            byte[] other = candidate.getAddress();
            if (other.length != address.length) {
                return false;
            }
            for (int bit = 0; bit < prefixLength; bit++) {
                int mask = 0x80 >> (bit % 8);
                if ((other[bit / 8] & mask) != (address[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }

        /** Only literal addresses: a host name here would make the allow-list depend on DNS. */
        private static String literal(String text) throws UnknownHostException {
            if (!text.matches("[0-9a-fA-F:.]+")) {
                throw new UnknownHostException(text);
            }
            return text;
        }
    }

    /** A list of at least one item, each of which {@code parser} accepts; its message says why one is refused. */
    private record EachParses(Function<String, ?> parser, String description) implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            List<?> items = (List<?>) value;
            if (items.isEmpty()) {
                throw new ConfigException(name, value, "needs at least one " + description);
            }
            for (Object item : items) {
                try {
                    parser.apply(item.toString());
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(name, value, e.getMessage());
                }
            }
        }

        @Override
        public String toString() {
            return description + "[,...]";
        }
    }

    private static final class ModeValidator implements ConfigDef.Validator {
        static Set<PosixFilePermission> permissions(String octal) {
            int mode = Integer.parseInt(octal, 8);
            StringBuilder text = new StringBuilder();
            for (int shift = 6; shift >= 0; shift -= 3) {
                int bits = (mode >> shift) & 7;
                text.append((bits & 4) != 0 ? 'r' : '-').append((bits & 2) != 0 ? 'w' : '-').append((bits & 1) != 0 ? 'x' : '-');
            }
            return PosixFilePermissions.fromString(text.toString());
        }

        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !value.toString().matches("0?[0-7]{3}")) {
                throw new ConfigException(name, value, "an octal mode such as 0660");
            }
        }

        @Override
        public String toString() {
            return "octal mode, e.g. 0660";
        }
    }
}
