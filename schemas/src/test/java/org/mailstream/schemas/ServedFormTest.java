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
    @Test
    void theHeaderSectionRunsToTheFirstEmptyLineWhateverItsLineEndsAndIsServedAsTheMessageIs() {
        assertArrayEquals(bytes("Subject: x\r\nTo: y\r\n\r\n"), ServedForm.header(bytes("Subject: x\r\nTo: y\r\n\r\nbody\r\n\r\nmore")));
        assertArrayEquals(bytes("Subject: x\r\n\r\n"), ServedForm.header(bytes("Subject: x\n\nbody\n")));
        assertArrayEquals(bytes("Subject: x\r\n\r\n"), ServedForm.header(bytes("Subject: x\r\n\nbody")));
        assertArrayEquals(bytes("Subject: x\r\n\r\n"), ServedForm.header(bytes("Subject: x\n\r\nbody")));
        assertArrayEquals(bytes("\r\n"), ServedForm.header(bytes("\nSubject: in the body\n")), "an empty header");
        assertArrayEquals(bytes("A: \u0080\r\n\r\n"), ServedForm.header(bytes("A: \u0000\r\n\r\nb")), "a NUL as served");
    }

    @Test
    void aBareCarriageReturnEndsNoLineSoALineOfOneIsNoEmptyLine() {
        assertArrayEquals(bytes("A: x\r\n\r\r\nB: y\r\n\r\n"), ServedForm.header(bytes("A: x\r\n\r\r\nB: y\r\n\r\nbody")));
        assertArrayEquals(bytes("A: x\r\n\r \r\n\r\n"), ServedForm.header(bytes("A: x\n\r \n\nbody")));
    }

    @Test
    void aMessageThatIsAllHeaderIsItsOwnHeaderSection() {
        assertArrayEquals(bytes("Subject: x\r\nTo: y"), ServedForm.header(bytes("Subject: x\nTo: y")));
        assertArrayEquals(bytes("Subject: x\r\n"), ServedForm.header(bytes("Subject: x\r\n")));
    }

    @Test
    void noHeaderSectionIsGivenForAnEmptyMessageOrOneLongerThanTheLimit() {
        assertEquals(-1, lengthOf(ServedForm.header(new byte[0])));
        String field = "X-Long: " + "x".repeat(ServedForm.MAX_HEADER_BYTES) + "\r\n";
        assertEquals(-1, lengthOf(ServedForm.header(bytes(field + "\r\nbody"))));
        String fits = "X-Long: " + "x".repeat(ServedForm.MAX_HEADER_BYTES - 12) + "\r\n";
        assertEquals(ServedForm.MAX_HEADER_BYTES, lengthOf(ServedForm.header(bytes(fits + "\r\n" + field))));
        String bare = "X-Long: " + "x".repeat(ServedForm.MAX_HEADER_BYTES - 11) + "\n";
        assertEquals(-1, lengthOf(ServedForm.header(bytes(bare + "\n"))), "its CRs as served count");
    }

    /** The length of a header section, -1 for none: a failure then prints a number, not 65,536 octets. */
    private static int lengthOf(byte[] header) {
        return header == null ? -1 : header.length;
    }
}
