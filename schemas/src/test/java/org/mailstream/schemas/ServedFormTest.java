package org.mailstream.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
    void aBareLineFeedOrNulIsFoundAtEveryPlaceInALongMessageAndAcrossEightOctetWords() {
        for (int length = 1; length <= 40; length++) {
            for (int at = 0; at < length; at++) {
                byte[] plain = new byte[length];
                Arrays.fill(plain, (byte) 'x');
                byte[] bareLf = plain.clone();
                bareLf[at] = '\n';
                assertArrayEquals(reference(bareLf), ServedForm.of(bareLf), "LF at " + at + " of " + length);
                byte[] crLf = bareLf.clone();
                if (at > 0) {
                    crLf[at - 1] = '\r';
                    assertSame(crLf, ServedForm.of(crLf), "CRLF ending at " + at + " of " + length);
                }
                byte[] nul = plain.clone();
                nul[at] = 0;
                assertArrayEquals(reference(nul), ServedForm.of(nul), "NUL at " + at + " of " + length);
                assertSame(plain, ServedForm.of(plain));
            }
        }
    }

    /** The served form octet by octet, as its definition says. */
    private static byte[] reference(byte[] raw) {
        ByteArrayOutputStream served = new ByteArrayOutputStream();
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) {
                served.write('\r');
            }
            served.write(raw[i] == 0 ? 0x80 : raw[i]);
        }
        return served.toByteArray();
    }

    @Test
    void aNulIsServedAs0x80WhichIsWhatDovecotSendsForIt() {
        assertArrayEquals(bytes("a\u0080b\r\n"), ServedForm.of(bytes("a\u0000b\r\n")));
        assertEquals(5, ServedForm.size(bytes("a\u0000b\r\n")));
    }
}
