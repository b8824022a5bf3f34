package org.mailstream.imap;

import java.util.ArrayList;
import java.util.List;

/**
 * A structured header value of the kind Content-Type and Content-Disposition have (RFC 2045 5.1,
 * RFC 2183): a token, then parameters, each {@code ;name=value} with the value a token or a
 * quoted string; comments in parentheses are skipped. Parameters keep their names and values as
 * written (RFC 2231's {@code name*} forms included): IMAP passes them on.
 */
record HeaderValue(String token, List<MimePart.Parameter> parameters) {

    static HeaderValue parse(String text) {
        Cursor cursor = new Cursor(text);
        String token = cursor.token("/");
        List<MimePart.Parameter> parameters = new ArrayList<>();
        while (cursor.skipTo(';')) {
            String name = cursor.token("");
            if (name.isEmpty() || !cursor.take('=')) {
                continue;
            }
            String value = cursor.peek() == '"' ? cursor.quoted() : cursor.token("");
            parameters.add(new MimePart.Parameter(name, value));
        }
        return new HeaderValue(token, parameters);
    }

    private static final class Cursor {
        private final String text;
        private int at;

        Cursor(String text) {
            this.text = text;
        }

        char peek() {
            skipSpaceAndComments();
            return at < text.length() ? text.charAt(at) : 0;
        }

        boolean take(char c) {
            if (peek() == c) {
                at++;
                return true;
            }
            return false;
        }

        /** Moves past the next {@code c} outside quotes and comments; false at the end. */
        boolean skipTo(char c) {
            while (at < text.length()) {
                char here = peek();
                if (here == 0) {
                    return false;
                }
                if (here == '"') {
                    quoted();
                } else {
                    at++;
                    if (here == c) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** Characters that are not specials (RFC 2045 tspecials), besides any in {@code alsoAllowed}. */
        String token(String alsoAllowed) {
            skipSpaceAndComments();
            int start = at;
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c <= ' ' || (("()<>@,;:\\\"/[]?=".indexOf(c) >= 0) && alsoAllowed.indexOf(c) < 0)) {
                    break;
                }
                at++;
            }
            return text.substring(start, at);
        }

        String quoted() {
            Lexical.Piece quoted = Lexical.quoted(text, at);
            at = quoted.end();
            return quoted.content();
        }

        private void skipSpaceAndComments() {
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                    at++;
                } else if (c == '(') {
                    at = Lexical.comment(text, at).end();
                } else {
                    return;
                }
            }
        }
    }
}
