package org.mailstream.imap;

import com.unboundid.util.StaticUtils;
import java.text.ParseException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * An LDAP GeneralizedTime value as an instant, to the millisecond. The form store-worker, imapd
 * and slapd write (yyyyMMddHHmmss, an optional fraction, Z) is read digit by digit: every message
 * entry a look reads carries one, and the SDK's reader builds a date formatter and a calendar a
 * value. Any other form the syntax allows (minutes or seconds left out, an offset) goes through
 * the SDK.
 */
final class GeneralizedTime {

    private static final int SECONDS_END = 14;
    private static final int MAX_FRACTION_DIGITS = 9;
    private static final int MILLI_DIGITS = 3;

    private GeneralizedTime() {
    }

    static Instant parse(String value) throws ParseException {
        Instant written = asWritten(value);
        return written != null ? written : StaticUtils.decodeGeneralizedTime(value).toInstant();
    }

    /** {@code value} in the form written here, or null when it has another. */
    private static Instant asWritten(String value) {
        int zone = value.length() - 1;
        boolean fraction = zone > SECONDS_END + 1 && zone - SECONDS_END - 1 <= MAX_FRACTION_DIGITS && value.charAt(SECONDS_END) == '.';
        if (zone < SECONDS_END || value.charAt(zone) != 'Z' || !(zone == SECONDS_END || fraction)
                || !digits(value, 0, SECONDS_END) || fraction && !digits(value, SECONDS_END + 1, zone)) {
            return null;
        }
        // To the millisecond, as the SDK reads a fraction (into a Date).
        int millis = 0;
        for (int digit = 0; digit < MILLI_DIGITS; digit++) {
            int at = SECONDS_END + 1 + digit;
            millis = millis * 10 + (fraction && at < zone ? value.charAt(at) - '0' : 0);
        }
        try {
            return LocalDateTime.of(number(value, 0, 4), number(value, 4, 6), number(value, 6, 8), number(value, 8, 10),
                    number(value, 10, 12), number(value, 12, SECONDS_END), millis * 1_000_000).toInstant(ZoneOffset.UTC);
        } catch (DateTimeException notADate) {
            return null;
        }
    }

    private static boolean digits(String value, int from, int to) {
        for (int i = from; i < to; i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static int number(String value, int from, int to) {
        return Integer.parseInt(value, from, to, 10);
    }
}
