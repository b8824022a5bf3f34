package org.mailstream.imap;

/**
 * The lexical pieces header values share (RFC 5322 3.2): quoted strings with their quoted pairs,
 * and comments, which nest. A piece cut short by the end of the value ends there.
 */
final class Lexical {

    /** A piece read from a value: what it holds, and where the text after it begins. */
    record Piece(String content, int end) {
    }

    private Lexical() {
    }

    /** The quoted string that starts at {@code at} (its '"'), unquoted. */
    static Piece quoted(String text, int at) {
        StringBuilder value = new StringBuilder();
        int i = at + 1;
        while (i < text.length() && text.charAt(i) != '"') {
            char c = text.charAt(i++);
            if (c == '\\' && i < text.length()) {
                c = text.charAt(i++);
            }
            value.append(c);
        }
        return new Piece(value.toString(), Math.min(text.length(), i + 1));
    }

    /** The comment that starts at {@code at} (its '('), without its outer parentheses. */
    static Piece comment(String text, int at) {
        int depth = 0;
        int i = at;
        do {
            char c = text.charAt(i++);
            if (c == '\\') {
                i++;
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            }
        } while (depth > 0 && i < text.length());
        int end = Math.min(text.length(), i);
        return new Piece(text.substring(at + 1, Math.max(at + 1, depth == 0 ? end - 1 : end)), end);
    }
}
