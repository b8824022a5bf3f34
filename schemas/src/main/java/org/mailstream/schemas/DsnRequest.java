package org.mailstream.schemas;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a sender asked of delivery status notifications (RFC 3461), as the MTA passed it on.
 *
 * @param notifyOn NEVER, or some of SUCCESS, FAILURE and DELAY, upper-cased; empty when not asked,
 *               which means FAILURE (and DELAY, which a store never reports)
 * @param ret    FULL or HDRS: the whole message or its header section in a notice; null when not asked
 * @param envid  the envelope id to quote in a notice, xtext-decoded; null when none
 */
public record DsnRequest(List<String> notifyOn, String ret, String envid) {

    /** The request of a sender who asked nothing. */
    public static final DsnRequest NONE = new DsnRequest(List.of(), null, null);

    private static final Set<String> NOTIFY_KEYWORDS = Set.of("NEVER", "SUCCESS", "FAILURE", "DELAY");

    public DsnRequest {
        notifyOn = List.copyOf(notifyOn);
    }

    /**
     * NOTIFY's value as RCPT carries it (comma-separated, any case); throws
     * {@link IllegalArgumentException} for anything RFC 3461 does not allow.
     */
    public static List<String> parseNotify(String value) {
        List<String> keywords = List.of(value.toUpperCase(Locale.ROOT).split(",", -1));
        if (!NOTIFY_KEYWORDS.containsAll(keywords) || keywords.stream().distinct().count() != keywords.size()
                || (keywords.contains("NEVER") && keywords.size() > 1)) {
            throw new IllegalArgumentException("NOTIFY is NEVER or a list of SUCCESS, FAILURE and DELAY");
        }
        return keywords;
    }

    /** Whether the sender wants to hear that delivery failed. */
    public boolean wantsFailureNotice() {
        return notifyOn.isEmpty() || notifyOn.contains("FAILURE");
    }

    /** Whether a notice should carry only the header section of the message. */
    public boolean headersOnly() {
        return "HDRS".equals(ret);
    }

    boolean isNone() {
        return notifyOn.isEmpty() && ret == null && envid == null;
    }
}
