package org.mailstream.imap;

import jakarta.mail.internet.MimeUtility;
import java.io.UnsupportedEncodingException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SEARCH's criteria (RFC 3501 6.4.4), parsed into a tree and tested message by message. Flags,
 * sizes, internal dates and numbers come from the session's view; header fields, the date sent
 * and text are looked for in the message as served, ignoring case, read only when a key needs it.
 */
interface Search {

    /** A message as a search sees it: its number, the folder's largest number and UID, its content on demand. */
    record Candidate(SelectedFolder.Message message, int number, int count, long largestUid, Content content) {
    }

    /** A read of a message as served, or of its header section. */
    interface Read {
        MimePart read() throws Mailstore.Failure;
    }

    /**
     * The message as served, read when a key first needs it: only its header section when no key
     * needs more (a search of senders or subjects reads a few KB a message, not the message).
     */
    interface Content {
        /** The message, or as much of it as holds its whole header section. */
        MimePart header() throws Mailstore.Failure;

        MimePart whole() throws Mailstore.Failure;

        /** {@code header} and {@code whole}, each read at most once however many keys ask, the header not once the whole is read. */
        static Content once(Read header, Read whole) {
            MimePart[] read = new MimePart[2];
            return new Content() {
                @Override
                public MimePart header() throws Mailstore.Failure {
                    return read[1] != null ? read[1] : read[0] != null ? read[0] : (read[0] = header.read());
                }

                @Override
                public MimePart whole() throws Mailstore.Failure {
                    return read[1] != null ? read[1] : (read[1] = whole.read());
                }
            };
        }
    }

    boolean matches(Candidate candidate) throws Mailstore.Failure;

    DateTimeFormatter DATE = DateTimeFormatter.ofPattern("d-MMM-yyyy", Locale.ROOT);

    /** The start of an encoded word (RFC 2047): its charset, an RFC 2231 language if any, its encoding. */
    Pattern ENCODED_WORD_START = Pattern.compile("=\\?([^?*]+)(\\*[^?]*)?\\?([QqBb])\\?");
    /** How deep NOT, OR and parentheses may nest: deeper than any client writes, shallow enough for the session's stack. */
    int MAX_NESTING = 100;

    /** The criteria of a SEARCH, after an optional CHARSET (UTF-8 or US-ASCII). */
    static Search parse(Arguments arguments) throws Arguments.Bad {
        List<Search> all = new ArrayList<>();
        String first = arguments.peek() == '(' ? null : arguments.word();
        if (first != null && first.equalsIgnoreCase("CHARSET")) {
            arguments.space();
            String charset = arguments.astring();
            if (!charset.equalsIgnoreCase("UTF-8") && !charset.equalsIgnoreCase("US-ASCII")) {
                throw new Arguments.Bad("[BADCHARSET (UTF-8 US-ASCII)] charset " + charset + " is not served");
            }
            arguments.space();
            first = null;
        }
        all.add(key(arguments, first, 0));
        while (arguments.take(' ')) {
            all.add(key(arguments, null, 0));
        }
        arguments.end();
        return all(all);
    }

    private static Search all(List<Search> keys) {
        return candidate -> {
            for (Search key : keys) {
                if (!key.matches(candidate)) {
                    return false;
                }
            }
            return true;
        };
    }

    /** One search key, {@code depth} keys deep; {@code word} is its first word when already read. */
    private static Search key(Arguments arguments, String word, int depth) throws Arguments.Bad {
        if (depth > MAX_NESTING) {
            throw new Arguments.Bad("search keys nested more than " + MAX_NESTING + " deep");
        }
        if (word == null && arguments.take('(')) {
            List<Search> inner = new ArrayList<>();
            inner.add(key(arguments, null, depth + 1));
            while (arguments.take(' ')) {
                inner.add(key(arguments, null, depth + 1));
            }
            arguments.expect(')');
            return all(inner);
        }
        String name = (word != null ? word : arguments.word()).toUpperCase(Locale.ROOT);
        if (name.matches("[0-9*][0-9*:,]*")) {
            SequenceSet set = SequenceSet.parse(name);
            return c -> set.contains(c.number(), c.count());
        }
        return switch (name) {
            case "ALL", "OLD" -> c -> true;
            case "NEW", "RECENT" -> c -> false;
            case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN" -> flag("\\" + name.charAt(0) + name.substring(1).toLowerCase(Locale.ROOT));
            case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN" -> not(flag("\\" + name.charAt(2) + name.substring(3).toLowerCase(Locale.ROOT)));
            case "KEYWORD" -> flag(argument(arguments));
            case "UNKEYWORD" -> not(flag(argument(arguments)));
            case "NOT" -> {
                arguments.space();
                yield not(key(arguments, null, depth + 1));
            }
            case "OR" -> {
                arguments.space();
                Search left = key(arguments, null, depth + 1);
                arguments.space();
                Search right = key(arguments, null, depth + 1);
                yield c -> left.matches(c) || right.matches(c);
            }
            case "UID" -> {
                SequenceSet set = SequenceSet.parse(argument(arguments));
                yield c -> set.contains(c.message().uid(), c.largestUid());
            }
            case "LARGER" -> {
                long size = number(argument(arguments));
                yield c -> c.message().size() > size;
            }
            case "SMALLER" -> {
                long size = number(argument(arguments));
                yield c -> c.message().size() < size;
            }
            case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE" -> {
                LocalDate day = date(argument(arguments));
                boolean sent = name.startsWith("SENT");
                String relation = sent ? name.substring("SENT".length()) : name;
                yield c -> {
                    LocalDate date = sent ? SentDate.of(c.content().header()) : c.message().received().atOffset(ZoneOffset.UTC).toLocalDate();
                    return relation.equals("BEFORE") ? date.isBefore(day) : relation.equals("ON") ? date.equals(day) : !date.isBefore(day);
                };
            }
            case "FROM", "TO", "CC", "BCC", "SUBJECT" -> header(name, argument(arguments));
            case "HEADER" -> {
                String field = argument(arguments);
                yield header(field, argument(arguments));
            }
            case "BODY" -> text(argument(arguments), true);
            case "TEXT" -> text(argument(arguments), false);
            default -> throw new Arguments.Bad("no such search key: " + name);
        };
    }

    private static String argument(Arguments arguments) throws Arguments.Bad {
        arguments.space();
        return arguments.astring();
    }

    private static Search flag(String flag) {
        return c -> Flags.has(c.message().flags(), flag);
    }

    private static Search not(Search key) {
        return c -> !key.matches(c);
    }

    private static long number(String text) throws Arguments.Bad {
        if (!text.matches("\\d{1,18}")) {
            throw new Arguments.Bad("not a number: " + text);
        }
        return Long.parseLong(text);
    }

    private static LocalDate date(String text) throws Arguments.Bad {
        try {
            return LocalDate.parse(text, DATE);
        } catch (DateTimeParseException e) {
            throw new Arguments.Bad("not a date (d-Mon-yyyy): " + text);
        }
    }

    /**
     * The field's values in the header contain {@code value}, ignoring case, as a reader sees them:
     * encoded words (RFC 2047) decoded, as Dovecot searches; an empty value matches any message
     * with the field.
     */
    private static Search header(String field, String value) {
        FetchItem fields = FetchItem.headerFields(List.of(field));
        String wanted = value.toLowerCase(Locale.ROOT);
        return c -> {
            for (String line : unfolded(fields.select(c.content().header())).split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon >= 0 && decoded(line.substring(colon + 1)).toLowerCase(Locale.ROOT).contains(wanted)) {
                    return true;
                }
            }
            return false;
        };
    }

    /**
     * {@code value} with its encoded words decoded; one that names a charset this JVM lacks is read
     * as UTF-8, as Dovecot reads it, so that the words around it are still decoded and what ASCII
     * it holds is still found (the library would give up on the whole value).
     */
    private static String decoded(String value) {
        String readable = ENCODED_WORD_START.matcher(value).replaceAll(word -> MimePart.charset(word.group(1)).isPresent()
                ? Matcher.quoteReplacement(word.group()) : "=?UTF-8?" + word.group(3) + "?");
        try {
            return MimeUtility.decodeText(readable);
        } catch (UnsupportedEncodingException unknownCharset) {
            return value;
        }
    }

    /**
     * The body contains {@code value}, ignoring case, as a reader sees it (Dovecot's rule): the
     * text parts, their transfer encoding undone and in their charset, not their MIME headers; for
     * TEXT, the headers of the message and of its parts too, their encoded words decoded.
     */
    private static Search text(String value, boolean bodyOnly) {
        String wanted = value.toLowerCase(Locale.ROOT);
        return c -> {
            MimePart message = c.content().whole();
            if (!bodyOnly && message.withParts().anyMatch(part -> decoded(unfolded(part.header())).toLowerCase(Locale.ROOT).contains(wanted))) {
                return true;
            }
            return message.leaves().stream().anyMatch(leaf -> leaf.searchableText().toLowerCase(Locale.ROOT).contains(wanted));
        };
    }

    /** A header section as text, each field on one line. */
    private static String unfolded(byte[] header) {
        return new String(header, StandardCharsets.UTF_8).replaceAll("\r\n([ \t])", "$1");
    }
}
