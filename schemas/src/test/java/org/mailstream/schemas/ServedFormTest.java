package org.mailstream.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ServedFormTest {

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void aBareLineFeedIsServedAsCrlfAndItsSizeCountsTheAddedCarriageReturn() {
        byte[] raw = bytes("\nSubject: x\n\nbody\r\nend\n");
        byte[] served = ServedForm.of(raw);
        assertArrayEquals(bytes("\r\nSubject: x\r\n\r\nbody\r\nend\r\n"), served);
        assertEquals(served.length, ServedForm.size(raw));
    }

    @Test
    void aMessageWithCrlfLineEndsIsServedAsStoredWithoutACopy() {
        byte[] raw = bytes("Subject: x\r\n\r\nbody\r\n");
        assertSame(raw, ServedForm.of(raw));
        assertEquals(raw.length, ServedForm.size(raw));
    }

    @Test
    void aBareCarriageReturnAndEightBitBytesStayAsTheyAre() {
        byte[] raw = bytes("a\rb\u00e9c\r\n");
        assertArrayEquals(raw, ServedForm.of(raw));
    }

    @Test
    void aNulIsServedAs0x80WhichIsWhatDovecotSendsForIt() {
        assertArrayEquals(bytes("a\u0080b\r\n"), ServedForm.of(bytes("a\u0000b\r\n")));
        assertEquals(5, ServedForm.size(bytes("a\u0000b\r\n")));
    }
}
