package org.mailstream.schemas;

import java.util.Locale;
import java.util.Set;

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
 *
 * <p>Extension rule, Postfix's (recipient_delimiter, split_addr): with a set of delimiter
 * characters, the local part splits at the first of them into the mailbox's own address and an
 * extension, {@code alice+news@} into {@code alice@} and {@code news}. Not split: a local part
 * that starts with a delimiter (nothing would remain), postmaster, mailer-daemon and
 * double-bounce, and, at a {@code -}, {@code owner-*} and {@code *-request} (mailing-list
 * addresses, Postfix's owner_request_special).
 */
public record Recipient(String localPart, String domain) {

    private static final int MAX_LOCAL_PART = 64;
    private static final int MAX_DOMAIN = 255;
    private static final int MAX_ADDRESS = 254;
    private static final Set<String> UNSPLIT = Set.of("postmaster", "mailer-daemon", "double-bounce");

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

    /** This address without its extension, or this address when it has none. */
    public Recipient withoutExtension(String delimiters) {
        int split = extensionStart(delimiters);
        return split < 0 ? this : new Recipient(localPart.substring(0, split), domain);
    }

    /** The extension ({@code news} of {@code alice+news@}), possibly empty; null when there is none. */
    public String extension(String delimiters) {
        int split = extensionStart(delimiters);
        return split < 0 ? null : localPart.substring(split + 1);
    }

    private int extensionStart(String delimiters) {
        String lower = localPart.toLowerCase(Locale.ROOT);
        if (delimiters.isEmpty() || UNSPLIT.contains(lower)) {
            return -1;
        }
        for (int i = 1; i < localPart.length(); i++) {
            char c = localPart.charAt(i);
            if (delimiters.indexOf(c) >= 0 && !(c == '-' && (lower.startsWith("owner-") || lower.endsWith("-request")))) {
                return i;
            }
        }
        return -1;
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
