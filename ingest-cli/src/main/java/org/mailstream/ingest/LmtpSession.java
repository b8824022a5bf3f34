package org.mailstream.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.DsnRequest;
import org.mailstream.schemas.Recipient;
import org.mailstream.server.Connection;
import org.mailstream.server.Protocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>This class is the session's states and commands; the wire is {@link LmtpReader}, the
 * commands' grammar {@link LmtpGrammar}, and the transaction with its delivery {@link LmtpTransaction}.
 */
final class LmtpSession implements Protocol.Session {

    private static final Logger LOG = LoggerFactory.getLogger(LmtpSession.class);
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
    private final LmtpReader in;
    private final OutputStream out;
    private final String peer;
    /** The client's address over TCP, null over a unix socket: whether its XFORWARD is believed. */
    private final InetAddress address;
    private final int maxErrors;

    private boolean greeted;
    private int errors;
    /** Set once the connection is to end after the replies written so far. */
    private boolean closing;
    private LmtpTransaction transaction = new LmtpTransaction();
    /** When MAIL opened the transaction in progress, 0 when none is; read by the server's sweeper. */
    private volatile long transactionStartedNanos;

    /** {@code in} and {@code out} are the connection's: reading flushes {@code out} before it waits. */
    LmtpSession(Context context, InputStream in, OutputStream out, String peer, InetAddress address) {
        this.context = context;
        this.in = new LmtpReader(in);
        this.out = out;
        this.peer = peer;
        this.address = address;
        this.maxErrors = context.config().server().maxErrors();
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
            } catch (LmtpReader.LineTooLong e) {
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
            command = LmtpGrammar.decodeCommand(line);
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
        if (!greeted || transaction.isOpen()) {
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
            String value = LmtpGrammar.decodeXtext(attribute.substring(equals + 1));
            boolean known = !value.startsWith("[") || !value.endsWith("]"); // [UNAVAILABLE], [TEMPUNAVAIL]
            switch (name) {
                case "ADDR" -> {
                    String literal = value.replaceFirst("(?i)^IPV6:", "");
                    if (known && !literal.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
                        refuse("501 5.5.4 XFORWARD ADDR is not an IP address");
                        return;
                    }
                    transaction.forwardedClientAddress(known ? literal : null);
                }
                case "IDENT" -> {
                    if (known && !value.matches("[0-9A-Za-z]{1,64}")) {
                        refuse("501 5.5.4 XFORWARD IDENT is not a queue id");
                        return;
                    }
                    transaction.forwardedQueueId(known ? value : null);
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
        if (transaction.isOpen()) {
            refuse("503 5.5.1 a transaction is already open");
            return;
        }
        LmtpGrammar.Path path = LmtpGrammar.Path.parse(argument, "FROM:");
        if (path == null) {
            refuse("501 5.5.4 syntax: MAIL FROM:<address> [parameters]");
            return;
        }
        String dsnReturn = null;
        String envelopeId = null;
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
                case "ENVID" -> envelopeId = value == null ? null : LmtpGrammar.decodeXtext(value);
                case "SMTPUTF8" -> {
                    // accepted: the raw message carries what matters
                }
                default -> {
                    refuse("555 5.5.4 unknown MAIL parameter " + parameter.getKey());
                    return;
                }
            }
        }
        transaction.open(path.address(), dsnReturn, envelopeId);
        transactionStartedNanos = System.nanoTime();
        reply("250 2.1.0 Ok");
    }

    private void rcpt(String argument) throws IOException {
        if (!transaction.isOpen()) {
            refuse("503 5.5.1 say MAIL first");
            return;
        }
        LmtpGrammar.Path path = LmtpGrammar.Path.parse(argument, "TO:");
        if (path == null) {
            refuse("501 5.5.4 syntax: RCPT TO:<address> [parameters]");
            return;
        }
        String originalRecipient = null;
        List<String> notify = List.of();
        for (Map.Entry<String, String> parameter : path.parameters().entrySet()) {
            switch (parameter.getKey()) {
                case "ORCPT" -> originalRecipient = LmtpGrammar.originalRecipient(parameter.getValue());
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
        if (transaction.recipients().size() >= context.config().maxRecipients()) {
            reply("452 4.5.3 too many recipients in one transaction");
            return;
        }
        transaction.add(recipient, originalRecipient, notify);
        reply("250 2.1.5 Ok");
    }

    /** Reads the message, then answers once per recipient. */
    private void data(String argument) throws IOException {
        if (!argument.isBlank()) {
            refuse("501 5.5.4 DATA takes no argument");
            return;
        }
        if (!transaction.isOpen() || transaction.recipients().isEmpty()) {
            refuse("503 5.5.1 " + (transaction.isOpen() ? "no valid recipients" : "say MAIL first"));
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
        List<LmtpTransaction.Reply> replies = transaction.deliver(message, deadline, context.config(), context.ingest(), context.metrics());
        for (LmtpTransaction.Reply answer : replies) {
            reply(answer.line());
        }
        context.metrics().transaction(replies);
        if (!replies.stream().allMatch(LmtpTransaction.Reply::delivered)) {
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < replies.size(); i++) {
                lines.add(transaction.recipients().get(i) + ": " + replies.get(i).line());
            }
            LOG.info("from {}, queue id {}, sender <{}>: {}", peer,
                    transaction.queueId() == null ? "-" : transaction.queueId(), transaction.sender(), String.join("; ", lines));
        }
        resetTransaction();
    }

    private void resetTransaction() {
        transaction = new LmtpTransaction();
        transactionStartedNanos = 0;
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
}
