package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.schemas.ServedForm;
import org.mailstream.local.MailCorpus;

class MessageEntryTest {

    private static final DN FOLDER = MessageEntry.folderDn(dn("uid=bob,ou=people,dc=example,dc=com"), "INBOX");

    static Stream<Arguments> corpus() {
        return MailCorpus.awkward().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @Test
    void theShippedAccessRulesLetTheServiceAccountRewriteExactlyTheDerivedAttributes() throws Exception {
        String ldif;
        try (var in = Envelope.class.getResourceAsStream("mailstore.database.ldif")) {
            ldif = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher rewritable = Pattern.compile("\\n  attrs=([A-Za-z0-9,]+)\\n(?:  by [^\\n]*\\n)*?  by dn.exact=\"@SERVICE@\" write\\n").matcher(ldif);
        assertTrue(rewritable.find(), "the rule that lets the service account rewrite message attributes");
        assertEquals(Set.of(MessageEntry.DERIVED), Set.of(rewritable.group(1).split(",")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void everyAttributeButTheMessageItselfIsListedAsDerivedSoThatReparseRewritesItAndNeverTheRawBytes(String name, byte[] message) {
        Entry entry = MessageEntry.message(FOLDER, message, envelope(message));

        Set<String> derived = Set.of(MessageEntry.DERIVED);
        entry.getAttributes().forEach(a -> assertTrue(derived.contains(a.getName())
                || Set.of("objectClass", "mailStoreId", "mailStoreRaw", "mailStoreHeader").contains(a.getName()), name + ": " + a.getName()));
        assertFalse(derived.contains("mailStoreRaw"));
        assertFalse(derived.contains("mailStoreHeader"), "the message's bytes too, which the worker may not read back to compare");
        entry.getAttributes().forEach(a -> assertTrue(a.getName().equals("objectClass") || MessageEntry.MESSAGE_TYPES.contains(a.getName()),
                name + ": " + a.getName() + " is among the types the check asks the message class to hold"));
    }

    @Test
    void aMessageThatFitsTheBackEndOnlyWithoutTheCopyOfItsHeaderIsStoredWithoutIt() {
        byte[] message = ("Subject: big header " + "x".repeat(40_000) + "\r\n\r\n" + "y".repeat(100_000)).getBytes(StandardCharsets.US_ASCII);
        Entry entry = MessageEntry.message(FOLDER, message, envelope(message));
        long whole = MessageEntry.fittedSize(entry.duplicate(), Long.MAX_VALUE);
        Entry fitted = entry.duplicate();

        long size = MessageEntry.fittedSize(fitted, whole - 1);

        assertTrue(size < whole - 40_000, size + " of " + whole);
        assertFalse(fitted.hasAttribute("mailStoreHeader"));
        assertArrayEquals(message, fitted.getAttributeValueBytes("mailStoreRaw"));
        assertEquals(whole, MessageEntry.fittedSize(entry, whole), "one that fits keeps it");
        assertTrue(entry.hasAttribute("mailStoreHeader"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void theHeaderSectionAsServedIsKeptApartSoThatAHeaderFetchNeedNotReadTheMessage(String name, byte[] message) {
        Entry entry = MessageEntry.message(FOLDER, message, envelope(message));

        assertArrayEquals(ServedForm.header(message), entry.getAttributeValueBytes("mailStoreHeader"), name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void theRawBytesAreKeptExactlyAndTheEntryIsNamedByTheMessageId(String name, byte[] message) {
        Entry entry = MessageEntry.message(FOLDER, message, envelope(message));

        assertArrayEquals(message, entry.getAttributeValueBytes("mailStoreRaw"));
        assertEquals("mailStoreId=" + MessageIdentity.of(message) + ",cn=INBOX,uid=bob,ou=people,dc=example,dc=com", entry.getDN());
        assertEquals(Integer.toString(message.length), entry.getAttributeValue("mailStoreSize"));
        assertEquals(Long.toString(ServedForm.size(message)), entry.getAttributeValue("mailStoreServedSize"));
        assertNull(entry.getAttributeValue("mailStoreParseError"), name);
    }

    @Test
    void eightBitHeaderBytesAreReadAsUtf8() {
        byte[] message = MailCorpus.awkward().get("eight-bit");
        assertEquals("Grüße aus Köln", MessageEntry.message(FOLDER, message, envelope(message)).getAttributeValue("mailStoreSubject"));
    }

    @Test
    void controlCharactersNeverReachAnIndexValueAndLongValuesAreCut() {
        byte[] message = ("Subject: a\u0000b\u0007c " + "x".repeat(3000) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        String subject = MessageEntry.message(FOLDER, message, envelope(message)).getAttributeValue("mailStoreSubject");

        assertTrue(subject.startsWith("a b c xxx"), subject);
        assertEquals(1000, subject.length());
    }

    @Test
    void anUnparseableFromCostsTheIndexNotTheMessage() {
        byte[] message = "From: \"unterminated <a@example.org>\r\nSubject: s\r\n\r\nbody".getBytes(StandardCharsets.US_ASCII);
        Entry entry = MessageEntry.message(FOLDER, message, envelope(message));

        assertArrayEquals(message, entry.getAttributeValueBytes("mailStoreRaw"));
        assertTrue(entry.hasAttribute("mailStoreParseError"), entry.toLDIFString());
        assertFalse(entry.hasAttribute("mailStoreFrom"));
        assertFalse(entry.hasAttribute("mailStoreSubject"));
    }

    @Test
    void theNullSenderLeavesTheSenderOut() {
        byte[] message = MailCorpus.message("bounce", "x\r\n");
        assertFalse(MessageEntry.message(FOLDER, message, envelope(message)).hasAttribute("mailStoreSender"));
    }

    private static Envelope envelope(byte[] message) {
        return new Envelope(1, "", "bob@example.com", null, null, null, Instant.parse("2026-11-25T12:00:00Z"),
                message.length, MessageIdentity.sha256Hex(message), "mx1", null);
    }

    private static DN dn(String text) {
        try {
            return new DN(text);
        } catch (com.unboundid.ldap.sdk.LDAPException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
