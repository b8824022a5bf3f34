package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClientInputTest {

    private static ClientInput of(String sent) {
        return new ClientInput(new ByteArrayInputStream(sent.getBytes(StandardCharsets.US_ASCII)), 8);
    }

    @Test
    void thePositionCountsWhatTheSessionReadNotWhatTheBufferHolds() throws IOException {
        ClientInput in = of("a NOOP\r\nb FETCH 1 FLAGS\r\n");
        assertEquals(0, in.position());
        in.read();
        assertEquals(1, in.position());
        in.readNBytes(10);
        assertEquals(11, in.position());
        in.skip(3);
        assertEquals(14, in.position());
        in.readAllBytes();
        assertEquals(25, in.position());
    }

    @Test
    void aResetToTheMarkTakesBackThePositionReadSince() throws IOException {
        ClientInput in = of("a NOOP\r\nb FETCH 1 FLAGS\r\nc FETCH 2 FLAGS\r\n");
        in.readNBytes(8);
        in.mark(30);
        in.readNBytes(25);
        assertEquals(33, in.position());
        in.reset();
        assertEquals(8, in.position());
    }
}
