package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mailstream.local.MailCorpus;
import org.mailstream.schemas.ServedForm;

/** Every awkward mail has a structure, an envelope and every section, whatever it lacks: none throws. */
class StructureTest {

    static Stream<Arguments> corpus() {
        Map<String, byte[]> mails = new LinkedHashMap<>(MailCorpus.awkwardMime());
        mails.putAll(MailCorpus.awkward());
        return mails.entrySet().stream().map(mail -> Arguments.of(mail.getKey(), mail.getValue()));
    }

    static Stream<Arguments> bombs() {
        return MailCorpus.mimeBombs(20_000).entrySet().stream().map(mail -> Arguments.of(mail.getKey(), mail.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bombs")
    void aMailBuiltToExhaustAParserIsLookedIntoNoDeeperAndNoFurtherThanDovecotsLimitsLosingNoText(String name, byte[] mail) {
        MimePart message = MimePart.of(ServedForm.of(mail));
        assertTrue(depth(message) <= MimePart.MAX_NESTING, name + " nested " + depth(message));
        assertTrue(count(message) <= MimePart.MAX_PARTS + MimePart.MAX_NESTING, name + " in " + count(message) + " parts");
        assertDoesNotThrow(() -> Structure.body(message, true));
        assertDoesNotThrow(() -> Structure.envelope(message));
        assertTrue(message.leaves().stream().anyMatch(leaf -> new String(leaf.body(), StandardCharsets.US_ASCII).contains("last words")),
                "the text past the limits is in the last part looked at, for a BODY search to find");
    }

    /** How deep the parts go: 1 for a part that holds none. */
    private static int depth(MimePart part) {
        return 1 + inner(part).stream().mapToInt(StructureTest::depth).max().orElse(0);
    }

    private static int count(MimePart part) {
        return 1 + inner(part).stream().mapToInt(StructureTest::count).sum();
    }

    private static List<MimePart> inner(MimePart part) {
        return part.encapsulated != null ? List.of(part.encapsulated) : part.parts;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void theHeaderSectionKeptApartGivesWhatTheWholeMessageGivesForEveryItemServedFromIt(String name, byte[] mail) throws Exception {
        byte[] header = ServedForm.header(mail);
        assumeTrue(header != null, "a mail without a header section to keep apart is read whole");
        MimePart whole = MimePart.of(ServedForm.of(mail));
        MimePart apart = MimePart.of(header);
        List<FetchItem> items = FetchItem.parseAll("(ENVELOPE BODY[HEADER] BODY[HEADER]<5.20> RFC822.HEADER BODY[HEADER.FIELDS (Subject From X-None)]"
                + " BODY[HEADER.FIELDS.NOT (Subject Received)] BODY[HEADER.FIELDS (Content-Type)]<0.10>)");
        for (FetchItem item : items) {
            assertTrue(item.readsHeaderOnly(), item.responseName());
            byte[] fromWhole = item.isBody() ? item.select(whole) : Structure.envelope(whole);
            byte[] fromApart = item.isBody() ? item.select(apart) : Structure.envelope(apart);
            assertEquals(new String(fromWhole, StandardCharsets.ISO_8859_1), new String(fromApart, StandardCharsets.ISO_8859_1),
                    name + " " + item.responseName());
        }
        assertEquals(SentDate.of(whole), SentDate.of(apart), name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void everySectionOfAnAwkwardMailIsServedWithoutAnError(String name, byte[] mail) {
        MimePart message = MimePart.of(ServedForm.of(mail));
        assertDoesNotThrow(() -> Structure.envelope(message));
        assertDoesNotThrow(() -> Structure.body(message, true));
        for (String section : new String[] {"", "HEADER", "TEXT", "1", "1.MIME", "2", "2.MIME", "2.HEADER", "2.TEXT", "2.1", "2.2",
            "1.2.3", "HEADER.FIELDS (FROM)", "2.HEADER.FIELDS.NOT (FROM)"}) {
            assertDoesNotThrow(() -> FetchItem.parseAll("BODY.PEEK[" + section + "]<1.3>").get(0).select(message), section);
        }
    }
}
