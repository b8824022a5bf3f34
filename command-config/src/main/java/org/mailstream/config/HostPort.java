package org.mailstream.config;

/**
 * A TCP endpoint as configuration writes it, {@code HOST:PORT}, the host a name, an IPv4 address
 * or an IPv6 address with or without brackets ({@code [::1]:9092}). One parser for the brokers,
 * the listeners and the metrics endpoint.
 */
public record HostPort(String host, int port) {

    /** Parses {@code text}; IllegalArgumentException when it is not HOST:PORT with a port of 0 to 65535. */
    public static HostPort parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon > 0) {
            String host = text.substring(0, colon).replaceAll("^\\[|]$", "");
            String port = text.substring(colon + 1);
            if (!host.isEmpty() && port.matches("\\d{1,5}") && Integer.parseInt(port) <= 65_535) {
                return new HostPort(host, Integer.parseInt(port));
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not HOST:PORT");
    }
}
