package org.mailstream.imap;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The day a message's Date: field says it was sent, as written: SENTBEFORE, SENTON and SENTSINCE
 * disregard its time and zone (RFC 3501 6.4.4). Read as Dovecot reads it: an optional weekday, the
 * day, the month's name, a year of four digits or two (from 1970), then the time, the zone
 * optional, comments skipped. A message whose field is missing or unreadable counts as sent on 1
 * January 1970, as in Dovecot, so that a SENTBEFORE finds it rather than no SENT key ever does.
 */
final class SentDate {

    private static final Pattern DATE_TIME = Pattern.compile(
            "(?:[A-Za-z]{3} ?, ?)?(\\d{1,2}) ([A-Za-z]{3})[A-Za-z]* (\\d{4}|\\d{2}) \\d{1,2} ?: ?\\d{2}(?: ?: ?\\d{2})?(?: .*)?");
    private static final Pattern COMMENT = Pattern.compile("\\([^()]*\\)");
    private static final Pattern SPACE = Pattern.compile("\\s+");
    private static final List<String> MONTHS = List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
            "dec");

    private SentDate() {
    }

    static LocalDate of(MimePart message) {
        // Once a message: a SEARCH reads each message of the folder.
        String value = SPACE.matcher(COMMENT.matcher(message.field("Date").orElse("")).replaceAll(" ")).replaceAll(" ").strip();
        Matcher date = DATE_TIME.matcher(value);
        if (date.matches()) {
            int year = Integer.parseInt(date.group(3));
            if (date.group(3).length() == 2) {
                year += year < 70 ? 2000 : 1900;
            }
            int month = MONTHS.indexOf(date.group(2).toLowerCase(Locale.ROOT)) + 1;
            if (month > 0 && year >= 1900) {
                try {
                    return LocalDate.of(year, month, Integer.parseInt(date.group(1)));
                } catch (DateTimeException impossible) {
                    // 31 February and the like: as unreadable.
                }
            }
        }
        return LocalDate.EPOCH;
    }
}
