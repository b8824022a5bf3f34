package org.mailstream.ingest;

import static org.mailstream.config.CommandDeclaration.option;

import java.io.InputStream;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.kafka.clients.producer.Producer;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Recipient;

/**
 * ingest-cli: the Postfix pipe(8) command. Its manual page, {@code ingest-cli --help}, is made
 * from {@link #COMMAND}: the options declared there, the exit statuses of {@link DeliveryStatus},
 * and the configuration keys of {@link IngestConfig#DEFINITION}. This class is the front end
 * (argv, stdin, one output line, exit status); {@link Ingest} does the work.
 */
public final class IngestCli {

    static {
        // pipe(8) puts everything the command prints into the bounce or the deferral's reason:
        // the Kafka client must say nothing, and ingest-cli reports in its one line. So its
        // logging goes to SLF4J's no-operation provider, named rather than found (no class path
        // scan, no logger configuration read: 20 ms less of a start), and SLF4J's own notices are
        // off. First in the class, before anything it loads starts the logging.
        System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
        System.setProperty("slf4j.internal.verbosity", "ERROR");
    }

    private static final Option SENDER = option("f", null, "SENDER", "envelope sender; empty for the null sender");
    private static final Option ORIGINAL_RECIPIENT = option("a", null, "ORIGINAL_RECIPIENT",
            "recipient before address rewriting, pipe(8) ${original_recipient}");
    private static final Option QUEUE_ID = option("q", null, "QUEUE_ID", "Postfix queue id, pipe(8) ${queue_id}");
    private static final Option CLIENT_ADDRESS = option("i", null, "CLIENT_ADDRESS", "SMTP client IP address, pipe(8) ${client_address}");
    private static final Option RECIPIENTS = option("d", null, "RECIPIENT ...",
            "one or more recipients; pipe(8) expands -d ${recipient} to all recipients of the delivery. Must be the last option.");

    /** {@code ingest-cli check}: the pre-flight. */
    private static final CommandDeclaration CHECK = IngestCheck.declaration("ingest-cli", IngestConfig.DEFAULT_PATH);

    public static final CommandDeclaration COMMAND = exitStatuses(new CommandDeclaration("ingest-cli", "hand one message from Postfix to Kafka", """
            Reads one message from standard input to its end, checks it, and publishes it
            unchanged to a Kafka topic, one record per recipient, keyed by the recipient with
            its domain lower-cased and carrying the envelope as a record header. It exits as
            soon as the brokers have acknowledged every record (acks=all), and prints nothing
            on success. It never parses MIME and never changes a byte.

            Checks: the message is not empty, not larger than max.message.bytes, and starts
            with a header section of well-formed fields; each recipient is a syntactically
            valid address.

            On failure exactly one line is printed, starting with the enhanced status code;
            pipe(8) puts it in the delivery status notification. Only 75 makes Postfix defer
            and retry; every other failure bounces the mail to its sender.

            With several recipients one status covers them all: set the transport's
            destination_recipient_limit to 1 for one status per recipient.
            """)
            .configurationFile(IngestConfig.DEFAULT_PATH)
            .optional(SENDER).optional(ORIGINAL_RECIPIENT).optional(QUEUE_ID).optional(CLIENT_ADDRESS)
            .required(RECIPIENTS)
            .subcommand(CHECK)
            .configuration(IngestConfig.DEFINITION, """
                    Java properties. Every key that starts with kafka. and is not listed below goes to
                    the Kafka producer with the prefix removed; acks, enable.idempotence and the
                    serializers are fixed. Keep secrets in files through Kafka's config providers
                    (kafka.config.providers=file), never on the command line.
                    """));

    private IngestCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out));
    }

    /**
     * Runs one delivery and returns its exit status. Prints nothing on success and exactly one
     * line on failure, to {@code out}: pipe(8) reads standard output and standard error alike.
     */
    static int run(String[] args, InputStream in, PrintStream out) {
        if (args.length > 0 && args[0].equals("check")) {
            return IngestCheck.run(CHECK, Arrays.copyOfRange(args, 1, args.length), out, IngestConfig::load);
        }
        Instant start = Instant.now();
        return COMMAND.run(args, endings(out), IngestCli::envelope, IngestConfig::load,
                (envelope, config) -> deliver(envelope, config, in, start.plusMillis(config.deadlineMs())));
    }

    private static int deliver(Envelope envelope, IngestConfig config, InputStream in, Instant deadline) throws Exception {
        // Read to the end before anything can succeed: pipe(8) takes exit 0 from a command that
        // stopped reading early as delivered. One octet past the limit is enough to refuse it.
        byte[] message = in.readNBytes(config.maxMessageBytes() + 1);
        Ingest.check(message, config);
        Delivery delivery = new Delivery(envelope.sender(), envelope.recipients(), envelope.originalRecipients(), Map.of(),
                envelope.queueId(), envelope.clientAddress(), message);
        // Created only for a message that passed the checks: most of ingest-cli's cost is here.
        Producer<byte[], byte[]> producer = Ingest.producer(config, Duration.between(Instant.now(), deadline));
        try {
            for (Ingest.Outcome outcome : new Ingest(config, producer, Clock.systemUTC()).publish(delivery, deadline)) {
                if (!outcome.acknowledged()) {
                    throw outcome.failure();
                }
            }
        } finally {
            // Every record is acknowledged or abandoned by now: nothing is left to wait for.
            producer.close(Duration.ZERO);
        }
        return DeliveryStatus.DELIVERED.exitCode();
    }

    /**
     * How a delivery ends when it does not: exactly one line, the reply of {@link Failures}'
     * verdict, which pipe(8) puts in the delivery status notification.
     */
    private static CommandDeclaration.Endings endings(PrintStream out) {
        return new CommandDeclaration.Endings() {
            @Override
            public int help(String manual) {
                out.print(manual);
                return DeliveryStatus.DELIVERED.exitCode();
            }

            @Override
            public int usage(String problem) {
                return failed(new DeliveryException(DeliveryStatus.USAGE_ERROR, problem));
            }

            @Override
            public int configuration(String problem) {
                return failed(new DeliveryException(DeliveryStatus.CONFIGURATION_ERROR, problem));
            }

            @Override
            public int failed(Throwable failure) {
                DeliveryException outcome = Failures.classify(failure);
                out.println(outcome.reply());
                out.flush();
                return outcome.status().exitCode();
            }
        };
    }

    /** The EXIT STATUS section: {@link DeliveryStatus}, one line per exit status with every outcome that has it. */
    private static CommandDeclaration exitStatuses(CommandDeclaration command) {
        Map<Integer, String> meanings = new TreeMap<>();
        for (DeliveryStatus status : DeliveryStatus.values()) {
            meanings.merge(status.exitCode(), status.text() + " (" + status.enhancedCode() + ")", (a, b) -> a + "; " + b);
        }
        meanings.forEach(command::exitStatus);
        return command;
    }

    /** pipe(8) expands a macro with no value, such as ${client_address} of local mail, to "". */
    private static String optional(CommandLine command, Option option) {
        String value = command.getOptionValue(option);
        return value == null || value.isEmpty() ? null : value;
    }

    /** What the command line says of the delivery, checked before the message is read. */
    private record Envelope(String sender, List<Recipient> recipients, Map<Recipient, String> originalRecipients, String queueId,
            String clientAddress) {
    }

    private static Envelope envelope(CommandLine command) throws DeliveryException {
        List<Recipient> recipients = new ArrayList<>();
        for (String address : command.getOptionValues(RECIPIENTS)) {
            try {
                recipients.add(Recipient.parse(address));
            } catch (IllegalArgumentException e) {
                throw new DeliveryException(DeliveryStatus.INVALID_RECIPIENT,
                        "'" + printable(address) + "': " + e.getMessage());
            }
        }
        String originalRecipient = optional(command, ORIGINAL_RECIPIENT);
        return new Envelope(command.getOptionValue(SENDER, ""), recipients,
                originalRecipient == null ? Map.of() : recipients.stream().distinct().collect(Collectors.toMap(r -> r, r -> originalRecipient)),
                optional(command, QUEUE_ID), optional(command, CLIENT_ADDRESS));
    }

    /** Control characters shown as \\xNN, so that a hostile address cannot forge DSN lines. */
    private static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
