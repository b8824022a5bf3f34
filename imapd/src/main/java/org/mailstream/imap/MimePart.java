package org.mailstream.imap;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One part of a message as served (CRLF line ends): where its header and body lie, its header
 * fields, its content type, and its parts, found by the boundaries of a multipart and inside a
 * message/rfc822. A part without a header's end is all header; a multipart whose closing boundary
 * is missing ends where the message ends; a boundary that is never found leaves one part, the
 * preamble. What a broken message gives is what it holds, never an error.
 *
 * <p>As in Dovecot's parser, a part nested {@value #MAX_NESTING} deep, or past the first
 * {@value #MAX_PARTS} of a message, is not looked into: a mail built of parts nested thousands
 * deep or of countless tiny parts costs what an ordinary one does, and cannot exhaust a session's
 * stack or the server's memory.
 */
final class MimePart {

    static final int MAX_NESTING = 100;
    static final int MAX_PARTS = 10_000;

    private static final Pattern LINE_END = Pattern.compile("\r\n");
    private static final Pattern BOUNDARY = Pattern.compile("(?i)boundary\\s*=\\s*(?:\"([^\"]*)\"|([^\\s;\"]+))");

    /** A header field: its name, and its value as written, folds (CRLF and the space after) included, leading space trimmed. */
    record Field(String name, String value) {
    }

    /** A parameter of Content-Type or Content-Disposition, as written. */
    record Parameter(String name, String value) {
    }

    final byte[] message;
    final int start;
    final int bodyStart;
    final int end;
    final List<Field> fields;
    final String type;
    final String subtype;
    /** The type its header declares (or its default), also for a part not looked into: what a search goes by, as Dovecot's does. */
    private final String declaredType;
    final List<Parameter> parameters;
    final List<MimePart> parts;
    /** The message a message/rfc822 part holds, or null. */
    final MimePart encapsulated;

    /** How many parts of one message have been made, against {@link #MAX_PARTS}. */
    private static final class Count {
        int parts;
    }

    private MimePart(byte[] message, int start, int end, String defaultType, int depth, Count count) {
        count.parts++;
        this.message = message;
        this.start = start;
        this.end = end;
        this.bodyStart = bodyStart(message, start, end);
        this.fields = fields(message, start, bodyStart);
        String contentType = field("Content-Type").orElse(null);
        HeaderValue parsed = contentType == null ? null : HeaderValue.parse(contentType);
        // No Content-Type: the default; one without a subtype: its type and an empty subtype, as Dovecot gives it.
        String[] kind = parsed == null ? defaultType.split("/", 2) : (parsed.token() + "/").split("/", 3);
        boolean container = depth < MAX_NESTING && count.parts < MAX_PARTS;
        // A multipart or message not looked into is opaque data, as Dovecot names it.
        boolean opaque = !container && (kind[0].equalsIgnoreCase("multipart")
                || kind[0].equalsIgnoreCase("message") && kind[1].equalsIgnoreCase("rfc822"));
        this.declaredType = kind[0].toLowerCase(Locale.ROOT);
        this.type = opaque ? "application" : declaredType;
        this.subtype = opaque ? "octet-stream" : kind[1].toLowerCase(Locale.ROOT);
        this.parameters = parsed == null ? List.of() : parsed.parameters();
        if (isMultipart()) {
            this.parts = children(parameter("boundary").orElse(null), depth + 1, count);
            this.encapsulated = null;
        } else if (container && type.equals("message") && subtype.equals("rfc822")) {
            this.parts = List.of();
            this.encapsulated = new MimePart(message, bodyStart, end, "text/plain", depth + 1, count);
        } else {
            this.parts = List.of();
            this.encapsulated = null;
        }
    }

    /** The structure of a whole message as served. */
    static MimePart of(byte[] served) {
        return new MimePart(served, 0, served.length, "text/plain", 1, new Count());
    }

    /** The first field named {@code name}, ignoring case. */
    Optional<String> field(String name) {
        return fields.stream().filter(field -> field.name().equalsIgnoreCase(name)).map(Field::value).findFirst();
    }

    /** Every field named {@code name}, in order. */
    List<String> fieldValues(String name) {
        return fields.stream().filter(field -> field.name().equalsIgnoreCase(name)).map(Field::value).toList();
    }

    Optional<String> parameter(String name) {
        return parameters.stream().filter(p -> p.name().equalsIgnoreCase(name)).map(Parameter::value).findFirst();
    }

    boolean isMultipart() {
        return type.equals("multipart");
    }

    byte[] header() {
        return Arrays.copyOfRange(message, start, bodyStart);
    }

    byte[] body() {
        return Arrays.copyOfRange(message, bodyStart, end);
    }

    /** Lines of the body, as Dovecot counts them: its line ends (a last line without one is not counted). */
    long bodyLines() {
        long lines = 0;
        for (int i = bodyStart; i < end; i++) {
            if (message[i] == '\n') {
                lines++;
            }
        }
        return lines;
    }

    /** Whether the header ends with its empty line, as one followed by a body does; a message may be all header. */
    boolean headerEnded() {
        int length = bodyStart - start;
        return length == 2 ? message[start] == '\r' : length >= 4 && message[bodyStart - 4] == '\r' && message[bodyStart - 3] == '\n'
                && message[bodyStart - 2] == '\r' && message[bodyStart - 1] == '\n';
    }

    /** Its Content-Transfer-Encoding as written, case and all ("7bit" when it names none). */
    String transferEncoding() {
        return field("Content-Transfer-Encoding").map(e -> HeaderValue.parse(e).token()).filter(e -> !e.isEmpty()).orElse("7bit");
    }

    /**
     * What a search reads of this part's body, as Dovecot reads it: the body of a part its header
     * declares text or a message (one nested too deep to be looked into included), its transfer
     * encoding undone, in its charset (as UTF-8 where it names us-ascii, which 8-bit text often
     * claims, or one this JVM does not know); nothing of any other part, whose octets are no text
     * to find words in, nor of a multipart's preamble and epilogue.
     */
    String searchableText() {
        if (!declaredType.equals("text") && !declaredType.equals("message")) {
            return "";
        }
        byte[] body = body();
        String encoding = transferEncoding().toLowerCase(Locale.ROOT);
        if (encoding.equals("quoted-printable") || encoding.equals("base64")) {
            try (InputStream decoded = MimeUtility.decode(new ByteArrayInputStream(body), encoding)) {
                body = decoded.readAllBytes();
            } catch (MessagingException | IOException undecodable) {
                // Searched as written, as a reader of the raw message would read it.
            }
        }
        return new String(body, parameter("charset").flatMap(MimePart::charset).filter(charset -> !charset.equals(StandardCharsets.US_ASCII))
                .orElse(StandardCharsets.UTF_8));
    }

    /** The charset a message names {@code name} (by MIME's names, as Jakarta Mail maps them), if this JVM has it. */
    static Optional<Charset> charset(String name) {
        try {
            return Optional.of(Charset.forName(MimeUtility.javaCharset(name.strip())));
        } catch (IllegalArgumentException unknown) {
            return Optional.empty();
        }
    }

    /** This part and every part within it, in order: what a TEXT search reads the headers of. */
    Stream<MimePart> withParts() {
        Stream<MimePart> within = encapsulated != null ? Stream.of(encapsulated) : parts.stream();
        return Stream.concat(Stream.of(this), within.flatMap(MimePart::withParts));
    }

    /** The bodies of the parts that are not multiparts, messages included: what a BODY search reads. */
    List<MimePart> leaves() {
        if (encapsulated != null) {
            return encapsulated.leaves();
        }
        if (!isMultipart()) {
            return List.of(this);
        }
        List<MimePart> leaves = new ArrayList<>();
        parts.forEach(part -> leaves.addAll(part.leaves()));
        return leaves;
    }

    /**
     * The part a section's part number names (RFC 3501 6.4.5), as Dovecot finds it: a number
     * counts the parts of a multipart; "1" of a part that is not one is that part itself, its body
     * for a message that is not a multipart; a number after a message/rfc822 part counts within
     * the message it holds, and after any other part that is not a multipart names nothing.
     */
    Optional<MimePart> part(List<Integer> numbers) {
        MimePart part = this;
        for (int i = 0; i < numbers.size(); i++) {
            int number = numbers.get(i);
            boolean more = i < numbers.size() - 1;
            if (part.isMultipart()) {
                if (number < 1 || number > part.parts.size()) {
                    return Optional.empty();
                }
                part = part.parts.get(number - 1);
            } else if (number != 1 || more && part.encapsulated == null) {
                return Optional.empty();
            }
            if (more && part.encapsulated != null) {
                part = part.encapsulated;
            }
        }
        return Optional.of(part);
    }

    private List<MimePart> children(String boundary, int depth, Count count) {
        List<MimePart> children = new ArrayList<>();
        String childType = subtype.equals("digest") ? "message/rfc822" : "text/plain";
        if (boundary == null || boundary.isEmpty()) {
            return children;
        }
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        LongerBoundaries longer = new LongerBoundaries(message, boundary, bodyStart);
        int partStart = -1;
        int line = bodyStart;
        while (line < end) {
            int lineEnd = lineEnd(message, line, end);
            // Past the parts counted, the last part found holds the rest, boundaries and all.
            if (count.parts < MAX_PARTS && startsWith(message, line, lineEnd, delimiter)
                    && (lineEnd - line == delimiter.length || !longer.start(line, lineEnd))) {
                boolean closing = startsWith(message, line + delimiter.length, lineEnd, new byte[] {'-', '-'});
                if (partStart >= 0) {
                    // The CRLF before a delimiter belongs to the delimiter.
                    int partEnd = Math.max(partStart, line >= 2 && message[line - 2] == '\r' ? line - 2 : line - 1);
                    children.add(new MimePart(message, partStart, partEnd, childType, depth, count));
                }
                if (closing) {
                    return children;
                }
                partStart = next(lineEnd);
                longer.partFrom(partStart);
            }
            line = next(lineEnd);
        }
        if (partStart >= 0 && partStart <= end) {
            children.add(new MimePart(message, partStart, end, childType, depth, count));
        }
        return children;
    }

    /**
     * The boundaries a part of a multipart declares that begin with the multipart's own, read once,
     * as far as a line that needs them: as Dovecot takes the longest boundary open, "--part-alt"
     * ends a part of a multipart of boundary "part-alt" nested in one of "part", not one of
     * "part"'s. Other text after a delimiter is read as Dovecot reads it, as part of the line. A
     * boundary is at most {@value #MAX_LENGTH} characters, as Dovecot has it (RFC 2046: 70), so that
     * a line is checked in as many lookups whatever a mail declares.
     */
    private static final class LongerBoundaries {
        private static final int MAX_LENGTH = 80;
        private final byte[] message;
        private final String boundary;
        private final Set<String> declared = new HashSet<>();
        private int scanned;

        LongerBoundaries(byte[] message, String boundary, int from) {
            this.message = message;
            this.boundary = boundary;
            this.scanned = from;
        }

        /** Starts again with the part from {@code from}. */
        void partFrom(int from) {
            declared.clear();
            scanned = from;
        }

        /** Whether the line from {@code line}, a delimiter with more after it, starts with a longer boundary declared before it. */
        boolean start(int line, int lineEnd) {
            Matcher found = BOUNDARY.matcher(new String(message, scanned, line - scanned, StandardCharsets.ISO_8859_1));
            while (found.find()) {
                String inner = found.group(1) != null ? found.group(1) : found.group(2);
                if (inner.length() > boundary.length() && inner.length() <= MAX_LENGTH && inner.startsWith(boundary)) {
                    declared.add(inner);
                }
            }
            scanned = line;
            String delimiterLine = new String(message, line + 2, Math.min(lineEnd - line - 2, MAX_LENGTH), StandardCharsets.ISO_8859_1);
            for (int length = boundary.length() + 1; length <= delimiterLine.length(); length++) {
                if (declared.contains(delimiterLine.substring(0, length))) {
                    return true;
                }
            }
            return false;
        }
    }

    private int next(int lineEnd) {
        return Math.min(end, lineEnd + 2);
    }

    private static boolean startsWith(byte[] bytes, int from, int limit, byte[] prefix) {
        if (limit - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Where the line starting at {@code from} ends: its CR of CRLF, or {@code limit}. */
    private static int lineEnd(byte[] bytes, int from, int limit) {
        for (int i = from; i + 1 < limit; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        return limit;
    }

    private static int bodyStart(byte[] bytes, int start, int end) {
        if (end - start >= 2 && bytes[start] == '\r' && bytes[start + 1] == '\n') {
            return start + 2;
        }
        for (int i = start; i + 3 < end; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n') {
                return i + 4;
            }
        }
        return end;
    }

    private static List<Field> fields(byte[] bytes, int start, int bodyStart) {
        List<Field> fields = new ArrayList<>();
        String header = new String(bytes, start, bodyStart - start, StandardCharsets.ISO_8859_1);
        String name = null;
        StringBuilder value = new StringBuilder();
        for (String line : LINE_END.split(header)) {
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t') && name != null) {
                value.append("\r\n").append(line);
                continue;
            }
            if (name != null) {
                fields.add(new Field(name, value.toString()));
            }
            int colon = line.indexOf(':');
            name = colon > 0 ? line.substring(0, colon).strip() : null;
            value = new StringBuilder(colon > 0 ? line.substring(colon + 1).stripLeading() : "");
        }
        if (name != null) {
            fields.add(new Field(name, value.toString()));
        }
        return fields;
    }
}
