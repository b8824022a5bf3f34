package org.mailstream.ingest;

/**
 * The one syntax check ingest-cli makes on a message: it must start with a header section of
 * RFC 5322 fields, ended by an empty line or by the end of the message.
 *
 * <p>A field is a name of printable US-ASCII other than the colon, optional white space (the
 * obsolete syntax that RFC 5322 still asks receivers to accept), and a colon; a line that starts
 * with a space or tab continues the field before it. Field values are not inspected: 8-bit bytes
 * (RFC 6532), long lines and odd bytes in values are the reader's business, and refusing them
 * would bounce mail that Postfix accepted. Lines end in LF, CRLF or any mix of the two.
 */
final class HeaderSection {

    private HeaderSection() {
    }

    /** Null when {@code message} starts with a well-formed header section; otherwise the reason. */
    static String problem(byte[] message) {
        if (message.length == 0) {
            return "empty message";
        }
        int fields = 0;
        int lineNumber = 0;
        for (int start = 0; start < message.length; ) {
            lineNumber++;
            int end = indexOf(message, (byte) '\n', start);
            int contentEnd = end > start && message[end - 1] == '\r' ? end - 1 : end;
            if (contentEnd == start) {
                break;
            }
            byte first = message[start];
            if (first == ' ' || first == '\t') {
                if (fields == 0) {
                    return "header line 1 starts with white space, so it continues no field";
                }
            } else {
                String fieldProblem = fieldNameProblem(message, start, contentEnd);
                if (fieldProblem != null) {
                    return "header line " + lineNumber + " " + fieldProblem;
                }
                fields++;
            }
            start = end + 1;
        }
        return fields == 0 ? "no header fields before the body" : null;
    }

    private static String fieldNameProblem(byte[] message, int start, int end) {
        int i = start;
        while (i < end && message[i] > 32 && message[i] < 127 && message[i] != ':') {
            i++;
        }
        int nameEnd = i;
        while (i < end && (message[i] == ' ' || message[i] == '\t')) {
            i++;
        }
        if (i < end && message[i] == ':' && nameEnd > start) {
            return null;
        }
        if (i < end && message[i] != ':' && nameEnd == i) {
            return String.format("has the byte 0x%02x in its field name", message[i] & 0xff);
        }
        return "is not a header field (name, colon, value)";
    }

    private static int indexOf(byte[] bytes, byte wanted, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return bytes.length;
    }
}
