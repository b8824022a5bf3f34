package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.mailstream.schemas.Envelope;

/**
 * The one log line of a record's delivery, in Postfix's form, so that the queue id that starts
 * Postfix's lines finds this one too:
 * {@code 4Q2Wd: to=<alice+news@example.com>, msgid=<1@example.org>, folder=news, id=9f2c..., size=4096, record=mail/3/1207, status=stored}.
 * Status: stored, already-stored, reindexed, or, with the reason in parentheses, dead-letter and
 * given-up. Fields that a record does not have (a forged one's envelope, a dead letter's folder)
 * are left out; NOQUEUE stands for an unknown queue id, as in Postfix.
 */
final class DeliveryLine {

    /** A forged record's fields may hold line breaks; the log keeps one line a record. */
    private static final Pattern CONTROLS = Pattern.compile("\\p{Cntrl}");

    private DeliveryLine() {
    }

    /** The line for {@code record}, stored under {@code envelope} as {@code message}, which is the directory's {@code entry}. */
    static String stored(ConsumerRecord<byte[], byte[]> record, Envelope envelope, Entry message, DN entry,
            StoreOutcome outcome) {
        return of(record, envelope, message, entry, outcome, null);
    }

    /** The line for {@code record}, whose {@code envelope} is null when it does not read, not stored for {@code reason}. */
    static String refused(ConsumerRecord<byte[], byte[]> record, Envelope envelope, StoreOutcome outcome, String reason) {
        return of(record, envelope, null, null, outcome, reason);
    }

    private static String of(ConsumerRecord<byte[], byte[]> record, Envelope envelope, Entry message, DN entry,
            StoreOutcome outcome, String reason) {
        StringBuilder line = new StringBuilder(envelope == null || envelope.queueId() == null ? "NOQUEUE" : envelope.queueId())
                .append(": to=<").append(envelope == null ? "" : envelope.recipient()).append('>');
        if (message != null) {
            field(line, "msgid", message.getAttributeValue("mailStoreMessageId"));
            field(line, "folder", folderOf(entry));
            field(line, "id", message.getAttributeValue("mailStoreId"));
        }
        field(line, "size", record.value() == null ? null : Integer.toString(record.value().length));
        field(line, "record", record.topic() + "/" + record.partition() + "/" + record.offset());
        field(line, "status", outcome.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        if (reason != null) {
            line.append(" (").append(reason).append(')');
        }
        return CONTROLS.matcher(line).replaceAll("?");
    }

    private static void field(StringBuilder line, String name, String value) {
        if (value != null) {
            line.append(", ").append(name).append('=').append(value);
        }
    }

    private static String folderOf(DN entry) {
        DN folder = entry.getParent();
        return folder == null ? null : folder.getRDN().getAttributeValues()[0];
    }
}
