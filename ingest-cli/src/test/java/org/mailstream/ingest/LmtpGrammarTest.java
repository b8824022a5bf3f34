package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** How LMTP's command arguments are parsed: paths with their parameters, xtext. */
class LmtpGrammarTest {

    @Test
    void pathsAreParsedWithTheirParametersAndQuotedLocalPartsInInternalForm() {
        LmtpGrammar.Path mail = LmtpGrammar.Path.parse("FROM:<a@example.org> SIZE=123 BODY=8BITMIME", "FROM:");
        assertEquals("a@example.org", mail.address());
        assertEquals(Map.of("SIZE", "123", "BODY", "8BITMIME"), mail.parameters());
        assertEquals("", LmtpGrammar.Path.parse("from: <>", "FROM:").address());
        assertEquals("john doe@example.com", LmtpGrammar.Path.parse("TO:<\"john doe\"@example.com>", "TO:").address());
        assertEquals("a>b@example.com", LmtpGrammar.Path.parse("TO:<\"a>b\"@example.com>", "TO:").address());
        assertEquals("user@c.example", LmtpGrammar.Path.parse("TO:<@a.example,@b.example:user@c.example>", "TO:").address());
        assertNull(LmtpGrammar.Path.parse("TO:bob@example.com", "TO:"));
        assertNull(LmtpGrammar.Path.parse("FROM:<a@example.org>", "TO:"));
    }

    @Test
    void xtextDecodesPlusAndTwoHexDigits() {
        assertEquals("bob+tag@example.com", LmtpGrammar.decodeXtext("bob+2Btag@example.com"));
        assertEquals("a=b c", LmtpGrammar.decodeXtext("a+3Db+20c"));
        assertEquals("+", LmtpGrammar.decodeXtext("+"));
    }
}
