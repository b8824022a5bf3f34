package org.mailstream.server;

import java.net.InetAddress;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * What a {@link Server} is configured with, read from a protocol's {@link ServerKeys}.
 *
 * @param allowKey the key that lists {@code allowedNetworks}, for the log line of a client refused
 */
public record ServerSettings(List<ServerKeys.Listen> listeners, Set<PosixFilePermission> socketMode, String socketGroup,
        List<ServerKeys.Network> allowedNetworks, int maxConnections, Duration idleTimeout, Duration transactionTimeout,
        int maxErrors, String allowKey) {

    /** Whether a TCP client from {@code address} may connect. */
    public boolean allows(InetAddress address) {
        return ServerKeys.Network.anyContains(allowedNetworks, address);
    }
}
