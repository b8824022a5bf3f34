package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.mailstream.schemas.Envelope;

class DeliveryLineTest {

    @Test
    void aForgedRecordsLineBreaksStayOnItsOneLineAndAnUnknownQueueIdIsNoqueue() {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("mail", 2, 7, "k".getBytes(StandardCharsets.UTF_8),
                "x".getBytes(StandardCharsets.UTF_8));
        Envelope forged = Envelope.fromJson("""
                {"version":1,"sender":"s@example.org","recipient":"a\\r\\nFAKE: to=<b@example.com>","receivedAt":"2026-12-05T00:00:00Z",\
                "size":1,"sha256":"00","ingestHost":"h"}""".getBytes(StandardCharsets.UTF_8));
        assertEquals("NOQUEUE: to=<a??FAKE: to=<b@example.com>>, size=1, record=mail/2/7, status=dead-letter (bad\n)".replace("\n", "?"),
                DeliveryLine.refused(record, forged, StoreOutcome.DEAD_LETTER, "bad\n"));
    }
}
