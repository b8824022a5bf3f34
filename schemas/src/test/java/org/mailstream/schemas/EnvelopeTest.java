package org.mailstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EnvelopeTest {

    private static final Envelope FULL = new Envelope(1, "alice@example.org", "Bob@Example.COM",
            "bob.alias@example.com", "4XyZ1abc", "192.0.2.7", Instant.parse("2026-11-25T12:00:00.123Z"),
            4096, "0f".repeat(32), "mx1.example.com", new DsnRequest(List.of("FAILURE", "DELAY"), "HDRS", "env+1"));

    private static final Envelope MINIMAL = new Envelope(1, "", "bob@example.com", null, null, null,
            Instant.parse("2026-11-25T12:00:00Z"), 0, "e3".repeat(32), "mx1", null);

    @Test
    void anEnvelopeReadsBackEqualAfterItsWireForm() {
        assertEquals(FULL, Envelope.fromJson(FULL.toJson()));
        assertEquals(MINIMAL, Envelope.fromJson(MINIMAL.toJson()));
    }

    @Test
    void theWireFormSatisfiesThePublishedJsonSchema() throws Exception {
        JsonSchema schema = publishedSchema();
        ObjectMapper json = new ObjectMapper();
        for (Envelope envelope : new Envelope[] {FULL, MINIMAL}) {
            Set<ValidationMessage> problems = schema.validate(json.readTree(envelope.toJson()));
            assertTrue(problems.isEmpty(), problems + " in " + new String(envelope.toJson(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void thePublishedJsonSchemaRejectsAnEnvelopeWithABadDigest() throws Exception {
        String bad = new String(FULL.toJson(), StandardCharsets.UTF_8).replace("0f".repeat(32), "XYZ");
        assertEquals(1, publishedSchema().validate(new ObjectMapper().readTree(bad)).size());
    }

    @Test
    void anEnvelopeWithoutDsnMembersAsksForAFailureNoticeWithTheWholeMessage() {
        assertTrue(MINIMAL.dsn().wantsFailureNotice());
        assertFalse(MINIMAL.dsn().headersOnly());
        assertFalse(new String(MINIMAL.toJson(), StandardCharsets.UTF_8).contains("dsn"));
        assertFalse(new DsnRequest(DsnRequest.parseNotify("never"), null, null).wantsFailureNotice());
        assertThrows(IllegalArgumentException.class, () -> DsnRequest.parseNotify("NEVER,FAILURE"));
    }

    @Test
    void aReaderIgnoresMembersItDoesNotKnow() {
        String newer = new String(FULL.toJson(), StandardCharsets.UTF_8)
                .replaceFirst("\\{", "{\"spamScore\":{\"value\":3.5,\"tags\":[\"x\"]},");
        assertEquals(FULL, Envelope.fromJson(newer.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aReaderRefusesAnotherVersionAndAnIncompleteEnvelope() {
        byte[] v2 = new String(FULL.toJson(), StandardCharsets.UTF_8).replace("\"version\":1", "\"version\":2")
                .getBytes(StandardCharsets.UTF_8);
        assertThrows(IllegalArgumentException.class, () -> Envelope.fromJson(v2));
        assertThrows(IllegalArgumentException.class,
                () -> Envelope.fromJson("{\"version\":1}".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class,
                () -> Envelope.fromJson("not json".getBytes(StandardCharsets.UTF_8)));
    }

    private static JsonSchema publishedSchema() {
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                .getSchema(EnvelopeTest.class.getResourceAsStream(MailRecord.ENVELOPE_SCHEMA_RESOURCE), config);
    }
}
