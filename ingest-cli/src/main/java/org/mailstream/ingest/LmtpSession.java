package org.mailstream.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.DsnRequest;
import org.mailstream.schemas.Recipient;
import org.mailstream.server.Connection;
import org.mailstream.server.Protocol;

/**
 * One LMTP connection (RFC 2033), as Postfix's lmtp(8) client speaks it: LHLO, XFORWARD, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT, pipelined. After DATA it answers once per accepted recipient, in
 * order: 250 only when that recipient's record is acknowledged, 451 for everything that may pass,
 * 5xx only where the message or the address is provably at fault ({@link DeliveryStatus}).
 *
 * <p>DATA is binary-clean: the record holds the content exactly as received, CRLF line ends
 * included, with only the transparency dots removed (RFC 5321 4.5.2). Nothing is decoded. A
 * client that disconnects before the final dot has published nothing. A recipient given twice is
 * published once, and both RCPTs get its reply.
 *
 * <p>Every refusal counts; the one past {@code lmtp.max.errors} ends the connection. XFORWARD is
 * believed only from a unix socket's clients and the networks of {@code lmtp.xforward.allow}.
 */
final class LmtpSession implements Protocol.Session {

    private static final System.Logger LOG = System.getLogger(LmtpSession.class.getName());
    /** RFC 5321 allows 512 octets a command line; Postfix's XFORWARD and RCPT with ORCPT can need more. */
    private static final int MAX_COMMAND_LINE = 4096;

    /** What every session shares: the reply name, configuration, publishing core and metrics. */
    record Context(String hostName, LmtpConfig config, Ingest ingest, Clock clock, LmtpMetrics metrics) implements Protocol {

        @Override
        public String name() {
            return "lmtp";
        }

        @Override
        public Protocol.Session open(Connection connection) {
            return new LmtpSession(this, connection.in(), connection.out(), connection.peer(), connection.address());
        }

        @Override
        public String farewell(Farewell why, String peer) {
            return switch (why) {
                case NOT_ALLOWED -> "554 5.7.1 " + peer + " may not connect";
                case TOO_MANY_CONNECTIONS -> "421 4.3.2 too many connections, try again later";
                case SHUTTING_DOWN -> "421 4.3.2 shutting down, try again later";
                case IDLE -> "421 4.4.2 idle for too long, closing the connection";
                case TRANSACTION_TOO_LONG -> "421 4.4.2 the transaction took too long, closing the connection";
            };
        }
    }

    private final Context context;
    private final ByteReader in;
    private final OutputStream out;
    private final String peer;
    /** The client's address over TCP, null over a unix socket: whether its XFORWARD is believed. */
    private final InetAddress address;
    private final int maxErrors;

    private boolean greeted;
    private int errors;
    /** Set once the connection is to end after the replies written so far. */
    private boolean closing;
    /** The envelope sender of the transaction in progress, or null when there is none. */
    private String sender;
    /** When MAIL opened the transaction in progress, 0 when none is; read by the server's sweeper. */
    private volatile long transactionStartedNanos;
    /** One a RCPT accepted, in order, a recipient given twice included: each gets a reply after DATA. */
    private final List<Recipient> recipients = new ArrayList<>();
    private final Map<Recipient, String> originalRecipients = new LinkedHashMap<>();
    /** What MAIL's RET and ENVID and each RCPT's NOTIFY asked of delivery status notifications. */
    private String dsnReturn;
    private String envelopeId;
    private final Map<Recipient, List<String>> notifyOn = new LinkedHashMap<>();
    private String clientAddress;
    private String queueId;

    /** {@code in} and {@code out} are the connection's: reading flushes {@code out} before it waits. */
    LmtpSession(Context context, InputStream in, OutputStream out, String peer, InetAddress address) {
        this.context = context;
        this.in = new ByteReader(in);
        this.out = out;
        this.peer = peer;
        this.address = address;
        this.maxErrors = context.config().server().maxErrors();
    }

    private boolean inTransaction() {
        return sender != null;
    }

    @Override
    public OptionalLong transactionStartedNanos() {
        long started = transactionStartedNanos;
        return started == 0 ? OptionalLong.empty() : OptionalLong.of(started);
    }

    /** Serves the connection until QUIT, a disconnect, or too many errors. */
    @Override
    public void serve() throws IOException {
        reply("220 " + context.hostName() + " LMTP mailstream ready");
        while (!closing) {
            byte[] line;
            try {
                line = in.readLine(MAX_COMMAND_LINE);
            } catch (LineTooLong e) {
                refuse("500 5.5.2 line too long");
                continue;
            }
            if (line == null) {
                return;
            }
            handle(line);
        }
        out.flush();
    }

    private void handle(byte[] line) throws IOException {
        String command;
        try {
            command = decodeCommand(line);
        } catch (CharacterCodingException e) {
            refuse("500 5.5.2 a command must be UTF-8 without NUL or bare CR");
            return;
        }
        int space = command.indexOf(' ');
        String verb = (space < 0 ? command : command.substring(0, space)).toUpperCase(Locale.ROOT);
        String argument = space < 0 ? "" : command.substring(space + 1);
        switch (verb) {
            case "LHLO" -> lhlo(argument);
            case "XFORWARD" -> xforward(argument);
            case "MAIL" -> mail(argument);
            case "RCPT" -> rcpt(argument);
            case "DATA" -> data(argument);
            case "RSET" -> {
                resetTransaction();
                reply("250 2.0.0 Ok");
            }
            case "NOOP" -> reply("250 2.0.0 Ok");
            case "QUIT" -> {
                reply("221 2.0.0 Bye");
                closing = true;
            }
            case "HELO", "EHLO" -> refuse("500 5.5.1 this is LMTP: say LHLO");
            case "" -> refuse("500 5.5.2 empty command");
            default -> refuse("500 5.5.2 command not recognized");
        }
    }

    private void lhlo(String argument) throws IOException {
        if (argument.isBlank()) {
            refuse("501 5.5.4 LHLO needs a host name");
            return;
        }
        greeted = true;
        resetTransaction();
        reply("250-" + context.hostName());
        reply("250-PIPELINING");
        reply("250-ENHANCEDSTATUSCODES");
        reply("250-8BITMIME");
        reply("250-SMTPUTF8");
        reply("250-DSN");
        reply("250-SIZE " + context.config().maxMessageBytes());
        reply("250 XFORWARD NAME ADDR PROTO HELO IDENT SOURCE");
    }

    /**
     * Postfix's XFORWARD (XFORWARD_README): the original client and queue id, for the envelope,
     * from a client that may say it only, and only as an address and a queue id.
     */
    private void xforward(String argument) throws IOException {
        if (!context.config().xforwardAllowed(address)) {
            refuse("550 5.7.0 XFORWARD is not permitted from " + peer + " (" + LmtpConfig.XFORWARD_ALLOW + ")");
            return;
        }
        if (!greeted || inTransaction()) {
            refuse("503 5.5.1 XFORWARD belongs after LHLO and before MAIL");
            return;
        }
        for (String attribute : argument.trim().split(" +")) {
            int equals = attribute.indexOf('=');
            if (equals <= 0) {
                refuse("501 5.5.4 XFORWARD wants NAME=VALUE pairs");
                return;
            }
            String name = attribute.substring(0, equals).toUpperCase(Locale.ROOT);
            String value = decodeXtext(attribute.substring(equals + 1));
            boolean known = !value.startsWith("[") || !value.endsWith("]"); // [UNAVAILABLE], [TEMPUNAVAIL]
            switch (name) {
                case "ADDR" -> {
                    String literal = value.replaceFirst("(?i)^IPV6:", "");
                    if (known && !literal.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
                        refuse("501 5.5.4 XFORWARD ADDR is not an IP address");
                        return;
                    }
                    clientAddress = known ? literal : null;
                }
                case "IDENT" -> {
                    if (known && !value.matches("[0-9A-Za-z]{1,64}")) {
                        refuse("501 5.5.4 XFORWARD IDENT is not a queue id");
                        return;
                    }
                    queueId = known ? value : null;
                }
                case "NAME", "PROTO", "HELO", "SOURCE", "PORT" -> {
                    // accepted; the envelope has no place for them
                }
                default -> {
                    refuse("501 5.5.4 unknown XFORWARD attribute " + name);
                    return;
                }
            }
        }
        reply("250 2.0.0 Ok");
    }

    private void mail(String argument) throws IOException {
        if (!greeted) {
            refuse("503 5.5.1 say LHLO first");
            return;
        }
        if (inTransaction()) {
            refuse("503 5.5.1 a transaction is already open");
            return;
        }
        Path path = Path.parse(argument, "FROM:");
        if (path == null) {
            refuse("501 5.5.4 syntax: MAIL FROM:<address> [parameters]");
            return;
        }
        for (Map.Entry<String, String> parameter : path.parameters().entrySet()) {
            String value = parameter.getValue();
            switch (parameter.getKey()) {
                case "SIZE" -> {
                    if (value == null || !value.matches("\\d{1,18}")) {
                        refuse("501 5.5.4 SIZE wants a number");
                        return;
                    }
                    if (Long.parseLong(value) > context.config().maxMessageBytes()) {
                        refuse("552 5.3.4 message too large: the limit is " + context.config().maxMessageBytes() + " octets");
                        return;
                    }
                }
                case "BODY" -> {
                    if (value == null || !(value.equalsIgnoreCase("7BIT") || value.equalsIgnoreCase("8BITMIME"))) {
                        refuse("501 5.5.4 BODY is 7BIT or 8BITMIME");
                        return;
                    }
                }
                case "RET" -> {
                    if (value == null || !(value.equalsIgnoreCase("FULL") || value.equalsIgnoreCase("HDRS"))) {
                        refuse("501 5.5.4 RET is FULL or HDRS");
                        return;
                    }
                    dsnReturn = value.toUpperCase(Locale.ROOT);
                }
                case "ENVID" -> envelopeId = value == null ? null : decodeXtext(value);
                case "SMTPUTF8" -> {
                    // accepted: the raw message carries what matters
                }
                default -> {
                    refuse("555 5.5.4 unknown MAIL parameter " + parameter.getKey());
                    return;
                }
            }
        }
        sender = path.address();
        transactionStartedNanos = System.nanoTime();
        reply("250 2.1.0 Ok");
    }

    private void rcpt(String argument) throws IOException {
        if (!inTransaction()) {
            refuse("503 5.5.1 say MAIL first");
            return;
        }
        Path path = Path.parse(argument, "TO:");
        if (path == null) {
            refuse("501 5.5.4 syntax: RCPT TO:<address> [parameters]");
            return;
        }
        String originalRecipient = null;
        List<String> notify = List.of();
        for (Map.Entry<String, String> parameter : path.parameters().entrySet()) {
            switch (parameter.getKey()) {
                case "ORCPT" -> originalRecipient = originalRecipient(parameter.getValue());
                case "NOTIFY" -> {
                    try {
                        notify = DsnRequest.parseNotify(String.valueOf(parameter.getValue()));
                    } catch (IllegalArgumentException e) {
                        refuse("501 5.5.4 " + e.getMessage());
                        return;
                    }
                }
                default -> {
                    refuse("555 5.5.4 unknown RCPT parameter " + parameter.getKey());
                    return;
                }
            }
        }
        Recipient recipient;
        try {
            recipient = Recipient.parse(path.address());
        } catch (IllegalArgumentException e) {
            reply(DeliveryStatus.INVALID_RECIPIENT.reply(e.getMessage()));
            return;
        }
        if (recipients.size() >= context.config().maxRecipients()) {
            reply("452 4.5.3 too many recipients in one transaction");
            return;
        }
        recipients.add(recipient);
        if (originalRecipient != null) {
            originalRecipients.put(recipient, originalRecipient);
        }
        notifyOn.put(recipient, notify);
        reply("250 2.1.5 Ok");
    }

    /** Reads the message, then answers once per recipient. */
    private void data(String argument) throws IOException {
        if (!argument.isBlank()) {
            refuse("501 5.5.4 DATA takes no argument");
            return;
        }
        if (!inTransaction() || recipients.isEmpty()) {
            refuse("503 5.5.1 " + (inTransaction() ? "no valid recipients" : "say MAIL first"));
            return;
        }
        reply("354 End data with <CR><LF>.<CR><LF>");
        byte[] message = in.readData(context.config().maxMessageBytes());
        if (message == null) {
            closing = true; // the client left before the final dot: nothing was published
            return;
        }
        context.metrics().received(message.length);
        Instant deadline = context.clock().instant().plusMillis(context.config().deadlineMs());
        List<String> replies = answers(message, deadline);
        for (String answer : replies) {
            reply(answer);
        }
        context.metrics().transaction(replies);
        if (replies.stream().anyMatch(r -> !r.startsWith("250"))) {
            LOG.log(System.Logger.Level.INFO, "from {0}, queue id {1}, sender <{2}>: {3}", peer, queueId == null ? "-" : queueId,
                    sender, String.join("; ", summarize(replies)));
        }
        resetTransaction();
    }

    private List<String> answers(byte[] message, Instant deadline) {
        if (message.length > context.config().maxMessageBytes()) {
            return repeat(DeliveryStatus.MESSAGE_TOO_LARGE.reply("the limit is " + context.config().maxMessageBytes() + " octets"));
        }
        try {
            Ingest.check(message, context.config());
        } catch (DeliveryException e) {
            return repeat(e.status().reply(e.getMessage()));
        }
        // A recipient given twice is one record: the same key, whatever the case of its domain.
        Map<String, Recipient> byKey = new LinkedHashMap<>();
        recipients.forEach(recipient -> byKey.putIfAbsent(recipient.key(), recipient));
        List<Recipient> distinct = List.copyOf(byKey.values());
        Map<Recipient, DsnRequest> dsn = new LinkedHashMap<>();
        notifyOn.forEach((recipient, notify) -> dsn.put(recipient, new DsnRequest(notify, dsnReturn, envelopeId)));
        Delivery delivery = new Delivery(sender, distinct, Map.copyOf(originalRecipients), Map.copyOf(dsn), queueId, clientAddress,
                message);
        Map<String, String> replyTo = new LinkedHashMap<>();
        try {
            long start = System.nanoTime();
            List<Ingest.Outcome> outcomes = context.ingest().publish(delivery, deadline);
            context.metrics().published(System.nanoTime() - start);
            for (int i = 0; i < outcomes.size(); i++) {
                Ingest.Outcome outcome = outcomes.get(i);
                replyTo.put(distinct.get(i).key(), outcome.acknowledged() ? DeliveryStatus.DELIVERED.reply(null)
                        : outcome.failure().status().reply(outcome.failure().getMessage()));
            }
        } catch (RuntimeException | Error e) {
            // Nothing unforeseen may become a bounce, or a missing reply, which Postfix would wait out.
            DeliveryException failure = Failures.classify(e);
            return repeat(failure.status().reply(failure.getMessage()));
        }
        return recipients.stream().map(recipient -> replyTo.get(recipient.key())).toList();
    }

    private List<String> repeat(String reply) {
        return recipients.stream().map(r -> reply).toList();
    }

    private List<String> summarize(List<String> replies) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < replies.size(); i++) {
            lines.add(recipients.get(i) + ": " + replies.get(i));
        }
        return lines;
    }

    private void resetTransaction() {
        sender = null;
        transactionStartedNanos = 0;
        recipients.clear();
        originalRecipients.clear();
        dsnReturn = null;
        envelopeId = null;
        notifyOn.clear();
        clientAddress = null;
        queueId = null;
    }

    /** Sends an error reply, or, past lmtp.max.errors, says so and ends the connection. */
    private void refuse(String reply) throws IOException {
        if (++errors > maxErrors) {
            reply("421 4.7.0 too many errors, closing the connection");
            closing = true;
            return;
        }
        reply(reply);
    }

    private void reply(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The command as text: UTF-8 (SMTPUTF8), and never a NUL or a CR, which no command has. */
    private static String decodeCommand(byte[] line) throws CharacterCodingException {
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
    private static String originalRecipient(String value) {
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

    /** A command line longer than the limit; it has been read to its end. */
    static final class LineTooLong extends IOException {
        private static final long serialVersionUID = 1L;
    }

    /** Buffered reading of lines and of DATA, byte by byte, without the locking of BufferedInputStream. */
    static final class ByteReader {
        private final InputStream in;
        private final byte[] buffer = new byte[64 * 1024];
        private int position;
        private int limit;

        ByteReader(InputStream in) {
            this.in = in;
        }

        /** The next octet, or -1 at the end of the stream. */
        int read() throws IOException {
            if (position == limit) {
                limit = in.read(buffer, 0, buffer.length);
                position = 0;
                if (limit <= 0) {
                    limit = 0;
                    return -1;
                }
            }
            return buffer[position++] & 0xff;
        }

        /** A line without its LF (and the CR before it); null at the end of the stream. */
        byte[] readLine(int maxLength) throws IOException {
            Growing line = new Growing(128, maxLength);
            boolean tooLong = false;
            int b;
            while ((b = read()) != -1 && b != '\n') {
                if (line.size() < maxLength) {
                    line.add(b);
                } else {
                    tooLong = true;
                }
            }
            if (b == -1 && line.size() == 0) {
                return null;
            }
            if (tooLong) {
                throw new LineTooLong();
            }
            byte[] bytes = line.toArray();
            int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            return java.util.Arrays.copyOf(bytes, end);
        }

        /**
         * The DATA content up to the line that holds only a dot, with the dot that starts any
         * other line removed; octets past {@code maxBytes} are read but kept no further than one
         * past the limit, so that the caller sees it was exceeded. Null when the stream ends first.
         * The buffer grows with what arrives, never with what a client announces (MAIL's SIZE).
         */
        byte[] readData(int maxBytes) throws IOException {
            Growing data = new Growing(16 * 1024, maxBytes + 1);
            long seen = 0;
            boolean lineStart = true;
            boolean afterCr = false;
            while (true) {
                int b = read();
                if (b == -1) {
                    return null;
                }
                if (lineStart && b == '.') {
                    int next = read();
                    if (next == '\r') {
                        int third = read();
                        if (third == '\n') {
                            return data.toArray();
                        }
                        if (third == -1) {
                            return null;
                        }
                        // ".\rX": a stuffed dot before a bare CR
                        seen += keep(data, '\r', seen, maxBytes);
                        b = third;
                        afterCr = true;
                    } else if (next == -1) {
                        return null;
                    } else {
                        b = next; // the transparency dot is dropped
                        afterCr = false;
                    }
                }
                seen += keep(data, b, seen, maxBytes);
                lineStart = b == '\n' && afterCr;
                afterCr = b == '\r';
            }
        }

        private static int keep(Growing data, int b, long seen, int maxBytes) {
            if (seen <= maxBytes) {
                data.add(b);
            }
            return 1;
        }
    }

    /**
     * A byte array that grows by doubling up to a limit, not beyond: unlike ByteArrayOutputStream,
     * a message near the size limit takes that much, not the next power of two.
     */
    private static final class Growing {
        private final int limit;
        private byte[] bytes;
        private int size;

        Growing(int capacity, int limit) {
            this.limit = limit;
            this.bytes = new byte[Math.min(capacity, limit)];
        }

        /** Adds {@code b}; the caller keeps within the limit. */
        void add(int b) {
            if (size == bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, (int) Math.min(limit, Math.max(16L, bytes.length * 2L)));
            }
            bytes[size++] = (byte) b;
        }

        int size() {
            return size;
        }

        byte[] toArray() {
            return java.util.Arrays.copyOf(bytes, size);
        }
    }
}
