package org.mailstream.schemas;

/**
 * The Kafka record that carries one message to one recipient.
 *
 * <pre>
 * topic    mail.inbound unless configured otherwise
 * key      UTF-8 of {@link Recipient#key()}: the recipient, domain lower-cased, so that one
 *          mailbox's mail stays in one partition, in order
 * value    the message exactly as Postfix wrote it to the pipe: never re-encoded, never trimmed,
 *          line endings and 8-bit bytes untouched
 * headers  {@value #ENVELOPE_HEADER}: the UTF-8 JSON {@link Envelope} (schema:
 *          envelope.schema.json beside this class), exactly once per record
 * </pre>
 */
public final class MailRecord {

    /** The topic both sides use unless configured otherwise. */
    public static final String DEFAULT_TOPIC = "mail.inbound";

    /** The record header that holds the JSON envelope. */
    public static final String ENVELOPE_HEADER = "mailstream.envelope";

    /** Class-path location of the envelope's JSON Schema. */
    public static final String ENVELOPE_SCHEMA_RESOURCE = "/org/mailstream/schemas/envelope.schema.json";

    private MailRecord() {
    }
}
