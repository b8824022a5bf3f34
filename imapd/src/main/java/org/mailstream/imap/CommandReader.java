package org.mailstream.imap;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads IMAP commands (RFC 3501 section 2.2, literals as RFC 7888 widens them) from a client:
 * a line, and for each literal announced at its end ({@code {n}} or, without waiting, {@code
 * {n+}}), its octets and the line that follows them. Limits apply before anything is held: a line
 * longer than the limit is read to its end and refused; a literal larger than the limit is
 * refused before any of it is read (a synchronizing one is never invited), and one the client
 * sends unasked ends the connection, as its octets cannot be told from commands.
 */
final class CommandReader {

    private static final Pattern LITERAL_AT_END = Pattern.compile("\\{(\\d{1,10})(\\+?)\\}$");

    /** Told that a synchronizing literal may be sent: writes the continuation request. */
    interface Invitation {
        void invite() throws IOException;
    }

    /** A command that cannot be read; {@code fatal} when the connection must end; {@code tooBig} for a message over the limit. */
    static final class Unreadable extends Exception {
        final boolean fatal;
        final boolean tooBig;
        final String tag;

        Unreadable(String tag, String message, boolean fatal, boolean tooBig) {
            super(message);
            this.tag = tag;
            this.fatal = fatal;
            this.tooBig = tooBig;
        }
    }

    private static final Pattern APPEND = Pattern.compile("[^ ]+ APPEND .*", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    private final InputStream in;
    private final int maxLineBytes;
    private final int maxLiteralBytes;
    private final int maxMessageBytes;

    /** Literals of APPEND (the message) may hold {@code maxMessageBytes}; others {@code maxLiteralBytes}. */
    CommandReader(InputStream in, int maxLineBytes, int maxLiteralBytes, int maxMessageBytes) {
        this.in = in;
        this.maxLineBytes = maxLineBytes;
        this.maxLiteralBytes = maxLiteralBytes;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** The next command's text and literals, in order: Strings and byte arrays; null at the end of input. */
    List<Object> read(Invitation invitation) throws IOException, Unreadable {
        List<Object> parts = new ArrayList<>();
        while (true) {
            String line = line();
            if (line == null) {
                if (parts.isEmpty()) {
                    return null;
                }
                throw new EOFException("the connection ended within a command");
            }
            Matcher literal = LITERAL_AT_END.matcher(line);
            if (!literal.find()) {
                parts.add(line);
                return parts;
            }
            parts.add(line.substring(0, literal.start()));
            long size = Long.parseLong(literal.group(1));
            boolean unasked = !literal.group(2).isEmpty();
            boolean append = APPEND.matcher(parts.get(0).toString()).matches();
            int limit = append ? maxMessageBytes : maxLiteralBytes;
            if (size > limit) {
                String tag = tagOf(parts);
                if (unasked) {
                    throw new Unreadable(tag, "literal of " + size + " octets sent unasked, over the limit of " + limit, true, append);
                }
                throw new Unreadable(tag, "literal of " + size + " octets is over the limit of " + limit, false, append);
            }
            if (!unasked) {
                invitation.invite();
            }
            parts.add(in.readNBytes((int) size));
            if (((byte[]) parts.get(parts.size() - 1)).length < size) {
                throw new EOFException("the connection ended within a literal");
            }
        }
    }

    /** One line without its CRLF (or bare LF), as ISO-8859-1 so that every octet survives; null at the end of input. */
    private String line() throws IOException, Unreadable {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        long length = 0;
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (++length <= maxLineBytes) {
                line.write(b);
            }
        }
        if (b == -1 && length == 0) {
            return null;
        }
        String text = line.toString(StandardCharsets.ISO_8859_1);
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        if (length > maxLineBytes) {
            throw new Unreadable(tagOf(List.of(text)), "command line longer than " + maxLineBytes + " octets", false, false);
        }
        return text;
    }

    /** The tag a refusal answers: the command's first word when it is a valid tag, else "*". */
    private static String tagOf(List<Object> parts) {
        String first = parts.isEmpty() ? "" : parts.get(0).toString();
        String tag = first.split(" ", 2)[0];
        return tag.matches("[\\x21-\\x7e&&[^(){%*\"\\\\+]]{1,64}") ? tag : "*";
    }
}
