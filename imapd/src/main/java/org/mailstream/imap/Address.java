package org.mailstream.imap;

import java.util.ArrayList;
import java.util.List;

/**
 * An address of an ENVELOPE (RFC 3501 7.4.2): display name, source route, mailbox and host, each
 * null for NIL; a group is a start (mailbox the group's name, host null) and an end (all null),
 * and a mailbox without a mailbox name or host says MISSING_MAILBOX or MISSING_DOMAIN there.
 * Parsed from an address-list header value (RFC 5322 3.4, obsolete forms tolerated): display
 * names lose their quotes and keep their encoded words; a bare address takes its comment, if any,
 * as its name.
 */
record Address(String name, String route, String mailbox, String host) {

    static List<Address> parseList(String value) {
        return new Parser(value).list();
    }

    private static final class Parser {
        private final String text;
        private int at;

        Parser(String text) {
            this.text = text;
        }

        List<Address> list() {
            List<Address> addresses = new ArrayList<>();
            while (skipSpace() < text.length()) {
                if (take(',')) {
                    continue;
                }
                int before = at;
                address(addresses, false);
                if (at == before) {
                    at++;
                }
            }
            return addresses;
        }

        /** One address or group, appended to {@code addresses}; inside a group, stops at ';'. */
        private void address(List<Address> addresses, boolean inGroup) {
            StringBuilder phrase = new StringBuilder();
            // The same words without the spaces between them nor quotes: an addr-spec, if no '<' follows.
            StringBuilder spec = new StringBuilder();
            String comment = null;
            while (skipSpace() < text.length()) {
                char c = text.charAt(at);
                if (c == '(') {
                    comment = comment();
                } else if (c == '"') {
                    String word = quoted();
                    append(phrase, word);
                    spec.append(word);
                } else if (c == '<') {
                    at++;
                    angle(addresses, phrase.length() == 0 ? null : phrase.toString());
                    return;
                } else if (c == ':' && !inGroup) {
                    at++;
                    addresses.add(new Address(null, null, phrase.toString(), null));
                    while (skipSpace() < text.length() && !take(';')) {
                        if (take(',')) {
                            continue;
                        }
                        int before = at;
                        address(addresses, true);
                        if (at == before) {
                            at++;
                        }
                    }
                    addresses.add(new Address(null, null, null, null));
                    return;
                } else if (c == ',' || (c == ';' && inGroup)) {
                    break;
                } else {
                    String word = atom();
                    if (word.isEmpty()) {
                        // A character nothing here begins (a stray ';', '>' or ')'): passed over, or this loop would never end.
                        at++;
                        continue;
                    }
                    append(phrase, word);
                    spec.append(word);
                }
            }
            if (spec.length() > 0) {
                addresses.add(bare(spec.toString(), comment));
            }
        }

        /** An addr-spec outside angle brackets: its words are the local part and domain. */
        private static Address bare(String spec, String comment) {
            int atSign = spec.lastIndexOf('@');
            return atSign < 0 ? mailbox(comment, null, spec, null)
                    : mailbox(comment, null, spec.substring(0, atSign), spec.substring(atSign + 1));
        }

        /**
         * A mailbox's address, its missing or empty mailbox and host named as Dovecot names them:
         * RFC 3501 reads a NIL host as a group's start (and NIL mailbox with it as its end), so
         * From: root, or From: <>, would otherwise tell a client of a group.
         */
        private static Address mailbox(String name, String route, String mailbox, String host) {
            return new Address(name, route, mailbox == null || mailbox.isEmpty() ? "MISSING_MAILBOX" : mailbox,
                    host == null || host.isEmpty() ? "MISSING_DOMAIN" : host);
        }

        private void angle(List<Address> addresses, String name) {
            int close = text.indexOf('>', at);
            String inside = text.substring(at, close < 0 ? text.length() : close);
            at = close < 0 ? text.length() : close + 1;
            String route = null;
            int colon = inside.indexOf(':');
            if (inside.startsWith("@") && colon > 0) {
                route = inside.substring(0, colon).strip();
                inside = inside.substring(colon + 1);
            }
            String spec = inside.strip();
            if (spec.startsWith("\"")) {
                // A quoted local part is the mailbox without its quotes, as Dovecot reads it.
                Lexical.Piece local = Lexical.quoted(spec, 0);
                String rest = spec.substring(local.end()).strip();
                if (rest.startsWith("@")) {
                    addresses.add(mailbox(name, route, local.content(), rest.substring(1).strip()));
                    return;
                }
            }
            int atSign = spec.lastIndexOf('@');
            addresses.add(atSign < 0 ? mailbox(name, route, spec, null)
                    : mailbox(name, route, spec.substring(0, atSign), spec.substring(atSign + 1)));
        }

        private static void append(StringBuilder phrase, String word) {
            if (phrase.length() > 0) {
                phrase.append(' ');
            }
            phrase.append(word);
        }

        private String atom() {
            int start = at;
            while (at < text.length() && "()<>,;:\" \t\r\n".indexOf(text.charAt(at)) < 0) {
                at++;
            }
            return text.substring(start, at);
        }

        private String quoted() {
            Lexical.Piece quoted = Lexical.quoted(text, at);
            at = quoted.end();
            return quoted.content();
        }

        private String comment() {
            Lexical.Piece comment = Lexical.comment(text, at);
            at = comment.end();
            return comment.content();
        }

        private boolean take(char c) {
            if (at < text.length() && text.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        private int skipSpace() {
            while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            return at;
        }
    }
}
