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

    /**
     * Messages whose MIME structure and header are awkward, by name, for comparing what IMAP
     * servers make of them: encoded words, groups, nested messages, RFC 2231 parameters, broken
     * boundaries, 8-bit headers, LF line ends, no final newline, dates written in odd forms,
     * messages nested deeper than a parser follows, a boundary that begins another, text after a
     * delimiter.
     */
    public static Map<String, byte[]> awkwardMime() {
        Map<String, byte[]> corpus = new LinkedHashMap<>();
        corpus.put("encoded-words", ascii("From: =?UTF-8?B?SsO2cmc=?= <joerg@example.org>\r\nTo: \"Bob \\\"the\\\" Builder\" <bob@example.com>,"
                + " carol@example.com (Carol C)\r\nSubject: =?ISO-8859-1?Q?Gr=FC=DFe?= und =?UTF-8?Q?K=C3=B6ln?=\r\n"
                + "Date: Thu, 3 Dec 2026 09:15:00 +0100\r\nMessage-ID: <ew@example.org>\r\n\r\nbody\r\n"));
        corpus.put("unknown-charset", ascii("From: =?X-NO-SUCH-CHARSET?Q?Ann?= <ann@example.org>\r\n"
                + "Subject: =?X-NO-SUCH-CHARSET?Q?W=FCrzburg?= und =?UTF-8?Q?Br=C3=BCssel?=\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + "Stra=DFe nach Leipzig\r\n"));
        corpus.put("groups", ascii("From: alice@example.org\r\nTo: undisclosed-recipients:;\r\nCc: team: a@example.org, B <b@example.org>;,"
                + " d@example.org\r\nReply-To: <replies@example.org>\r\nSender: list@example.org\r\nIn-Reply-To: <x@example.org>\r\n"
                + "Subject: groups\r\n\r\nbody\r\n"));
        corpus.put("nested-message", ascii("From: alice@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n--outer\r\nContent-Type: text/plain;"
                + " charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nsee below =C3=A9\r\n--outer\r\n"
                + "Content-Type: message/rfc822\r\nContent-Description: the original\r\n\r\nFrom: carol@example.com\r\n"
                + "Subject: original\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n"
                + "Content-Type: text/plain\r\n\r\nplain\r\n--inner\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n"
                + "<p>html</p>\r\n--inner--\r\n\r\n--outer--\r\nepilogue\r\n"));
        corpus.put("rfc2231-parameters", ascii("From: alice@example.org\r\nSubject: parameters\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=b2231\r\n\r\n--b2231\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
                + "--b2231\r\nContent-Type: application/pdf;\r\n name*0*=utf-8''Gr%C3%BC%C3%9Fe;\r\n name*1=\".pdf\"\r\n"
                + "Content-Disposition: attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe.pdf; size=4\r\nContent-Language: de\r\n"
                + "Content-ID: <part2@example.org>\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b2231--\r\n"));
        corpus.put("boundary-never-found", ascii("From: alice@example.org\r\nSubject: lost boundary\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"nowhere\"\r\n\r\n--elsewhere\r\nContent-Type: text/plain\r\n\r\ntext\r\n"));
        corpus.put("no-closing-boundary", ascii("From: alice@example.org\r\nSubject: unclosed\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=open\r\n\r\n--open\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--open\r\n"
                + "Content-Type: text/plain\r\n\r\nsecond, never closed\r\n"));
        corpus.put("digest", ascii("From: alice@example.org\r\nSubject: digest\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nFrom: x@example.org\r\nSubject: one\r\n\r\nfirst\r\n"
                + "--d\r\n\r\nFrom: y@example.org\r\nSubject: two\r\n\r\nsecond\r\n--d--\r\n"));
        corpus.put("eight-bit-header", concat(ascii("From: "), "Jörg Müller <joerg@example.org>\r\nSubject: Grüße\r\n"
                .getBytes(StandardCharsets.UTF_8), ascii("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"),
                "äöü\r\n".getBytes(StandardCharsets.UTF_8)));
        corpus.put("lf-line-ends", ascii("From: alice@example.org\nSubject: LF only\nContent-Type: multipart/mixed; boundary=lf\n\n"
                + "--lf\nContent-Type: text/plain\n\none\ntwo\n--lf--\n"));
        corpus.put("no-final-newline", ascii("From: alice@example.org\r\nSubject: cut short\r\n\r\nno newline at the end"));
        // A quoted local part of 20,000 characters: a regular expression reading it overflowed the stack of the session
        // that fetched its ENVELOPE, which any sender could have done to any mailbox.
        corpus.put("long-quoted-local-part", ascii("From: <\"" + "a".repeat(20_000) + "\"@example.org>\r\nSubject: quoted\r\n\r\nbody\r\n"));
        // Addresses without a domain or a mailbox (cron's From: root, a null return path): no group to a client.
        corpus.put("addresses-missing-parts", ascii("From: root (Cron Daemon)\r\nTo: <>\r\nCc: Foo <alice>, a@, @b\r\n"
                + "Reply-To: <\"a\\\"b\"@example.org>\r\nSubject: cron\r\n\r\nbody\r\n"));
        // A header cut off after the first octet of the line that would end it: an APPEND whose literal was one short.
        corpus.put("header-ending-in-a-lone-cr", ascii("From: alice@example.org\r\nSubject: lone CR\r\n\r"));
        corpus.put("no-content-type-params", ascii("From: alice@example.org\r\nSubject: odd type\r\nContent-Type: text\r\n"
                + "Content-Transfer-Encoding: BASE64 (comment)\r\n\r\naGk=\r\n"));
        corpus.put("message-at-top", ascii("From: alice@example.org\r\nSubject: forwarded whole\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: message/rfc822\r\n\r\nFrom: carol@example.com\r\nSubject: held\r\n\r\nheld body\r\n"));
        corpus.put("messages-nested-too-deep", ascii("From: alice@example.org\r\nSubject: nested messages\r\nMIME-Version: 1.0\r\n"
                + nested(105, "Content-Type: message/rfc822\r\n\r\nSubject: level %d\r\n") + "\r\ninnermost\r\n"));
        corpus.put("boundary-a-prefix-of-another", ascii("From: alice@example.org\r\nSubject: prefixes\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"part\"\r\n\r\n--part\r\nContent-Type: multipart/alternative;"
                + " boundary=\"part-alt\"\r\n\r\n--part-alt\r\nContent-Type: text/plain\r\n\r\nplain\r\n--part-alt\r\n"
                + "Content-Type: text/html\r\n\r\n<p>html</p>\r\n--part-alt--\r\n\r\n--part\r\nContent-Type: text/plain\r\n\r\n"
                + "second\r\n--part--\r\n"));
        corpus.put("boundary-with-trailing-text", ascii("From: alice@example.org\r\nSubject: trailing\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=edge\r\n\r\n--edge \t\r\nContent-Type: text/plain\r\n\r\none\r\n"
                + "--edge and more\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--edge--trailing\r\nepilogue\r\n"));
        corpus.put("date-across-midnight", ascii("From: alice@example.org\r\nSubject: late\r\nDate: Mon, 30 Nov 2026 23:30:00 -0800\r\n"
                + "\r\nbody\r\n"));
        corpus.put("date-obsolete-forms", ascii("From: alice@example.org\r\nSubject: old style\r\nDate: 1 Dec 26 00:30 EST (Eastern)\r\n"
                + "\r\nbody\r\n"));
        corpus.put("date-unreadable", ascii("From: alice@example.org\r\nSubject: no date\r\nDate: sometime next week\r\n\r\nbody\r\n"));
        corpus.put("comments-and-routes", ascii("From: (just a comment) alice@example.org (Alice A)\r\n"
                + "To: <@relay.example.net:bob@example.com>, \"quoted local\"@example.com\r\nSubject: routes\r\n\r\nbody\r\n"));
        return corpus;
    }

    /**
     * Messages built to exhaust a parser, each ending in the words "last words": multiparts and
     * messages nested {@code count} deep, a multipart of {@code count} tiny parts side by side, and
     * one whose {@code count} delimiter lines begin with the boundary of the multipart around it.
     */
    public static Map<String, byte[]> mimeBombs(int count) {
        Map<String, byte[]> corpus = new LinkedHashMap<>();
        String head = "From: alice@example.org\r\nSubject: %s\r\nMIME-Version: 1.0\r\n";
        String last = "\r\nlast words\r\n";
        corpus.put("multiparts-nested", ascii(head.formatted("nested multiparts")
                + nested(count, "Content-Type: multipart/mixed; boundary=b%06d\r\n\r\n--b%<06d\r\n") + last));
        corpus.put("messages-nested", ascii(head.formatted("nested messages")
                + nested(count, "Content-Type: message/rfc822\r\n\r\nSubject: level %d\r\n") + last));
        corpus.put("parts-side-by-side", ascii(head.formatted("countless parts") + "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                + "--b\r\n\r\nx\r\n".repeat(count) + "--b\r\n" + last + "--b--\r\n"));
        corpus.put("delimiters-beginning-the-outer-boundary", ascii(head.formatted("inner delimiters")
                + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=bx\r\n\r\n"
                + "--bx\r\n\r\nx\r\n".repeat(count) + "--bx\r\n" + last + "--bx--\r\n--b--\r\n"));
        return corpus;
    }

    /** {@code level} formatted with each number from 1 to {@code levels}, one after the other: a part inside a part. */
    private static String nested(int levels, String level) {
        StringBuilder nested = new StringBuilder();
        for (int i = 1; i <= levels; i++) {
            nested.append(level.formatted(i));
        }
        return nested.toString();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
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
