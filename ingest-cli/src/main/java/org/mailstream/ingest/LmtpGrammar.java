package org.mailstream.ingest;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The grammar of LMTP's commands (RFC 2033, RFC 5321) and of their DSN parameters (RFC 3461). */
final class LmtpGrammar {

    private LmtpGrammar() {
    }

    /** The command as text: UTF-8 (SMTPUTF8), and never a NUL or a CR, which no command has. */
    static String decodeCommand(byte[] line) throws CharacterCodingException {
        for (byte b : line) {
            if (b == 0 || b == '\r') {
                throw new CharacterCodingException();
            }
        }
        CharBuffer text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(line));
        return text.toString();
    }

    /** ORCPT=rfc822;address (RFC 3461), xtext-decoded; null for other address types. */
    static String originalRecipient(String value) {
        if (value == null) {
            return null;
        }
        int semicolon = value.indexOf(';');
        if (semicolon < 0 || !value.substring(0, semicolon).equalsIgnoreCase("rfc822")) {
            return null;
        }
        return decodeXtext(value.substring(semicolon + 1));
    }

    /** RFC 3461 xtext: "+" and two upper-case hex digits stand for one octet. */
    static String decodeXtext(String xtext) {
        byte[] raw = xtext.getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[raw.length];
        int length = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '+' && i + 2 < raw.length && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
                bytes[length++] = (byte) Integer.parseInt(new String(raw, i + 1, 2, StandardCharsets.US_ASCII), 16);
                i += 2;
            } else {
                bytes[length++] = raw[i];
            }
        }
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    private static boolean isHex(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F') || (b >= 'a' && b <= 'f');
    }

    /** The reverse or forward path of MAIL or RCPT with its parameters, upper-cased keys. */
    record Path(String address, Map<String, String> parameters) {

        /** Null when {@code argument} is not {@code prefix<address> params} (with optional space after the colon). */
        static Path parse(String argument, String prefix) {
            if (!argument.regionMatches(true, 0, prefix, 0, prefix.length())) {
                return null;
            }
            String rest = argument.substring(prefix.length()).stripLeading();
            if (!rest.startsWith("<")) {
                return null;
            }
            int close = closingBracket(rest);
            if (close < 0) {
                return null;
            }
            String address = unquoteLocalPart(stripSourceRoute(rest.substring(1, close)));
            Map<String, String> parameters = new LinkedHashMap<>();
            for (String parameter : rest.substring(close + 1).trim().split(" +")) {
                if (parameter.isEmpty()) {
                    continue;
                }
                int equals = parameter.indexOf('=');
                parameters.put((equals < 0 ? parameter : parameter.substring(0, equals)).toUpperCase(Locale.ROOT),
                        equals < 0 ? null : parameter.substring(equals + 1));
            }
            return new Path(address, parameters);
        }

        /** The '>' that ends the path, outside a quoted local part. */
        private static int closingBracket(String path) {
            boolean quoted = false;
            for (int i = 1; i < path.length(); i++) {
                char c = path.charAt(i);
                if (c == '\\' && quoted) {
                    i++;
                } else if (c == '"') {
                    quoted = !quoted;
                } else if (c == '>' && !quoted) {
                    return i;
                }
            }
            return -1;
        }

        /** "@a,@b:user@c" is user@c: source routes are obsolete (RFC 5321 4.1.2) and to be ignored. */
        private static String stripSourceRoute(String address) {
            if (address.startsWith("@")) {
                int colon = address.indexOf(':');
                return colon < 0 ? address : address.substring(colon + 1);
            }
            return address;
        }

        /**
         * "john doe"@example.com is john doe@example.com: the internal form pipe(8) gives, so that
         * both transports key the same recipient alike.
         */
        private static String unquoteLocalPart(String address) {
            int at = address.lastIndexOf('@');
            if (!address.startsWith("\"") || at < 2 || address.charAt(at - 1) != '"') {
                return address;
            }
            return address.substring(1, at - 1).replaceAll("\\\\(.)", "$1") + address.substring(at);
        }
    }
}
