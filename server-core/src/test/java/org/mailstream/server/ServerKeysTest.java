package org.mailstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ServerKeysTest {

    @Test
    void aListenerIsAUnixSocketsAbsolutePathOrAHostAndAPort() {
        assertEquals(new ServerKeys.Listen.Unix(Path.of("/run/x")), ServerKeys.Listen.parse("unix:/run/x"));
        assertEquals(new ServerKeys.Listen.Inet("::1", 24), ServerKeys.Listen.parse("inet:[::1]:24"));
        for (String wrong : new String[] {"inet:8025", "inet::24", "inet:host:", "inet:host:70000", "unix:relative", "tcp:h:1"}) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> ServerKeys.Listen.parse(wrong), wrong);
            assertTrue(refused.getMessage().contains("neither unix:/absolute/path nor inet:host:port"), refused.getMessage());
        }
    }

    @Test
    void aNetworkHoldsExactlyItsAddresses() throws Exception {
        ServerKeys.Network loopback = ServerKeys.Network.parse("127.0.0.0/8");
        assertTrue(loopback.contains(InetAddress.getByName("127.1.2.3")));
        assertFalse(loopback.contains(InetAddress.getByName("128.0.0.1")));
        assertFalse(loopback.contains(InetAddress.getByName("::1")));
        assertTrue(ServerKeys.Network.parse("::1/128").contains(InetAddress.getByName("::1")));
        assertThrows(IllegalArgumentException.class, () -> ServerKeys.Network.parse("mx.example.com/32"), "no host names");
    }
}
