package org.mailstream.imap;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * ENVELOPE and BODYSTRUCTURE (RFC 3501 7.4.2) of a message as served, written as IMAP writes
 * them; header values pass as they are (encoded words and 8-bit octets included: a string that
 * quotes cannot carry is sent as a literal). Dovecot 2.3 is the reference for what a broken or
 * odd message gives.
 */
final class Structure {

    private static final Pattern COMMENT = Pattern.compile("\\([^)]*\\)");
    private static final Pattern LANGUAGE_SEPARATOR = Pattern.compile("[,\\s]+");
    private static final Pattern FOLD = Pattern.compile("\r?\n[ \t]*");
    /** The quotes and backslashes Dovecot escapes in a quoted string (see {@link #escapedString}) before it sends a literal. */
    private static final int MAX_ESCAPES = 4;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private Structure() {
    }

    /** The ENVELOPE of the message (or encapsulated message) {@code part}. */
    static byte[] envelope(MimePart part) {
        Structure structure = new Structure();
        structure.envelopeOf(part);
        return structure.out.toByteArray();
    }

    /** The BODYSTRUCTURE of {@code part}, with extension data, or its BODY form without. */
    static byte[] body(MimePart part, boolean extensions) {
        Structure structure = new Structure();
        structure.bodyOf(part, extensions);
        return structure.out.toByteArray();
    }

    private void envelopeOf(MimePart message) {
        text("(");
        escapedString(message.field("Date").orElse(null));
        text(" ");
        nstring(message.field("Subject").orElse(null));
        List<Address> from = addresses(message, "From");
        text(" ");
        addressList(from);
        text(" ");
        addressList(message.field("Sender").isPresent() ? addresses(message, "Sender") : from);
        text(" ");
        addressList(message.field("Reply-To").isPresent() ? addresses(message, "Reply-To") : from);
        for (String field : List.of("To", "Cc", "Bcc")) {
            text(" ");
            addressList(addresses(message, field));
        }
        text(" ");
        escapedString(message.field("In-Reply-To").orElse(null));
        text(" ");
        escapedString(message.field("Message-ID").orElse(null));
        text(")");
    }

    private static List<Address> addresses(MimePart message, String field) {
        List<Address> all = new ArrayList<>();
        message.fieldValues(field).forEach(value -> all.addAll(Address.parseList(value)));
        return all;
    }

    private void addressList(List<Address> addresses) {
        if (addresses.isEmpty()) {
            text("NIL");
            return;
        }
        text("(");
        for (Address address : addresses) {
            text("(");
            nstring(address.name());
            text(" ");
            escapedString(address.route());
            text(" ");
            escapedString(address.mailbox());
            text(" ");
            escapedString(address.host());
            text(")");
        }
        text(")");
    }

    private void bodyOf(MimePart part, boolean extensions) {
        text("(");
        if (part.isMultipart()) {
            if (part.parts.isEmpty()) {
                // A multipart without a part found: the empty text part Dovecot gives it.
                text("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0" + (extensions ? " NIL NIL NIL NIL)" : ")"));
            }
            for (MimePart child : part.parts) {
                bodyOf(child, extensions);
            }
            text(" ");
            string(part.subtype);
            if (extensions) {
                text(" ");
                parameters(part.parameters);
                dispositionLanguageAndLocation(part);
            }
        } else {
            string(part.type);
            text(" ");
            string(part.subtype);
            text(" ");
            List<MimePart.Parameter> parameters = part.parameters;
            if (part.type.equals("text") && parameters.stream().noneMatch(p -> p.name().equalsIgnoreCase("charset"))) {
                parameters = new ArrayList<>(parameters);
                parameters.add(0, new MimePart.Parameter("charset", "us-ascii"));
            }
            parameters(parameters);
            text(" ");
            nstring(part.field("Content-ID").orElse(null));
            text(" ");
            nstring(part.field("Content-Description").orElse(null));
            text(" ");
            // As written, case and all, as Dovecot gives it.
            string(part.transferEncoding());
            text(" " + (part.end - part.bodyStart));
            if (part.encapsulated != null) {
                text(" ");
                envelopeOf(part.encapsulated);
                text(" ");
                bodyOf(part.encapsulated, extensions);
                text(" " + part.bodyLines());
            } else if (part.type.equals("text")) {
                text(" " + part.bodyLines());
            }
            if (extensions) {
                text(" ");
                nstring(part.field("Content-MD5").orElse(null));
                dispositionLanguageAndLocation(part);
            }
        }
        text(")");
    }

    /** The extension data every part ends with (RFC 3501 body-ext-1part, body-ext-mpart). */
    private void dispositionLanguageAndLocation(MimePart part) {
        text(" ");
        disposition(part);
        text(" ");
        languages(part);
        text(" ");
        nstring(part.field("Content-Location").orElse(null));
    }

    /** Content-Language as the list of its tags (RFC 3501 body-fld-lang), as Dovecot writes it even for one. */
    private void languages(MimePart part) {
        String field = part.field("Content-Language").orElse(null);
        List<String> tags = field == null ? List.of() : Arrays.stream(LANGUAGE_SEPARATOR.split(COMMENT.matcher(field).replaceAll("")))
                .filter(tag -> !tag.isEmpty()).toList();
        if (tags.isEmpty()) {
            text("NIL");
            return;
        }
        text("(");
        for (int i = 0; i < tags.size(); i++) {
            text(i == 0 ? "" : " ");
            string(tags.get(i));
        }
        text(")");
    }

    private void disposition(MimePart part) {
        String field = part.field("Content-Disposition").orElse(null);
        if (field == null) {
            text("NIL");
            return;
        }
        HeaderValue disposition = HeaderValue.parse(field);
        text("(");
        string(disposition.token());
        text(" ");
        parameters(disposition.parameters());
        text(")");
    }

    private void parameters(List<MimePart.Parameter> written) {
        List<MimePart.Parameter> parameters = Rfc2231.joined(written);
        if (parameters.isEmpty()) {
            text("NIL");
            return;
        }
        text("(");
        boolean first = true;
        for (MimePart.Parameter parameter : parameters) {
            text(first ? "" : " ");
            first = false;
            string(parameter.name().toLowerCase(Locale.ROOT));
            text(" ");
            string(parameter.value());
        }
        text(")");
    }

    private void nstring(String value) {
        if (value == null) {
            text("NIL");
        } else {
            string(value);
        }
    }

    /**
     * An ENVELOPE's date, message id, route, mailbox or host, or NIL: Dovecot writes these quoted
     * with up to {@value #MAX_ESCAPES} quotes and backslashes escaped, where a display name or a
     * subject ({@link #nstring}) goes as a literal at the first.
     */
    private void escapedString(String value) {
        if (value == null) {
            text("NIL");
        } else {
            string(value, MAX_ESCAPES);
        }
    }

    private void string(String written) {
        string(written, 0);
    }

    /**
     * {@code value}, one char an octet, quoted where it can be with at most {@code escapes} quotes
     * and backslashes escaped, else as a literal, as Dovecot writes it: a value folded over lines
     * loses its line breaks, each fold with the space after it becoming one space, and goes as a
     * literal.
     */
    private void string(String written, int escapes) {
        boolean folded = written.indexOf('\r') >= 0 || written.indexOf('\n') >= 0;
        String value = folded ? FOLD.matcher(written).replaceAll(" ").replace("\r", "") : written;
        byte[] octets = value.getBytes(StandardCharsets.ISO_8859_1);
        boolean quotable = !folded;
        int escaped = 0;
        for (byte octet : octets) {
            if (octet == 0 || octet < 0 || ((octet == '"' || octet == '\\') && ++escaped > escapes)) {
                quotable = false;
                break;
            }
        }
        if (quotable) {
            text("\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
        } else {
            text("{" + octets.length + "}\r\n");
            out.writeBytes(octets);
        }
    }

    private void text(String ascii) {
        out.writeBytes(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }
}
