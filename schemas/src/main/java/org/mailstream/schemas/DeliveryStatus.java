package org.mailstream.schemas;

/**
 * The one table of delivery outcomes: process exit status (sysexits.h), SMTP reply code and
 * RFC 3463 enhanced status code for every way a delivery can end, so that the pipe(8) command
 * and the LMTP server answer alike.
 *
 * <p>Postfix's pipe(8) defers a message only when the command exits with 75 (EX_TEMPFAIL), 71 or
 * a signal; every other non-zero status bounces it to its sender. So a status is permanent only
 * where the message or the recipient is provably at fault, and everything else, including every
 * failure nobody foresaw, is {@link #TEMPORARY_FAILURE} or one of its siblings with exit 75.
 *
 * <p>On failure the command prints exactly one line, {@link #line(String)}: pipe(8) copies it
 * into the delivery status notification, and the enhanced status code at its start wins over
 * the one Postfix would derive from the exit status. Over LMTP the same outcome is the reply
 * {@link #reply(String)}: 451 for every temporary one, so that Postfix defers, 5xx only where
 * the message or the recipient is provably at fault.
 */
public enum DeliveryStatus {
    DELIVERED(0, 250, "2.0.0", "delivered"),

    MALFORMED_MESSAGE(65, 554, "5.6.0", "malformed message"),
    MESSAGE_TOO_LARGE(65, 552, "5.2.3", "message too large"),
    INVALID_RECIPIENT(67, 553, "5.1.3", "invalid recipient address"),
    // Found by the worker after Postfix accepted the mail: the mailbox was removed in between.
    NO_SUCH_MAILBOX(67, 550, "5.1.1", "no such mailbox"),

    KAFKA_UNAVAILABLE(75, 451, "4.4.1", "kafka unavailable"),
    // A master.cf line without -d is the operator's typo, not the message's fault: the mail waits
    // in the queue until it is mended, instead of going back to every sender.
    USAGE_ERROR(75, 451, "4.3.5", "command line usage error"),
    KAFKA_REJECTED(75, 451, "4.3.0", "kafka rejected the record"),
    CONFIGURATION_ERROR(75, 451, "4.3.5", "configuration error"),
    OUT_OF_MEMORY(75, 451, "4.3.1", "out of memory"),
    TEMPORARY_FAILURE(75, 451, "4.3.0", "temporary failure");

    /** The exit status that makes pipe(8) defer instead of bounce. */
    public static final int EX_TEMPFAIL = 75;

    private final int exitCode;
    private final int replyCode;
    private final String enhancedCode;
    private final String text;

    DeliveryStatus(int exitCode, int replyCode, String enhancedCode, String text) {
        this.exitCode = exitCode;
        this.replyCode = replyCode;
        this.enhancedCode = enhancedCode;
        this.text = text;
    }

    public int exitCode() {
        return exitCode;
    }

    /** The SMTP/LMTP reply code: 250, 451, or a 5xx. */
    public int replyCode() {
        return replyCode;
    }

    public String enhancedCode() {
        return enhancedCode;
    }

    public String text() {
        return text;
    }

    /**
     * The single output line for this outcome: enhanced code, text and detail, with line breaks
     * folded so that the reply can never become two lines.
     */
    public String line(String detail) {
        String line = detail == null || detail.isBlank()
                ? enhancedCode + " " + text
                : enhancedCode + " " + text + ": " + detail;
        return line.replaceAll("[\\r\\n\\t]+", " ").strip();
    }

    /** The LMTP reply for this outcome: reply code, then {@link #line(String)}, on one line. */
    public String reply(String detail) {
        return replyCode + " " + line(detail);
    }
}
