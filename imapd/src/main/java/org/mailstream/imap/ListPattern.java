package org.mailstream.imap;

/**
 * A LIST or LSUB pattern (RFC 3501 6.3.8): * matches any characters, % any but the hierarchy
 * delimiter /, every other character itself. It is matched by keeping which of the pattern's
 * prefixes match the name read so far, in time proportional to the product of the two lengths
 * whatever the pattern: a regular expression made of it backtracks, and *a*a*a*a*a*a*a*a*c
 * against a folder of sixty a's took a session a core for most of a minute (twelve *a, beyond
 * one).
 */
final class ListPattern {

    private final String pattern;

    ListPattern(String pattern) {
        this.pattern = pattern;
    }

    boolean matches(String name) {
        int length = pattern.length();
        // matched[j]: the pattern's first j characters match the part of the name read so far.
        boolean[] matched = new boolean[length + 1];
        boolean[] next = new boolean[length + 1];
        matched[0] = true;
        for (int j = 1; j <= length && isWildcard(pattern.charAt(j - 1)); j++) {
            matched[j] = true;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            next[0] = false;
            for (int j = 1; j <= length; j++) {
                char p = pattern.charAt(j - 1);
                next[j] = isWildcard(p)
                        // the wildcard takes nothing of what is left, or this character too (% never a /)
                        ? next[j - 1] || (matched[j] && (p == '*' || c != '/'))
                        : matched[j - 1] && p == c;
            }
            boolean[] read = matched;
            matched = next;
            next = read;
        }
        return matched[length];
    }

    private static boolean isWildcard(char c) {
        return c == '*' || c == '%';
    }
}
