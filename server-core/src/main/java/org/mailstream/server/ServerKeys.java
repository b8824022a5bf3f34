package org.mailstream.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.HostPort;

/**
 * The configuration keys every protocol server has, under its protocol's prefix ({@code lmtp.},
 * {@code imap.}): declared once here, with doc, type, default and validation, and read into
 * {@link ServerSettings}. What differs between protocols is given by {@link Defaults}.
 */
public final class ServerKeys {

    /** A protocol's defaults, and what its "transaction" is, for the documentation. */
    public record Defaults(String listen, int maxConnections, int idleTimeoutMs, int transactionTimeoutMs, String transaction) {
    }

    public final String listen;
    public final String socketMode;
    public final String socketGroup;
    public final String allow;
    public final String maxConnections;
    public final String idleTimeoutMs;
    public final String transactionTimeoutMs;
    public final String maxErrors;

    public ServerKeys(String protocol) {
        String prefix = protocol + ".";
        listen = prefix + "listen";
        socketMode = prefix + "socket.mode";
        socketGroup = prefix + "socket.group";
        allow = prefix + "allow";
        maxConnections = prefix + "max.connections";
        idleTimeoutMs = prefix + "idle.timeout.ms";
        transactionTimeoutMs = prefix + "transaction.timeout.ms";
        maxErrors = prefix + "max.errors";
    }

    /** Adds the keys to {@code definition}. */
    public ConfigDef define(ConfigDef definition, Defaults defaults) {
        return definition
                .define(listen, Type.LIST, defaults.listen(), new EachParses(Listen::parse, "unix:/path or inet:host:port"), Importance.HIGH,
                        "Where to accept connections, separated by commas: unix:/path for a socket that only the users of "
                        + "its group reach (see " + socketMode + " and " + socketGroup + "), inet:host:port for TCP (see "
                        + allow + ").")
                .define(socketMode, Type.STRING, "0660", new ModeValidator(), Importance.HIGH,
                        "Permissions of each unix socket, in octal: 0660 lets its owner and its group connect.")
                .define(socketGroup, Type.STRING, "", Importance.HIGH,
                        "Group given each unix socket; empty leaves the group it is created with, which a set-group-ID "
                        + "directory decides (see docs/postfix.md).")
                .define(allow, Type.LIST, "127.0.0.0/8,::1/128", new EachParses(Network::parse, "address/prefix-length"),
                        Importance.HIGH, "Client networks, as address/prefix-length, that may connect over TCP; others are "
                        + "refused and disconnected. Unix sockets are guarded by their mode and group instead.")
                .define(maxConnections, Type.INT, defaults.maxConnections(), Range.between(1, 10_000), Importance.MEDIUM,
                        "Connections served at once; one more is told to try later and disconnected.")
                .define(idleTimeoutMs, Type.INT, defaults.idleTimeoutMs(), Range.between(1_000, 86_400_000), Importance.LOW,
                        "Time a client may stay silent, or leave the server's replies unread, before it is disconnected.")
                .define(transactionTimeoutMs, Type.INT, defaults.transactionTimeoutMs(), Range.between(1_000, 86_400_000),
                        Importance.LOW, "Longest a client may take over one " + defaults.transaction() + ", however "
                        + "steadily it trickles, before it is disconnected; nothing of an unfinished one has been acknowledged.")
                .define(maxErrors, Type.INT, 20, Range.between(1, 1_000), Importance.LOW,
                        "Commands a client may get refused in one connection; the next refusal ends the connection.");
    }

    /** The keys' values in {@code config}. */
    public ServerSettings read(AbstractConfig config) {
        return new ServerSettings(config.getList(listen).stream().map(Listen::parse).toList(),
                ModeValidator.permissions(config.getString(socketMode)), config.getString(socketGroup),
                config.getList(allow).stream().map(Network::parse).toList(), config.getInt(maxConnections),
                Duration.ofMillis(config.getInt(idleTimeoutMs)), Duration.ofMillis(config.getInt(transactionTimeoutMs)),
                config.getInt(maxErrors), allow);
    }

    /** A listener: a unix socket's path, or a TCP host and port. */
    public sealed interface Listen {
        record Unix(Path path) implements Listen {
        }

        record Inet(String host, int port) implements Listen {
        }

        static Listen parse(String spec) {
            if (spec.startsWith("unix:/")) {
                return new Unix(Path.of(spec.substring(5)));
            }
            if (spec.startsWith("inet:")) {
                try {
                    HostPort endpoint = HostPort.parse(spec.substring(5));
                    return new Inet(endpoint.host(), endpoint.port());
                } catch (IllegalArgumentException e) {
                    // the refusal below names both forms a listener takes
                }
            }
            throw new IllegalArgumentException("neither unix:/absolute/path nor inet:host:port");
        }
    }

    /** A network as address/prefix-length: whether it holds an address. */
    public record Network(byte[] address, int prefixLength) {

        public static Network parse(String spec) {
            int slash = spec.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException("not address/prefix-length");
            }
            try {
                byte[] address = InetAddress.getByName(literal(spec.substring(0, slash))).getAddress();
                int prefixLength = Integer.parseInt(spec.substring(slash + 1));
                if (prefixLength < 0 || prefixLength > address.length * 8) {
                    throw new IllegalArgumentException("a prefix length longer than the address");
                }
                return new Network(address, prefixLength);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("not address/prefix-length");
            }
        }

        /** Whether any of {@code networks} holds {@code candidate}. */
        public static boolean anyContains(List<Network> networks, InetAddress candidate) {
            return networks.stream().anyMatch(network -> network.contains(candidate));
        }

        public boolean contains(InetAddress candidate) {
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

    /**
     * A list each of whose items {@code parser} accepts; its message says why one is refused. At
     * least one item unless {@code mayBeEmpty}.
     */
    public record EachParses(Function<String, ?> parser, String description, boolean mayBeEmpty) implements ConfigDef.Validator {

        public EachParses(Function<String, ?> parser, String description) {
            this(parser, description, false);
        }

        @Override
        public void ensureValid(String name, Object value) {
            List<?> items = (List<?>) value;
            if (items.isEmpty() && !mayBeEmpty) {
                throw new ConfigException(name + " needs at least one " + description);
            }
            for (int i = 0; i < items.size(); i++) {
                try {
                    parser.apply(items.get(i).toString());
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(name + ": item " + (i + 1) + " is " + e.getMessage());
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
                throw new ConfigException(name + " must be an octal mode such as 0660");
            }
        }

        @Override
        public String toString() {
            return "octal mode, e.g. 0660";
        }
    }
}
