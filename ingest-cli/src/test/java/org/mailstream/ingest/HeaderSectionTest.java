package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.mailstream.local.MailCorpus;

class HeaderSectionTest {

    static Stream<Arguments> awkwardButValid() {
        return MailCorpus.awkward().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("awkwardButValid")
    void everyMessageOfTheCorpusHasAWellFormedHeaderSection(String name, byte[] message) {
        assertNull(HeaderSection.problem(message));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "Subject : obsolete white space before the colon\\n\\nbody",
        "X-8bit: caf\\u00e9 value\\n\\nbody",
        "Received: from a\\r\\n\\tby b\\r\\n\\r\\n",
        "Subject: value with a bare \\r inside\\n\\n",
        "A:\\n",
    })
    void fieldsTheRfcStillAllowsAreAccepted(String text) {
        assertNull(HeaderSection.problem(bytes(text)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "''                                             | empty message",
        "\\nbody without headers                        | no header fields before the body",
        "' Subject: starts folded\\n\\n'                 | header line 1 starts with white space, so it continues no field",
        "From alice@example.org Wed Nov 25\\nSubject: x\\n\\n | header line 1 is not a header field (name, colon, value)",
        "Subject: ok\\nno colon here\\n\\nbody           | header line 2 is not a header field (name, colon, value)",
        ": no name\\n\\n                                 | header line 1 is not a header field (name, colon, value)",
        "Sub\\u0000ject: x\\n\\n                         | header line 1 has the byte 0x00 in its field name",
        "Subj\\u00e9ct: x\\n\\n                          | header line 1 has the byte 0xc3 in its field name",
    })
    void aHeaderSectionThatIsNotOneIsNamedByLine(String text, String problem) {
        assertEquals(problem, HeaderSection.problem(bytes(text)));
    }

    /** Test text with \n, \r, \t and \\uXXXX written as escapes; é becomes UTF-8, as on the wire. */
    private static byte[] bytes(String escaped) {
        String text = escaped.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t")
                .replace("\\u0000", "\u0000").replace("\\u00e9", "\u00e9");
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
