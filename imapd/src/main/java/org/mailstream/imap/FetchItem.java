package org.mailstream.imap;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * One item a FETCH asks for (RFC 3501 6.4.5), parsed from its text: a plain one (UID, FLAGS,
 * INTERNALDATE, RFC822.SIZE) or a body section, with the part of it to send.
 */
record FetchItem(String name, String section, List<Integer> partNumbers, Part part, List<String> fields, long offset, long length,
        boolean peek) {

    static final long WHOLE = -1;

    /** What of a part a body section names: all of it, its header (or some fields of it), its text, its MIME header. */
    enum Part { ALL, HEADER, HEADER_FIELDS, HEADER_FIELDS_NOT, TEXT, MIME }

    private static final Set<String> PLAIN = Set.of("UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "BODY");
    private static final Pattern PART_NUMBER = Pattern.compile("[1-9]\\d{0,5}");
    /** HEADER.FIELDS or HEADER.FIELDS.NOT and a list of at least one name (RFC 3501's header-list). */
    private static final Pattern HEADER_FIELDS = Pattern.compile("HEADER\\.FIELDS(\\.NOT)? \\( *[^ )].*");
    private static final Pattern SPACES = Pattern.compile(" +");
    private static final Pattern PARTIAL_NUMBER = Pattern.compile("\\d{1,10}");

    boolean isBody() {
        return section != null;
    }

    /** Whether sending this item sets \Seen: a body item that is not a PEEK, RFC822 and RFC822.TEXT. */
    boolean setsSeen() {
        return isBody() && !peek;
    }

    /** Whether sending this item needs the message's MIME structure. */
    boolean needsStructure() {
        return name.equals("ENVELOPE") || name.equals("BODYSTRUCTURE") || (name.equals("BODY") && !isBody());
    }

    /**
     * Whether what this item sends is all in the message's header section: ENVELOPE, and the
     * message's own header or fields of it (a part's header lies in the body), so that a client
     * listing a folder does not make the server read each message whole.
     */
    boolean readsHeaderOnly() {
        return name.equals("ENVELOPE")
                || isBody() && partNumbers.isEmpty() && (part == Part.HEADER || part == Part.HEADER_FIELDS || part == Part.HEADER_FIELDS_NOT);
    }

    /** The name the response gives the item: {@code BODY[HEADER.FIELDS (SUBJECT)]<0>}, {@code RFC822.HEADER}. */
    String responseName() {
        if (!name.startsWith("BODY")) {
            return name;
        }
        return "BODY[" + section + "]" + (offset == WHOLE ? "" : "<" + offset + ">");
    }

    /** The items of a FETCH's text (what follows the sequence set), macros expanded. */
    static List<FetchItem> parseAll(String text) throws Arguments.Bad {
        String trimmed = text.strip();
        switch (trimmed.toUpperCase(Locale.ROOT)) {
            case "ALL" -> {
                return List.of(plain("FLAGS"), plain("INTERNALDATE"), plain("RFC822.SIZE"), plain("ENVELOPE"));
            }
            case "FULL" -> {
                return List.of(plain("FLAGS"), plain("INTERNALDATE"), plain("RFC822.SIZE"), plain("ENVELOPE"), plain("BODY"));
            }
            case "FAST" -> {
                return List.of(plain("FLAGS"), plain("INTERNALDATE"), plain("RFC822.SIZE"));
            }
            default -> {
            }
        }
        Cursor cursor = new Cursor(trimmed);
        List<FetchItem> items = new ArrayList<>();
        if (cursor.take('(')) {
            do {
                items.add(cursor.item());
            } while (cursor.take(' '));
            cursor.expect(')');
        } else {
            items.add(cursor.item());
        }
        cursor.end();
        return items;
    }

    private static FetchItem plain(String name) {
        return new FetchItem(name, null, List.of(), null, List.of(), WHOLE, WHOLE, false);
    }

    /** UID, which every UID FETCH response carries. */
    static FetchItem uid() {
        return plain("UID");
    }

    /** A body item of the whole message's {@code part}, for what reads a message as RFC822 items do. */
    static FetchItem whole(String name, Part part, boolean peek) {
        return new FetchItem(name, part == Part.ALL ? "" : part.name(), List.of(), part, List.of(), WHOLE, WHOLE, peek);
    }

    /** The header fields named {@code fields} of the whole message. */
    static FetchItem headerFields(List<String> fields) {
        return new FetchItem("BODY", "HEADER.FIELDS", List.of(), Part.HEADER_FIELDS, fields, WHOLE, WHOLE, true);
    }

    /** The octets of {@code message} this item sends; empty when the section names a part the message does not have. */
    byte[] select(MimePart message) {
        MimePart part = message.part(partNumbers).orElse(null);
        if (part == null) {
            return new byte[0];
        }
        // Below a part number, HEADER, TEXT and the fields are those of the message a message/rfc822 part holds;
        // a part that holds none has none (Dovecot sends them empty).
        MimePart within = partNumbers.isEmpty() || this.part == Part.MIME || this.part == Part.ALL ? part : part.encapsulated;
        if (within == null) {
            return new byte[0];
        }
        byte[] octets = switch (this.part) {
            case ALL -> partNumbers.isEmpty() ? message.message : part.body();
            case MIME -> part.header();
            case HEADER -> within.header();
            case TEXT -> within.body();
            case HEADER_FIELDS -> fields(within, true);
            case HEADER_FIELDS_NOT -> fields(within, false);
        };
        return partial(octets);
    }

    /** Whether this item sends the whole message as served, or a partial of it: what mbsync asks of every message, with no parsing. */
    boolean isWholeMessage() {
        return isBody() && partNumbers.isEmpty() && part == Part.ALL;
    }

    /** {@code octets} cut to this item's partial, or all of them when it names none. */
    byte[] partial(byte[] octets) {
        if (offset == WHOLE) {
            return octets;
        }
        int from = (int) Math.min(offset, octets.length);
        return Arrays.copyOfRange(octets, from, (int) Math.min(octets.length, from + length));
    }

    /**
     * The header fields named in {@link #fields} (or all others), in their order, each ending
     * with CRLF, then the empty line, as Dovecot sends them: when the header has one, or when a
     * message that is all header ends with a line end after a field that was sent.
     */
    private byte[] fields(MimePart message, boolean named) {
        byte[] served = message.header();
        int textStart = served.length;
        Set<String> wanted = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        wanted.addAll(fields);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int start = 0;
        boolean lastSent = false;
        while (start < textStart) {
            int end = start;
            // A field runs to the CRLF not followed by a space or tab (folding).
            while (end < textStart) {
                int lineEnd = indexOfCrlf(served, end, textStart);
                // A header cut off one octet into its last line (a lone CR at its end) has less than a line end left.
                end = Math.min(textStart, lineEnd + 2);
                if (end >= textStart || (served[end] != ' ' && served[end] != '\t')) {
                    break;
                }
            }
            int colon = start;
            while (colon < end && served[colon] != ':') {
                colon++;
            }
            String fieldName = new String(served, start, colon - start, StandardCharsets.ISO_8859_1).strip();
            boolean isField = colon < end && !fieldName.isEmpty();
            lastSent = isField && wanted.contains(fieldName) == named;
            if (lastSent) {
                out.write(served, start, end - start);
                if (end - start < 2 || served[end - 2] != '\r' || served[end - 1] != '\n') {
                    out.write('\r');
                    out.write('\n');
                }
            }
            start = end;
        }
        boolean endsWithLineEnd = textStart >= 2 && served[textStart - 2] == '\r' && served[textStart - 1] == '\n';
        // The empty line cut off after its CR, at the very end: the header ended, to Dovecot as here, which sends the
        // fields named and then an empty line, or the fields not named and then that CR as it is.
        boolean emptyLineCut = textStart >= 3 && served[textStart - 3] == '\r' && served[textStart - 2] == '\n' && served[textStart - 1] == '\r';
        if (emptyLineCut && !named) {
            out.write('\r');
        } else if (message.headerEnded() || emptyLineCut || (lastSent && endsWithLineEnd)) {
            out.write('\r');
            out.write('\n');
        }
        return out.toByteArray();
    }

    private static int indexOfCrlf(byte[] bytes, int from, int limit) {
        for (int i = from; i + 1 < limit; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        return Math.max(from, limit - 2);
    }

    /** Reads fetch-att items from their text. */
    private static final class Cursor {
        private final String text;
        private int at;

        Cursor(String text) {
            this.text = text;
        }

        boolean take(char c) {
            if (at < text.length() && text.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        void expect(char c) throws Arguments.Bad {
            if (!take(c)) {
                throw new Arguments.Bad("expected '" + c + "' in the FETCH items at " + at);
            }
        }

        void end() throws Arguments.Bad {
            if (at != text.length()) {
                throw new Arguments.Bad("unexpected text after the FETCH items: " + text.substring(at));
            }
        }

        FetchItem item() throws Arguments.Bad {
            int start = at;
            while (at < text.length() && (Character.isLetterOrDigit(text.charAt(at)) || text.charAt(at) == '.')) {
                at++;
            }
            String name = text.substring(start, at).toUpperCase(Locale.ROOT);
            if (name.equals("BODY") && at < text.length() && text.charAt(at) == '[') {
                return body(false);
            }
            if (PLAIN.contains(name)) {
                return plain(name);
            }
            switch (name) {
                case "RFC822" -> {
                    return whole("RFC822", Part.ALL, false);
                }
                case "RFC822.HEADER" -> {
                    return whole("RFC822.HEADER", Part.HEADER, true);
                }
                case "RFC822.TEXT" -> {
                    return whole("RFC822.TEXT", Part.TEXT, false);
                }
                case "BODY.PEEK" -> {
                    return body(true);
                }
                default -> throw new Arguments.Bad("no such FETCH item: " + (name.isEmpty() ? text.substring(start) : name));
            }
        }

        private FetchItem body(boolean peek) throws Arguments.Bad {
            if (at >= text.length() || text.charAt(at) != '[') {
                throw new Arguments.Bad("BODY.PEEK needs a section in brackets");
            }
            at++;
            int close = text.indexOf(']', at);
            if (close < 0) {
                throw new Arguments.Bad("a body section without its ']'");
            }
            String section = text.substring(at, close);
            at = close + 1;
            List<Integer> numbers = new ArrayList<>();
            String rest = section;
            while (!rest.isEmpty() && Character.isDigit(rest.charAt(0))) {
                int dot = rest.indexOf('.');
                String number = dot < 0 ? rest : rest.substring(0, dot);
                if (!PART_NUMBER.matcher(number).matches()) {
                    throw new Arguments.Bad("not a part number: " + number);
                }
                numbers.add(Integer.parseInt(number));
                rest = dot < 0 ? "" : rest.substring(dot + 1);
            }
            String upper = rest.toUpperCase(Locale.ROOT);
            List<String> fields = List.of();
            Part part;
            if (upper.startsWith("HEADER.FIELDS")) {
                int open = rest.indexOf('(');
                if (open < 0 || !rest.endsWith(")") || !HEADER_FIELDS.matcher(upper).matches()) {
                    throw new Arguments.Bad("HEADER.FIELDS needs a list of field names: " + section);
                }
                fields = List.of(SPACES.split(rest.substring(open + 1, rest.length() - 1).strip()));
                part = upper.startsWith("HEADER.FIELDS.NOT") ? Part.HEADER_FIELDS_NOT : Part.HEADER_FIELDS;
                upper = upper.substring(0, open) + "(" + String.join(" ", fields).toUpperCase(Locale.ROOT) + ")";
            } else {
                part = switch (upper) {
                    case "" -> Part.ALL;
                    case "HEADER" -> Part.HEADER;
                    case "TEXT" -> Part.TEXT;
                    case "MIME" -> Part.MIME;
                    default -> throw new Arguments.Bad("no such body section: " + section);
                };
                if (part == Part.MIME && numbers.isEmpty()) {
                    throw new Arguments.Bad("MIME needs a part number");
                }
            }
            String named = upper;
            String echoed = numbers.stream().map(String::valueOf).reduce((a, b) -> a + "." + b)
                    .map(n -> named.isEmpty() ? n : n + "." + named).orElse(named);
            long offset = WHOLE;
            long length = WHOLE;
            if (take('<')) {
                int dot = text.indexOf('.', at);
                int end = text.indexOf('>', at);
                if (dot < 0 || end < dot || !PARTIAL_NUMBER.matcher(text.substring(at, dot)).matches()
                        || !PARTIAL_NUMBER.matcher(text.substring(dot + 1, end)).matches()
                        || Long.parseLong(text.substring(dot + 1, end)) == 0) {
                    throw new Arguments.Bad("a partial is <offset.length>, the length above zero");
                }
                offset = Long.parseLong(text.substring(at, dot));
                length = Long.parseLong(text.substring(dot + 1, end));
                at = end + 1;
            }
            return new FetchItem("BODY", echoed, List.copyOf(numbers), part, fields, offset, length, peek);
        }
    }
}
