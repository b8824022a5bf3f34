package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** How LMTP is read off the wire: DATA byte for byte, command lines. */
class LmtpReaderTest {

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
        LmtpReader reader = reader(bytes("0123456789\r\n.\r\nNOOP\r\n"));
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
        LmtpReader reader = reader(bytes("NOOP " + "x".repeat(5000) + "\r\nRSET\r\n"));
        assertThrows(LmtpReader.LineTooLong.class, () -> reader.readLine(4096));
        assertArrayEquals(bytes("RSET"), reader.readLine(4096));
    }

    private static LmtpReader reader(byte[] input) {
        return new LmtpReader(new ByteArrayInputStream(input));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }
}
