package org.mailstream.local;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Messages that a mail store must keep byte for byte, each built here so that tests, the demo
 * and benchmarks share them. Deterministic: the same seed gives the same bytes.
 */
public final class MailCorpus {

    private MailCorpus() {
    }

    /** The awkward cases, by name: every one is a valid message that must round-trip exactly. */
    public static Map<String, byte[]> awkward() {
        Map<String, byte[]> corpus = new LinkedHashMap<>();
        corpus.put("plain", message("Plain", "Hello Bob,\r\n\r\nJust text.\r\n"));
        corpus.put("eight-bit", concat(
                "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\r\nTo: bob@example.com\r\n".getBytes(StandardCharsets.US_ASCII),
                "Subject: Grüße aus Köln\r\n\r\n".getBytes(StandardCharsets.UTF_8),
                allBytesFrom(0x80), "\r\nlatin-1: \u00e9t\u00e9\r\n".getBytes(StandardCharsets.ISO_8859_1)));
        corpus.put("nul", concat(header("NUL bytes"), new byte[] {'a', 0, 'b', 0, 0, '\r', '\n'}));
        corpus.put("bare-cr", concat(header("Bare CR"), "one\rtwo\r\rthree\r\n".getBytes(StandardCharsets.US_ASCII)));
        corpus.put("mixed-line-endings", ("From: alice@example.org\nTo: bob@example.com\r\nSubject: mixed\n\r\n"
                + "lf\ncrlf\r\nlf\n").getBytes(StandardCharsets.US_ASCII));
        corpus.put("leading-dots", message("Leading dots", ".one\r\n..two\r\n.\r\nnot the end\r\n"));
        corpus.put("long-line", message("Long line " + "x".repeat(1000), "y".repeat(2000) + "\r\n"));
        corpus.put("headers-only", "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: headers only\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        corpus.put("headers-only-no-final-newline", "From: alice@example.org\r\nSubject: cut"
                .getBytes(StandardCharsets.US_ASCII));
        corpus.put("empty-body", header("Empty body"));
        corpus.put("folded-header", ("From: alice@example.org\r\nSubject: a subject\r\n\tfolded over\r\n  three lines\r\n"
                + "\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII));
        corpus.put("attachment-9.5MB", withAttachment(9_961_472, 1));
        return corpus;
    }

    /** A small ordinary message with the given subject and body. */
    public static byte[] message(String subject, String body) {
        return concat(header(subject), body.getBytes(StandardCharsets.UTF_8));
    }

    /** A message of exactly {@code size} octets (at least 300) whose body is printable text. */
    public static byte[] ofSize(int size, long seed) {
        byte[] head = header("Message of " + size + " octets, seed " + seed);
        StringBuilder body = new StringBuilder(size);
        Random random = new Random(seed);
        while (head.length + body.length() < size) {
            body.append((char) ('a' + random.nextInt(26)));
            if (body.length() % 78 == 76) {
                body.append("\r\n");
            }
        }
        body.setLength(size - head.length);
        return concat(head, body.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** A multipart message of exactly {@code size} octets carrying random bytes in base64. */
    public static byte[] withAttachment(int size, long seed) {
        String head = "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: attachment\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                + "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; filename=\"random.bin\"\r\n\r\n";
        String tail = "\r\n--b1--\r\n";
        int encodedLength = size - head.length() - tail.length();
        byte[] random = new byte[encodedLength];
        new Random(seed).nextBytes(random);
        String encoded = Base64.getMimeEncoder().encodeToString(random).substring(0, encodedLength);
        return (head + encoded + tail).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] header(String subject) {
        return ("From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: " + subject
                + "\r\nMessage-ID: <" + Math.abs(subject.hashCode()) + "@example.org>\r\nDate: Wed, 25 Nov 2026 12:00:00 +0000\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] allBytesFrom(int first) {
        byte[] bytes = new byte[256 - first];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (first + i);
        }
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
