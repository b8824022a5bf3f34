package org.mailstream.imap;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * One item a FETCH asks for (RFC 3501 6.4.5), parsed from its text: a plain one (UID, FLAGS,
 * INTERNALDATE, RFC822.SIZE) or a body section, with the part of it to send.
 */
record FetchItem(String name, String section, List<String> fields, long offset, long length, boolean peek) {

    static final long WHOLE = -1;

    /** The section of a body item: what {@code BODY[...]} names. */
    enum Part { ALL, HEADER, HEADER_FIELDS, HEADER_FIELDS_NOT, TEXT }

    private static final Set<String> PLAIN = Set.of("UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE");

    boolean isBody() {
        return section != null;
    }

    /** Whether sending this item sets \Seen: a body item that is not a PEEK, RFC822 and RFC822.TEXT. */
    boolean setsSeen() {
        return isBody() && !peek;
    }

    Part part() {
        String upper = section.toUpperCase(Locale.ROOT);
        return upper.isEmpty() ? Part.ALL : upper.equals("HEADER") ? Part.HEADER : upper.equals("TEXT") ? Part.TEXT
                : upper.startsWith("HEADER.FIELDS.NOT") ? Part.HEADER_FIELDS_NOT : Part.HEADER_FIELDS;
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
            case "ALL", "FULL" -> throw new Arguments.Bad(trimmed + " needs ENVELOPE, which this server does not serve yet");
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
        return new FetchItem(name, null, List.of(), WHOLE, WHOLE, false);
    }

    /** The octets of {@code served} (a message as served, CRLF line ends) this item sends. */
    byte[] select(byte[] served) {
        int textStart = textStart(served);
        byte[] part = switch (part()) {
            case ALL -> served;
            case HEADER -> Arrays.copyOfRange(served, 0, textStart);
            case TEXT -> Arrays.copyOfRange(served, textStart, served.length);
            case HEADER_FIELDS -> fields(served, textStart, true);
            case HEADER_FIELDS_NOT -> fields(served, textStart, false);
        };
        if (offset == WHOLE) {
            return part;
        }
        int from = (int) Math.min(offset, part.length);
        return Arrays.copyOfRange(part, from, (int) Math.min(part.length, from + length));
    }

    /** Where the body starts: after the first empty line; the end when there is none (all header). */
    private static int textStart(byte[] served) {
        if (served.length >= 2 && served[0] == '\r' && served[1] == '\n') {
            return 2;
        }
        for (int i = 0; i + 3 < served.length; i++) {
            if (served[i] == '\r' && served[i + 1] == '\n' && served[i + 2] == '\r' && served[i + 3] == '\n') {
                return i + 4;
            }
        }
        return served.length;
    }

    /** The header fields named in {@link #fields} (or all others), in their order, and the empty line that ends a header. */
    private byte[] fields(byte[] served, int textStart, boolean named) {
        Set<String> wanted = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        wanted.addAll(fields);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int start = 0;
        while (start < textStart) {
            int end = start;
            // A field runs to the CRLF not followed by a space or tab (folding).
            while (end < textStart) {
                int lineEnd = indexOfCrlf(served, end, textStart);
                end = lineEnd + 2;
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
            if (isField && wanted.contains(fieldName) == named) {
                out.write(served, start, end - start);
            }
            start = end;
        }
        out.write('\r');
        out.write('\n');
        return out.toByteArray();
    }

    private static int indexOfCrlf(byte[] bytes, int from, int limit) {
        for (int i = from; i + 1 < limit; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        return limit - 2;
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
            if (PLAIN.contains(name)) {
                return plain(name);
            }
            switch (name) {
                case "RFC822" -> {
                    return new FetchItem("RFC822", "", List.of(), WHOLE, WHOLE, false);
                }
                case "RFC822.HEADER" -> {
                    return new FetchItem("RFC822.HEADER", "HEADER", List.of(), WHOLE, WHOLE, true);
                }
                case "RFC822.TEXT" -> {
                    return new FetchItem("RFC822.TEXT", "TEXT", List.of(), WHOLE, WHOLE, false);
                }
                case "BODY", "BODY.PEEK" -> {
                    return body(name.equals("BODY.PEEK"));
                }
                case "ENVELOPE", "BODYSTRUCTURE" -> throw new Arguments.Bad(name + " is not served yet");
                default -> throw new Arguments.Bad("no such FETCH item: " + (name.isEmpty() ? text.substring(start) : name));
            }
        }

        private FetchItem body(boolean peek) throws Arguments.Bad {
            if (at >= text.length() || text.charAt(at) != '[') {
                throw new Arguments.Bad("BODY without a section needs BODYSTRUCTURE, which is not served yet");
            }
            at++;
            int close = text.indexOf(']', at);
            if (close < 0) {
                throw new Arguments.Bad("a body section without its ']'");
            }
            String section = text.substring(at, close);
            at = close + 1;
            List<String> fields = List.of();
            String upper = section.toUpperCase(Locale.ROOT);
            if (upper.startsWith("HEADER.FIELDS")) {
                int open = section.indexOf('(');
                if (open < 0 || !section.endsWith(")") || !upper.matches("HEADER\\.FIELDS(\\.NOT)? \\(.*")) {
                    throw new Arguments.Bad("HEADER.FIELDS needs a list of field names: " + section);
                }
                fields = List.of(section.substring(open + 1, section.length() - 1).strip().split(" +"));
                section = upper.substring(0, open) + "(" + String.join(" ", fields).toUpperCase(Locale.ROOT) + ")";
            } else if (!upper.isEmpty() && !upper.equals("HEADER") && !upper.equals("TEXT")) {
                throw new Arguments.Bad("body section " + section + " is not served yet (parts need MIME structure)");
            } else {
                section = upper;
            }
            long offset = WHOLE;
            long length = WHOLE;
            if (take('<')) {
                int dot = text.indexOf('.', at);
                int end = text.indexOf('>', at);
                if (dot < 0 || end < dot || !text.substring(at, dot).matches("\\d{1,10}") || !text.substring(dot + 1, end).matches("\\d{1,10}")
                        || Long.parseLong(text.substring(dot + 1, end)) == 0) {
                    throw new Arguments.Bad("a partial is <offset.length>, the length above zero");
                }
                offset = Long.parseLong(text.substring(at, dot));
                length = Long.parseLong(text.substring(dot + 1, end));
                at = end + 1;
            }
            return new FetchItem("BODY", section, fields, offset, length, peek);
        }
    }
}
