package org.mailstream.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.regex.Pattern;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Envelope;

/**
 * The delivery status notification (RFC 3464, in a multipart/report of RFC 6522) that tells a
 * sender that their mail could not be stored for one recipient. It says what a sender may know:
 * the status and its text, never the directory's names or filters, which stay in the dead letter.
 * Lines end in LF, as the local sendmail command reads them.
 */
final class BounceNotice {

    /** As Postfix's bounce_size_limit: a larger message is returned as its header section only. */
    static final int MAX_RETURNED_BYTES = 50_000;

    private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
    /** A value from the envelope goes into a header field: a line break there would make a field of its own. */
    private static final Pattern CONTROLS = Pattern.compile("\\p{Cntrl}");

    private BounceNotice() {
    }

    /**
     * The notice to {@code envelope}'s sender that {@code message} could not be delivered to its
     * recipient, as {@code status}; {@code id} (hex) names it and separates its parts, and
     * {@code reportingMta} is this host.
     */
    static byte[] compose(Envelope envelope, byte[] message, DeliveryStatus status, String id, String reportingMta, Instant now) {
        String boundary = id + "/" + reportingMta;
        boolean whole = !envelope.dsn().headersOnly() && message.length <= MAX_RETURNED_BYTES;
        String recipient = clean(envelope.recipient());
        StringBuilder text = new StringBuilder()
                .append("From: MAILER-DAEMON@").append(reportingMta).append(" (Mail Delivery System)\n")
                .append("To: <").append(clean(envelope.sender())).append(">\n")
                .append("Subject: Undelivered Mail Returned to Sender\n")
                .append("Date: ").append(DATE.format(now)).append('\n')
                .append("Message-ID: <").append(id).append('@').append(reportingMta).append(">\n")
                .append("Auto-Submitted: auto-replied\n")
                .append("MIME-Version: 1.0\n")
                .append("Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"").append(boundary).append("\"\n")
                .append("\nThis is a MIME-encapsulated message.\n")
                .append("\n--").append(boundary).append('\n')
                .append("Content-Description: Notification\n")
                .append("Content-Type: text/plain; charset=utf-8\n\n")
                .append("This is the mail system at host ").append(reportingMta).append(".\n\n")
                .append("Your message was accepted for the recipient below, but could not be delivered:\n")
                .append("the mailbox no longer existed when the message was to be stored.\n\n")
                .append('<').append(recipient).append(">: ").append(status.line(null)).append('\n')
                .append("\n--").append(boundary).append('\n')
                .append("Content-Description: Delivery report\n")
                .append("Content-Type: message/delivery-status\n\n")
                .append("Reporting-MTA: dns; ").append(reportingMta).append('\n');
        if (envelope.dsn().envid() != null) {
            text.append("Original-Envelope-Id: ").append(clean(envelope.dsn().envid())).append('\n');
        }
        if (envelope.queueId() != null) {
            text.append("X-Postfix-Queue-ID: ").append(clean(envelope.queueId())).append('\n');
        }
        text.append("Arrival-Date: ").append(DATE.format(envelope.receivedAt())).append("\n\n");
        if (envelope.originalRecipient() != null) {
            text.append("Original-Recipient: rfc822; ").append(clean(envelope.originalRecipient())).append('\n');
        }
        text.append("Final-Recipient: rfc822; ").append(recipient).append('\n')
                .append("Action: failed\n")
                .append("Status: ").append(status.enhancedCode()).append('\n')
                .append("Diagnostic-Code: smtp; ").append(status.reply(null)).append('\n')
                .append("\n--").append(boundary).append('\n')
                .append("Content-Description: ").append(whole ? "Undelivered Message" : "Undelivered Message Headers").append('\n')
                .append("Content-Type: ").append(whole ? "message/rfc822" : "text/rfc822-headers").append("\n\n");
        ByteArrayOutputStream notice = new ByteArrayOutputStream(text.length() + Math.min(message.length, MAX_RETURNED_BYTES) + 256);
        notice.writeBytes(text.toString().getBytes(StandardCharsets.UTF_8));
        notice.writeBytes(localLines(whole ? message : headerSection(message)));
        notice.writeBytes(("\n--" + boundary + "--\n").getBytes(StandardCharsets.UTF_8));
        return notice.toByteArray();
    }

    private static String clean(String value) {
        return CONTROLS.matcher(value).replaceAll("?");
    }

    /** The message up to and without the empty line that ends its header section (all of it when there is none). */
    static byte[] headerSection(byte[] message) {
        for (int i = 0; i < message.length; i++) {
            if (message[i] == '\n' && (i + 1 < message.length && message[i + 1] == '\n'
                    || i + 2 < message.length && message[i + 1] == '\r' && message[i + 2] == '\n')) {
                return Arrays.copyOf(message, i + 1);
            }
        }
        return message;
    }

    /** {@code bytes} with CR LF as LF, ending in a line break. */
    private static byte[] localLines(byte[] bytes) {
        ByteArrayOutputStream lines = new ByteArrayOutputStream(bytes.length + 1);
        for (int i = 0; i < bytes.length; i++) {
            if (!(bytes[i] == '\r' && i + 1 < bytes.length && bytes[i + 1] == '\n')) {
                lines.write(bytes[i]);
            }
        }
        if (bytes.length == 0 || bytes[bytes.length - 1] != '\n') {
            lines.write('\n');
        }
        return lines.toByteArray();
    }
}
