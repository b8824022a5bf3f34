package org.mailstream.schemas;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * The delivery metadata that travels beside the raw message, as the record header
 * {@value MailRecord#ENVELOPE_HEADER}. Wire form: a UTF-8 JSON object described by
 * envelope.schema.json; readers ignore members they do not know, and a change that old readers
 * cannot ignore raises {@code version}.
 *
 * @param version           wire version, {@value #VERSION}
 * @param sender            envelope sender (MAIL FROM); empty for the null sender {@code <>}
 * @param recipient         envelope recipient exactly as Postfix gave it
 * @param originalRecipient the recipient before any address rewriting, or null when unknown
 * @param queueId           the Postfix queue id, or null when unknown
 * @param clientAddress     IP address of the SMTP client that sent the message, or null
 * @param receivedAt        when ingest-cli read the message
 * @param size              length of the record value in octets
 * @param sha256            SHA-256 of the record value, 64 lower-case hex digits
 * @param ingestHost        host name of the machine that ran ingest-cli
 * @param dsn               what the sender asked of delivery status notifications; {@link DsnRequest#NONE} when nothing
 */
public record Envelope(
        int version,
        String sender,
        String recipient,
        String originalRecipient,
        String queueId,
        String clientAddress,
        Instant receivedAt,
        long size,
        String sha256,
        String ingestHost,
        DsnRequest dsn) {

    public static final int VERSION = 1;

    public Envelope {
        dsn = dsn == null ? DsnRequest.NONE : dsn;
    }

    // Streaming rather than data binding: it costs ingest-cli's start-up almost nothing.
    private static final JsonFactory JSON = new JsonFactory();

    public byte[] toJson() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeNumberField("version", version);
            json.writeStringField("sender", sender);
            json.writeStringField("recipient", recipient);
            writeOptional(json, "originalRecipient", originalRecipient);
            writeOptional(json, "queueId", queueId);
            writeOptional(json, "clientAddress", clientAddress);
            json.writeStringField("receivedAt", receivedAt.toString());
            json.writeNumberField("size", size);
            json.writeStringField("sha256", sha256);
            json.writeStringField("ingestHost", ingestHost);
            if (!dsn.isNone()) {
                json.writeObjectFieldStart("dsn");
                if (!dsn.notifyOn().isEmpty()) {
                    json.writeStringField("notify", String.join(",", dsn.notifyOn()));
                }
                writeOptional(json, "ret", dsn.ret());
                writeOptional(json, "envid", dsn.envid());
                json.writeEndObject();
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /** The span of times a directory's GeneralizedTime (four-digit years) and every clock can hold. */
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("+10000-01-01T00:00:00Z");

    /** Reads the wire form; throws {@link IllegalArgumentException} saying what is wrong. */
    public static Envelope fromJson(byte[] json) {
        int version = 0;
        String sender = null;
        String recipient = null;
        String originalRecipient = null;
        String queueId = null;
        String clientAddress = null;
        Instant receivedAt = null;
        long size = -1;
        String sha256 = null;
        String ingestHost = null;
        DsnRequest dsn = DsnRequest.NONE;
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("envelope is not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (name) {
                    case "version" -> version = parser.getIntValue();
                    case "sender" -> sender = parser.getText();
                    case "recipient" -> recipient = parser.getText();
                    case "originalRecipient" -> originalRecipient = parser.getText();
                    case "queueId" -> queueId = parser.getText();
                    case "clientAddress" -> clientAddress = parser.getText();
                    case "receivedAt" -> receivedAt = Instant.parse(parser.getText());
                    case "size" -> size = parser.getLongValue();
                    case "sha256" -> sha256 = parser.getText();
                    case "ingestHost" -> ingestHost = parser.getText();
                    case "dsn" -> dsn = dsn(parser);
                    default -> {
                        if (value.isStructStart()) {
                            parser.skipChildren();
                        }
                    }
                }
            }
        } catch (IOException | DateTimeParseException e) {
            throw new IllegalArgumentException("unreadable envelope: " + e.getMessage(), e);
        }
        if (version != VERSION) {
            throw new IllegalArgumentException("unsupported envelope version " + version);
        }
        if (sender == null || recipient == null || receivedAt == null || size < 0 || sha256 == null
                || ingestHost == null) {
            throw new IllegalArgumentException("envelope lacks a required member");
        }
        if (receivedAt.isBefore(EARLIEST) || !receivedAt.isBefore(LATEST)) {
            throw new IllegalArgumentException("envelope's receivedAt " + receivedAt + " is outside the years 0001 to 9999");
        }
        return new Envelope(version, sender, recipient, originalRecipient, queueId, clientAddress,
                receivedAt, size, sha256, ingestHost, dsn);
    }

    /** The "dsn" member, the parser on its START_OBJECT. */
    private static DsnRequest dsn(JsonParser parser) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw new IllegalArgumentException("envelope's dsn is not an object");
        }
        String notify = null;
        String ret = null;
        String envid = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (name) {
                case "notify" -> notify = parser.getText();
                case "ret" -> ret = parser.getText();
                case "envid" -> envid = parser.getText();
                default -> {
                    if (value.isStructStart()) {
                        parser.skipChildren();
                    }
                }
            }
        }
        if (ret != null && !ret.equals("FULL") && !ret.equals("HDRS")) {
            throw new IllegalArgumentException("envelope's dsn.ret is neither FULL nor HDRS");
        }
        return new DsnRequest(notify == null ? List.of() : DsnRequest.parseNotify(notify), ret, envid);
    }

    private static void writeOptional(JsonGenerator json, String name, String value) throws IOException {
        if (value != null) {
            json.writeStringField(name, value);
        }
    }
}
