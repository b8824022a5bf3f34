package org.mailstream.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This host's name as the kernel has it: what an envelope's ingestHost, the LMTP greeting and a
 * bounce's Reporting-MTA say. Unlike InetAddress.getLocalHost() it needs no DNS lookup.
 */
public final class HostName {

    private static final String NAME = read();

    private HostName() {
    }

    public static String get() {
        return NAME;
    }

    private static String read() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            return "localhost";
        }
    }
}
