package org.mailstream.imap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A cursor over one command as {@link CommandReader} read it, text and literals in order, taking
 * the grammar's pieces (RFC 3501 section 9) one after another. Each method throws {@link Bad} with
 * what was expected where the command does not follow the grammar.
 */
final class Arguments {

    /** The command does not follow the grammar: answered with BAD. */
    static final class Bad extends Exception {
        Bad(String message) {
            super(message);
        }
    }

    private final List<Object> parts;
    private int part;
    private int at;

    Arguments(List<Object> parts) {
        this.parts = parts;
    }

    private String text() {
        return part < parts.size() && parts.get(part) instanceof String text ? text : "";
    }

    private boolean literalNext() {
        return at >= text().length() && part + 1 < parts.size() && parts.get(part + 1) instanceof byte[];
    }

    /** The next character of the text, or 0 at the end of the text or before a literal. */
    char peek() {
        String text = text();
        return at < text.length() ? text.charAt(at) : 0;
    }

    boolean atEnd() {
        return peek() == 0 && !literalNext();
    }

    void space() throws Bad {
        expect(' ');
    }

    void expect(char c) throws Bad {
        if (peek() != c) {
            throw new Bad("expected '" + c + "' at " + where());
        }
        at++;
    }

    /** Whether the next character is {@code c}, taking it if so. */
    boolean take(char c) {
        if (peek() == c) {
            at++;
            return true;
        }
        return false;
    }

    void end() throws Bad {
        if (!atEnd()) {
            throw new Bad("unexpected text at " + where());
        }
    }

    /** Characters up to a space, a parenthesis or the end: a tag, a command name, an atom, a sequence set. */
    String word() throws Bad {
        String text = text();
        int start = at;
        while (at < text.length() && " ()".indexOf(text.charAt(at)) < 0 && text.charAt(at) >= 0x20 && text.charAt(at) < 0x7f) {
            at++;
        }
        if (at == start) {
            throw new Bad("expected a word at " + where());
        }
        return text.substring(start, at);
    }

    /** A literal's octets, as they are: APPEND's message. */
    byte[] literal() throws Bad {
        if (!literalNext()) {
            throw new Bad("expected a literal at " + where());
        }
        part++;
        byte[] literal = (byte[]) parts.get(part);
        part++;
        at = 0;
        return literal;
    }

    /** An atom, a quoted string or a literal, decoded as UTF-8. */
    String astring() throws Bad {
        if (literalNext()) {
            part++;
            byte[] literal = (byte[]) parts.get(part);
            part++;
            at = 0;
            return new String(literal, StandardCharsets.UTF_8);
        }
        if (peek() == '"') {
            return quoted();
        }
        return word();
    }

    private String quoted() throws Bad {
        expect('"');
        StringBuilder value = new StringBuilder();
        String text = text();
        while (at < text.length() && text.charAt(at) != '"') {
            char c = text.charAt(at++);
            if (c == '\\' && at < text.length()) {
                c = text.charAt(at++);
            }
            value.append(c);
        }
        expect('"');
        // The text was read as ISO-8859-1, octet for octet; a quoted string may hold UTF-8.
        return new String(value.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /** A parenthesized list of words, such as flags: {@code (\Seen $Label1)}; a single word without parentheses too. */
    List<String> wordList() throws Bad {
        List<String> words = new ArrayList<>();
        if (!take('(')) {
            words.add(word());
            return words;
        }
        while (!take(')')) {
            if (!words.isEmpty()) {
                space();
            }
            words.add(word());
        }
        return words;
    }

    /** What is left of the current text, for a sub-grammar with parsing of its own (FETCH items). */
    String rest() {
        String rest = text().substring(Math.min(at, text().length()));
        at = text().length();
        return rest;
    }

    private String where() {
        String text = text();
        return at >= text.length() ? "the end" : "\"" + text.substring(at, Math.min(text.length(), at + 20)) + "\"";
    }
}
