package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.DsnRequest;
import org.mailstream.schemas.Envelope;

class BounceNoticeTest {

    private static final byte[] LARGE = ("Subject: large\r\n\r\n" + "x".repeat(BounceNotice.MAX_RETURNED_BYTES)).getBytes(StandardCharsets.UTF_8);

    @Test
    void aMessageLargerThanPostfixsBounceSizeLimitIsReturnedAsItsHeaderSectionOnly() {
        String notice = compose(new DsnRequest(List.of(), "FULL", null), LARGE);
        assertTrue(notice.contains("Content-Type: text/rfc822-headers\n\nSubject: large\n\n--"), notice);
        assertFalse(notice.contains("xxxx"));
    }

    @Test
    void anEnvelopeIdWithALineBreakCannotAddAHeaderFieldToTheNotice() {
        String notice = compose(new DsnRequest(List.of(), null, "id\r\nX-Forged: yes"), "Subject: s\r\n\r\nbody\r\n".getBytes(StandardCharsets.UTF_8));
        assertTrue(notice.contains("Original-Envelope-Id: id??X-Forged: yes\n"), notice);
        assertTrue(notice.contains("Content-Type: message/rfc822\n\nSubject: s\n\nbody\n\n--"), "lines end in LF: " + notice);
    }

    private static String compose(DsnRequest dsn, byte[] message) {
        Envelope envelope = new Envelope(1, "s@example.org", "gone@example.com", null, "Q1", null, Instant.parse("2026-12-05T00:00:00Z"),
                message.length, "00".repeat(32), "mx1", dsn);
        return new String(BounceNotice.compose(envelope, message, DeliveryStatus.NO_SUCH_MAILBOX, "ab".repeat(32), "mx1",
                Instant.parse("2026-12-05T00:01:00Z")), StandardCharsets.UTF_8);
    }
}
