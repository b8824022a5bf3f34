package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the LMTP session reads what a client sends: DATA byte for byte, command lines, paths, xtext. */
class LmtpSessionTest {

    @Test
    void dataKeepsEveryByteButTheTransparencyDotsAndTheFinalDot() throws IOException {
        byte[] sent = bytes("Subject: x\r\n\r\n..leading dot\r\n..\r\nbare\rCR and bare\nLF\r\n\u00e9\u00ff\u0000 8-bit\r\n.\r\nQUIT\r\n");
        byte[] received = reader(sent).readData(1000);
        assertArrayEquals(bytes("Subject: x\r\n\r\n.leading dot\r\n.\r\nbare\rCR and bare\nLF\r\n\u00e9\u00ff\u0000 8-bit\r\n"), received);
    }

    @Test
    void aDotAfterABareLineFeedIsContentNotTheEnd() throws IOException {
        byte[] received = reader(bytes("a\n.\nb\r\n.\r\n")).readData(1000);
        assertArrayEquals(bytes("a\n.\nb\r\n"), received);
    }

    @Test
    void aStuffedDotBeforeABareCarriageReturnIsRemoved() throws IOException {
        assertArrayEquals(bytes("\rX\r\n"), reader(bytes(".\rX\r\n.\r\n")).readData(1000));
    }

    @Test
    void aLineOfAnyLengthWithinTheLimitIsKept() throws IOException {
        String line = "x".repeat(20_000);
        assertArrayEquals(bytes(line + "\r\n"), reader(bytes(line + "\r\n.\r\n")).readData(30_000));
    }

    @Test
    void dataPastTheLimitIsReadToItsEndButKeptOnlyToOneOctetPast() throws IOException {
        LmtpSession.ByteReader reader = reader(bytes("0123456789\r\n.\r\nNOOP\r\n"));
        assertEquals(6, reader.readData(5).length);
        assertArrayEquals(bytes("NOOP"), reader.readLine(100));
    }

    @Test
    void aClientThatLeavesBeforeTheFinalDotGivesNoMessage() throws IOException {
        assertNull(reader(bytes("Subject: x\r\n\r\nhalf a mess")).readData(1000));
        assertNull(reader(bytes("Subject: x\r\n.")).readData(1000));
    }

    @Test
    void aCommandLineLongerThanTheLimitIsConsumedAndRefused() throws IOException {
        LmtpSession.ByteReader reader = reader(bytes("NOOP " + "x".repeat(5000) + "\r\nRSET\r\n"));
        assertThrows(LmtpSession.LineTooLong.class, () -> reader.readLine(4096));
        assertArrayEquals(bytes("RSET"), reader.readLine(4096));
    }

    @Test
    void pathsAreParsedWithTheirParametersAndQuotedLocalPartsInInternalForm() {
        LmtpSession.Path mail = LmtpSession.Path.parse("FROM:<a@example.org> SIZE=123 BODY=8BITMIME", "FROM:");
        assertEquals("a@example.org", mail.address());
        assertEquals(Map.of("SIZE", "123", "BODY", "8BITMIME"), mail.parameters());
        assertEquals("", LmtpSession.Path.parse("from: <>", "FROM:").address());
        assertEquals("john doe@example.com", LmtpSession.Path.parse("TO:<\"john doe\"@example.com>", "TO:").address());
        assertEquals("a>b@example.com", LmtpSession.Path.parse("TO:<\"a>b\"@example.com>", "TO:").address());
        assertEquals("user@c.example", LmtpSession.Path.parse("TO:<@a.example,@b.example:user@c.example>", "TO:").address());
        assertNull(LmtpSession.Path.parse("TO:bob@example.com", "TO:"));
        assertNull(LmtpSession.Path.parse("FROM:<a@example.org>", "TO:"));
    }

    @Test
    void xtextDecodesPlusAndTwoHexDigits() {
        assertEquals("bob+tag@example.com", LmtpSession.decodeXtext("bob+2Btag@example.com"));
        assertEquals("a=b c", LmtpSession.decodeXtext("a+3Db+20c"));
        assertEquals("+", LmtpSession.decodeXtext("+"));
    }

    private static LmtpSession.ByteReader reader(byte[] input) {
        return new LmtpSession.ByteReader(new ByteArrayInputStream(input));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }
}
