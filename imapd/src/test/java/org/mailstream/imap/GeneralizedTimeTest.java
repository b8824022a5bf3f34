package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.unboundid.util.StaticUtils;
import java.text.ParseException;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

class GeneralizedTimeTest {

    @Test
    void aValueAsTheSdkWritesItIsReadToTheMillisecond() throws ParseException {
        Instant received = Instant.parse("2026-12-06T17:21:58.877Z");
        assertEquals(received, GeneralizedTime.parse(StaticUtils.encodeGeneralizedTime(Date.from(received))));
    }

    @Test
    void everyOtherFormTheSyntaxAllowsReadsAsTheSdkReadsIt() throws ParseException {
        for (String value : List.of("20261206172158Z", "20261206172158.5Z", "20261206172158.123456789Z", "202612061721Z", "2026120617Z",
                "20261206172158+0100", "20261206172158.877-0530")) {
            assertEquals(StaticUtils.decodeGeneralizedTime(value).toInstant(), GeneralizedTime.parse(value), value);
        }
    }

    @Test
    void aValueThatIsNoTimeIsRefusedAsTheSdkRefusesIt() {
        for (String value : List.of("", "Z", "20261306172158Z", "yesterday")) {
            assertThrows(ParseException.class, () -> GeneralizedTime.parse(value), value);
        }
    }
}
