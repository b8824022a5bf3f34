package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** How commands are read and their arguments taken: literals, limits, FETCH items, sequence sets. */
class CommandGrammarTest {

    private static CommandReader reader(String input) {
        return new CommandReader(new ByteArrayInputStream(input.getBytes(StandardCharsets.ISO_8859_1)), 100, 1_000, 5_000);
    }

    @Test
    void aSynchronizingLiteralIsInvitedAndItsOctetsTakenAsOneArgument() throws Exception {
        AtomicInteger invitations = new AtomicInteger();
        List<Object> parts = reader("a1 LOGIN {5}\r\nal ce {3}\r\nx\"y\r\n").read(invitations::incrementAndGet);
        assertEquals(2, invitations.get());
        Arguments arguments = new Arguments(parts);
        assertEquals("a1", arguments.word());
        arguments.space();
        assertEquals("LOGIN", arguments.word());
        arguments.space();
        assertEquals("al ce", arguments.astring());
        arguments.space();
        assertEquals("x\"y", arguments.astring());
        arguments.end();
    }

    @Test
    void aLiteralOverTheLimitIsRefusedWithoutAnInvitationAndItsSizeAllocatesNothing() {
        AtomicInteger invitations = new AtomicInteger();
        CommandReader.Unreadable refused = assertThrows(CommandReader.Unreadable.class,
                () -> reader("a1 LOGIN {4000000000}\r\n").read(invitations::incrementAndGet));
        assertEquals(0, invitations.get());
        assertFalse(refused.fatal, "the client sends nothing uninvited: the session goes on");
        assertEquals("a1", refused.tag);
    }

    @Test
    void anAppendsMessageMayBeAsLargeAsTheMessageLimitAndOneLargerIsTooBig() throws Exception {
        assertEquals(3, reader("a1 APPEND INBOX {2000}\r\n" + "x".repeat(2000) + "\r\n").read(() -> { }).size());
        CommandReader.Unreadable refused = assertThrows(CommandReader.Unreadable.class,
                () -> reader("a1 APPEND INBOX {6000}\r\n").read(() -> { }));
        assertTrue(refused.tooBig && !refused.fatal, refused.getMessage());
    }

    @Test
    void anUninvitedLiteralOverTheLimitEndsTheConnectionAsItsOctetsCannotBeToldFromCommands() {
        CommandReader.Unreadable refused = assertThrows(CommandReader.Unreadable.class,
                () -> reader("a1 LOGIN {4000+}\r\n").read(() -> { }));
        assertTrue(refused.fatal);
    }

    @Test
    void aLineOverTheLimitIsReadToItsEndAndRefusedAndTheNextCommandIsReadWhole() throws Exception {
        CommandReader reader = reader("a1 " + "x".repeat(200) + "\r\na2 NOOP\r\n");
        assertThrows(CommandReader.Unreadable.class, () -> reader.read(() -> { }));
        assertEquals(List.of("a2 NOOP"), reader.read(() -> { }));
    }

    @Test
    void aQuotedStringKeepsItsEscapedQuoteAndBackslashAndItsUtf8() throws Exception {
        Arguments arguments = new Arguments(List.of(new String("\"K\\\"\\\\öln\"".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1)));
        assertEquals("K\"\\öln", arguments.astring());
    }

    @Test
    void headerFieldsAreSelectedWithTheirFoldedLinesAndTheEmptyLineThatEndsAHeader() throws Exception {
        byte[] served = "From: a@example.org\r\nSubject: one\r\n two\r\nTo: b@example.com\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        FetchItem subject = FetchItem.parseAll("BODY.PEEK[HEADER.FIELDS (subject)]").get(0);
        assertEquals("BODY[HEADER.FIELDS (SUBJECT)]", subject.responseName());
        assertArrayEquals("Subject: one\r\n two\r\n\r\n".getBytes(StandardCharsets.US_ASCII), subject.select(MimePart.of(served)));
        FetchItem others = FetchItem.parseAll("BODY[HEADER.FIELDS.NOT (Subject)]").get(0);
        assertArrayEquals("From: a@example.org\r\nTo: b@example.com\r\n\r\n".getBytes(StandardCharsets.US_ASCII), others.select(MimePart.of(served)));
        assertTrue(others.setsSeen());
    }

    @Test
    void aPartialSendsItsRangeAndNamesItsOffsetInTheResponse() throws Exception {
        FetchItem partial = FetchItem.parseAll("(UID BODY.PEEK[TEXT]<2.3>)").get(1);
        assertArrayEquals("dy\r".getBytes(StandardCharsets.US_ASCII), partial.select(MimePart.of("S: x\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII))));
        assertEquals("BODY[TEXT]<2>", partial.responseName());
    }

    @Test
    void aMessageWithoutAnEmptyLineIsAllHeaderAndHasAnEmptyText() throws Exception {
        byte[] served = "Subject: cut".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(served, FetchItem.parseAll("BODY[HEADER]").get(0).select(MimePart.of(served)));
        assertEquals(0, FetchItem.parseAll("BODY[TEXT]").get(0).select(MimePart.of(served)).length);
    }

    @Test
    void aSectionThatIsNoneIsRefusedByName() {
        Arguments.Bad refused = assertThrows(Arguments.Bad.class, () -> FetchItem.parseAll("(UID BODY[FOOTER])"));
        assertTrue(refused.getMessage().contains("FOOTER"), refused.getMessage());
        assertThrows(Arguments.Bad.class, () -> FetchItem.parseAll("BODY[MIME]"), "MIME needs a part number");
        assertThrows(Arguments.Bad.class, () -> FetchItem.parseAll("BODY[HEADER.FIELDS ()]"), "a header list names one field at least");
        assertThrows(Arguments.Bad.class, () -> FetchItem.parseAll("BODY[HEADER.FIELDS.NOT ( )]"), "a header list names one field at least");
    }

    @Test
    void aKeywordLongerThanAHundredCharactersIsRefusedSayingSo() throws Exception {
        assertEquals("K".repeat(100), Flags.parse("K".repeat(100)));
        Arguments.Bad refused = assertThrows(Arguments.Bad.class, () -> Flags.parse("K".repeat(101)));
        assertTrue(refused.getMessage().startsWith("not a keyword (an atom of at most 100 characters)"), refused.getMessage());
    }

    @Test
    void partNumbersNameTheBodiesOfAMultipartsPartsAndTheMessageInsideAMessagePart() throws Exception {
        byte[] served = ("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npreamble\r\n--b\r\n\r\none\r\n"
                + "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        MimePart message = MimePart.of(served);
        assertEquals("one", text(FetchItem.parseAll("BODY[1]").get(0).select(message)));
        assertEquals("Subject: inner\r\n\r\ninner body", text(FetchItem.parseAll("BODY[2]").get(0).select(message)));
        assertEquals("Content-Type: message/rfc822\r\n\r\n", text(FetchItem.parseAll("BODY[2.MIME]").get(0).select(message)));
        assertEquals("Subject: inner\r\n\r\n", text(FetchItem.parseAll("BODY[2.HEADER]").get(0).select(message)));
        assertEquals("inner body", text(FetchItem.parseAll("BODY[2.1]").get(0).select(message)));
        assertEquals(0, FetchItem.parseAll("BODY[3]").get(0).select(message).length, "a part the message does not have");
        assertEquals("BODY[2.HEADER]", FetchItem.parseAll("BODY.PEEK[2.header]").get(0).responseName());
    }

    @Test
    void theBodystructureOfAMultipartNamesEachPartWithItsSizeAndItsLineEndsAsDovecotCountsThem() {
        byte[] served = ("Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "\r\nhello\r\nworld\r\n--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: Base64\r\n\r\nPGI+\r\n--b--\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        assertEquals("((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 1 NIL NIL NIL NIL)"
                + "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"Base64\" 4 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b\") NIL NIL NIL)",
                text(Structure.body(MimePart.of(served), true)));
    }

    @Test
    void anEnvelopeTakesGroupsQuotedNamesAndBareAddressesAndFallsBackToFromForSenderAndReplyTo() {
        byte[] served = ("Date: Fri, 4 Dec 2026 10:00:00 +0000\r\nSubject: hi\r\nFrom: \"Doe, Jane\" <jane@example.org>\r\n"
                + "To: friends: a@example.org, B <b@example.org>;, c@example.org (Cee)\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        assertEquals("(\"Fri, 4 Dec 2026 10:00:00 +0000\" \"hi\" ((\"Doe, Jane\" NIL \"jane\" \"example.org\")) "
                + "((\"Doe, Jane\" NIL \"jane\" \"example.org\")) ((\"Doe, Jane\" NIL \"jane\" \"example.org\")) "
                + "((NIL NIL \"friends\" NIL)(NIL NIL \"a\" \"example.org\")(\"B\" NIL \"b\" \"example.org\")(NIL NIL NIL NIL)"
                + "(\"Cee\" NIL \"c\" \"example.org\")) NIL NIL NIL NIL)", text(Structure.envelope(MimePart.of(served))));
    }

    private static String text(byte[] octets) {
        return new String(octets, StandardCharsets.ISO_8859_1);
    }

    @Test
    void aSequenceSetTakesRangesEitherWayRoundAndTheStarAsTheLargestNumber() throws Exception {
        SequenceSet set = SequenceSet.parse("5:3,9:*");
        assertTrue(set.contains(4, 12));
        assertFalse(set.contains(6, 12));
        assertTrue(set.contains(12, 12));
        assertTrue(SequenceSet.parse("*:20").contains(15, 12), "RFC 3501: 20:* covers the largest when it is below 20");
        assertThrows(Arguments.Bad.class, () -> SequenceSet.parse("0:3"));
        assertThrows(Arguments.Bad.class, () -> SequenceSet.parse("1,,2"));
    }

    @Test
    void aSequenceSetFindsAmongUidsWithGapsTheSameMessagesItsMembershipSays() throws Exception {
        long[] uids = {2, 3, 7, 8, 9, 15, 40};
        for (String text : List.of("1:*", "*", "3", "4:6", "8:3,40", "9:*", "*:20", "1", "50", "7,7,2:3")) {
            SequenceSet set = SequenceSet.parse(text);
            List<Long> byMembership = Arrays.stream(uids).filter(uid -> set.contains(uid, uids[uids.length - 1])).boxed().toList();
            List<Long> bySearch = set.positions(uids.length, position -> uids[position]).stream().mapToObj(position -> uids[position])
                    .toList();
            assertEquals(byMembership, bySearch, text);
        }
        assertTrue(SequenceSet.parse("1:*").positions(0, position -> 1).isEmpty(), "an empty folder holds nothing");
    }
}
