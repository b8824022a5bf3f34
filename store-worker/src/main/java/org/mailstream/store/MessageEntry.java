package org.mailstream.store;

import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.RDN;
import com.unboundid.util.StaticUtils;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.SharedByteArrayInputStream;
import java.util.ArrayList;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.schemas.ServedForm;

/**
 * The LDAP entry of one stored message: {@code mailStoreId=ID,cn=FOLDER,OWNER}, holding the raw
 * bytes untouched in mailStoreRaw, its header section as served apart (mailStoreHeader, which
 * IMAP reads to list a folder), the envelope, and index attributes from Jakarta Mail's parse
 * of the header. A header Jakarta Mail cannot parse costs only the index attributes: the entry
 * is stored with mailStoreParseError saying why.
 */
final class MessageEntry {

    /** Index values are for finding mail, not for reading it: the raw message has it all. */
    private static final int MAX_INDEX_VALUE_CHARS = 1_000;

    /** Runs of controls and white space, folded into one space in an index value: a header's folds, a hostile NUL. */
    private static final Pattern CONTROLS_AND_SPACE = Pattern.compile("[\\p{Cntrl}\\s]+");

    /**
     * Jakarta Mail 2.1 finds its StreamProvider with a ServiceLoader, scanning the class path's
     * jars, each time it reads a header section (jakartaee/mail-api#861): 13 % of the worker's CPU
     * samples (JFR during bin/bench-store). Named by this system property, the API loads the class
     * by name instead. A value given on the command line is kept.
     */
    private static final String STREAM_PROVIDER = "jakarta.mail.util.StreamProvider";

    static {
        if (System.getProperty(STREAM_PROVIDER) == null) {
            System.setProperty(STREAM_PROVIDER, "org.eclipse.angus.mail.util.MailStreamProvider");
        }
    }

    /** 8-bit header bytes are read as UTF-8 (RFC 6532) rather than Latin-1. */
    private static final Session SESSION = Session.getInstance(utf8Headers());

    /** The object classes and attribute types the worker writes: the schema a back end must define. */
    static final List<String> OBJECT_CLASSES = List.of("mailStoreFolder", "mailStoreMessage", "mailStoreBounceMarker",
            "mailStoreQuotaOwner");
    static final List<String> ATTRIBUTE_TYPES = List.of("mailStoreId", "mailStoreRaw", "mailStoreSize", "mailStoreServedSize", "mailStoreSha256",
            "mailStoreReceived", "mailStoreRecipient", "mailStoreSender", "mailStoreOriginalRecipient", "mailStoreQueueId",
            "mailStoreClientAddress", "mailStoreMessageId", "mailStoreSubject", "mailStoreFrom", "mailStoreDate", "mailStoreParseError",
            "mailStoreHeader", "mailStoreBounce", "mailStoreQuotaBytes", "mailStoreQuotaMessages", "mailStoreUsedBytes", "mailStoreUsedMessages",
            "mailStoreOverQuota");

    /**
     * Every attribute derived from the raw bytes and the envelope: what a reparse may rewrite.
     * The rest (objectClass, mailStoreId, mailStoreRaw) is the message itself and never changes.
     */
    static final String[] DERIVED = {"mailStoreSize", "mailStoreServedSize", "mailStoreSha256", "mailStoreReceived", "mailStoreRecipient",
        "mailStoreSender", "mailStoreOriginalRecipient", "mailStoreQueueId", "mailStoreClientAddress", "mailStoreMessageId",
        "mailStoreSubject", "mailStoreFrom", "mailStoreDate", "mailStoreParseError"};

    /** Every attribute type a message entry may hold: the message itself, its header section kept apart, and what is derived. */
    static final List<String> MESSAGE_TYPES = Stream.concat(Stream.of("mailStoreId", "mailStoreRaw", "mailStoreHeader"), Stream.of(DERIVED))
            .toList();

    private MessageEntry() {
    }

    private static Properties utf8Headers() {
        Properties properties = new Properties();
        properties.setProperty("mail.mime.allowutf8", "true");
        return properties;
    }

    static DN folderDn(DN owner, String folder) {
        return new DN(new RDN("cn", folder), owner);
    }

    static Entry folder(DN owner, String folder) {
        Entry entry = new Entry(folderDn(owner, folder));
        entry.addAttribute("objectClass", "mailStoreFolder");
        entry.addAttribute("cn", folder);
        return entry;
    }

    /**
     * The entry for {@code raw} below {@code folder}. Its id, {@link MessageIdentity#of} of
     * {@code raw}, is the envelope's sha256, which the caller has checked against {@code raw}: so
     * the digest is computed once a record, not twice (the two were 22 % of the worker's CPU
     * samples, JFR during bin/bench-store).
     */
    static Entry message(DN folder, byte[] raw, Envelope envelope) {
        String id = envelope.sha256();
        List<Attribute> attributes = new ArrayList<>();
        attributes.add(new Attribute("objectClass", "mailStoreMessage"));
        attributes.add(new Attribute("mailStoreId", id));
        attributes.add(new Attribute("mailStoreRaw", raw));
        attributes.add(new Attribute("mailStoreSize", Integer.toString(raw.length)));
        attributes.add(new Attribute("mailStoreServedSize", Long.toString(ServedForm.size(raw))));
        byte[] header = ServedForm.header(raw);
        if (header != null) {
            // Written once with the message, never by a reparse: it is the message's bytes, which the worker may not read back.
            attributes.add(new Attribute("mailStoreHeader", header));
        }
        attributes.add(new Attribute("mailStoreSha256", id));
        attributes.add(new Attribute("mailStoreReceived", StaticUtils.encodeGeneralizedTime(Date.from(envelope.receivedAt()))));
        addText(attributes, "mailStoreRecipient", envelope.recipient());
        addText(attributes, "mailStoreSender", envelope.sender());
        addText(attributes, "mailStoreOriginalRecipient", envelope.originalRecipient());
        addAscii(attributes, "mailStoreQueueId", envelope.queueId());
        addAscii(attributes, "mailStoreClientAddress", envelope.clientAddress());
        try {
            MimeMessage parsed = new MimeMessage(SESSION, new SharedByteArrayInputStream(raw));
            addText(attributes, "mailStoreMessageId", parsed.getMessageID());
            addText(attributes, "mailStoreSubject", parsed.getSubject());
            Address[] from = parsed.getFrom();
            if (from != null && from.length > 0) {
                addText(attributes, "mailStoreFrom", display(from[0]));
            }
            Date date = parsed.getSentDate();
            if (date != null && fitsGeneralizedTime(date)) {
                attributes.add(new Attribute("mailStoreDate", StaticUtils.encodeGeneralizedTime(date)));
            }
        } catch (MessagingException | RuntimeException e) {
            attributes.removeIf(a -> a.getName().equals("mailStoreMessageId") || a.getName().equals("mailStoreSubject")
                    || a.getName().equals("mailStoreFrom"));
            addText(attributes, "mailStoreParseError", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        return new Entry(new DN(new RDN("mailStoreId", id), folder), attributes);
    }

    /**
     * Whether {@code date} has a four-digit year, as GeneralizedTime must: a Date: header in the year
     * 99999 is left out of the index rather than make the directory refuse the whole mail.
     */
    private static boolean fitsGeneralizedTime(Date date) {
        int year = date.toInstant().atZone(ZoneOffset.UTC).getYear();
        return year >= 1 && year <= 9999;
    }

    /** "Name <address>" or the bare address: what a reader searches for, without MIME quoting. */
    private static String display(Address address) {
        if (address instanceof InternetAddress internet) {
            String personal = internet.getPersonal();
            return personal == null || personal.isBlank() ? internet.getAddress() : personal + " <" + internet.getAddress() + ">";
        }
        return address.toString();
    }

    /**
     * The octets the add of {@code message} will take on the wire, near enough to compare with
     * slapd's limit {@code maxBytes}, once it is made to fit: a message that fits only without the
     * copy of its header section goes without it (header fetches then read it whole) rather than
     * to the dead-letter topic.
     */
    static long fittedSize(Entry message, long maxBytes) {
        long size = encodedSize(message);
        return size > maxBytes && message.removeAttribute("mailStoreHeader") ? encodedSize(message) : size;
    }

    private static long encodedSize(Entry entry) {
        long size = entry.getDN().length() + 64;
        for (Attribute attribute : entry.getAttributes()) {
            size += attribute.getName().length() + 16;
            for (byte[] value : attribute.getValueByteArrays()) {
                size += value.length + 8;
            }
        }
        return size;
    }

    /**
     * A directoryString value: no control characters (slapd refuses NUL, and a header may hold
     * anything), white space runs folded, at most {@value #MAX_INDEX_VALUE_CHARS} characters,
     * left out when nothing remains.
     */
    private static void addText(List<Attribute> attributes, String name, String value) {
        if (value == null) {
            return;
        }
        String clean = CONTROLS_AND_SPACE.matcher(value).replaceAll(" ").strip();
        if (clean.codePointCount(0, clean.length()) > MAX_INDEX_VALUE_CHARS) {
            clean = clean.substring(0, clean.offsetByCodePoints(0, MAX_INDEX_VALUE_CHARS));
        }
        if (!clean.isEmpty()) {
            attributes.add(new Attribute(name, clean));
        }
    }

    /** An IA5String value: left out unless it is printable ASCII. */
    private static void addAscii(List<Attribute> attributes, String name, String value) {
        if (value != null && !value.isEmpty() && value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            attributes.add(new Attribute(name, value));
        }
    }
}
