package org.mailstream.schemas;

import java.util.Locale;

/**
 * An envelope recipient as Postfix passes it (internal form: the local part unquoted), and the
 * record key derived from it.
 *
 * <p>Key rule: the domain is lower-cased, the local part is kept exactly as given, since only
 * the destination may decide whether its local parts are case-sensitive (pipe(8)'s {@code u}
 * flag lower-cases it before we see it).
 *
 * <p>Syntax rule, deliberately lenient because a rejection bounces mail: the address splits at
 * its last {@code @} into a non-empty local part and a domain that is either dot-separated labels
 * of letters, digits, hyphens or non-ASCII characters (RFC 6531), or an address literal in square
 * brackets. No control character (NUL, CR, LF, ...) may appear anywhere, and the RFC 5321 length
 * limits apply (local part 64 octets, domain 255, path 256).
 */
public record Recipient(String localPart, String domain) {

    private static final int MAX_LOCAL_PART = 64;
    private static final int MAX_DOMAIN = 255;
    private static final int MAX_ADDRESS = 254;

    /** Validates {@code address}; the message says what is wrong, for the DSN line. */
    public static Recipient parse(String address) {
        if (address == null || address.isEmpty()) {
            throw new IllegalArgumentException("empty address");
        }
        if (utf8Length(address) > MAX_ADDRESS) {
            throw new IllegalArgumentException("address longer than " + MAX_ADDRESS + " octets");
        }
        for (int i = 0; i < address.length(); i++) {
            char c = address.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException(String.format("control character 0x%02x", (int) c));
            }
        }
        int at = address.lastIndexOf('@');
        if (at < 0) {
            throw new IllegalArgumentException("no @domain");
        }
        String localPart = address.substring(0, at);
        String domain = address.substring(at + 1);
        if (localPart.isEmpty()) {
            throw new IllegalArgumentException("empty local part");
        }
        if (utf8Length(localPart) > MAX_LOCAL_PART) {
            throw new IllegalArgumentException("local part longer than " + MAX_LOCAL_PART + " octets");
        }
        if (utf8Length(domain) > MAX_DOMAIN || !isDomain(domain)) {
            throw new IllegalArgumentException("invalid domain '" + domain + "'");
        }
        return new Recipient(localPart, domain);
    }

    /** The Kafka record key: {@code localPart@domain} with the domain lower-cased. */
    public String key() {
        return localPart + "@" + domain.toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return localPart + "@" + domain;
    }

    private static boolean isDomain(String domain) {
        if (domain.startsWith("[") && domain.endsWith("]")) {
            String literal = domain.substring(1, domain.length() - 1);
            return !literal.isEmpty() && literal.chars().noneMatch(c -> c == '[' || c == ']' || c == ' ' || c == '\\');
        }
        if (domain.isEmpty()) {
            return false;
        }
        for (String label : domain.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ascii = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
                if (!ascii && c < 0x80) {
                    return false;
                }
            }
        }
        return true;
    }

    private static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
