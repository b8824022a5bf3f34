package org.mailstream.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Recipient;

/**
 * ingest-cli: the Postfix pipe(8) command; its manual page is {@link #MANUAL}. This class is the
 * front end (argv, stdin, one output line, exit status); {@link Ingest} does the work.
 */
public final class IngestCli {

    static final String MANUAL = """
            NAME
                ingest-cli - hand one message from Postfix to Kafka

            SYNOPSIS
                ingest-cli [-c CONFIG] [-f SENDER] [-a ORIGINAL_RECIPIENT] [-q QUEUE_ID]
                           [-i CLIENT_ADDRESS] -d RECIPIENT [RECIPIENT ...]
                ingest-cli --help

            DESCRIPTION
                Reads one message from standard input to its end, checks it, and publishes it
                unchanged to a Kafka topic, one record per recipient, keyed by the recipient with
                its domain lower-cased and carrying the envelope as a record header. It exits as
                soon as the brokers have acknowledged every record (acks=all), and prints nothing
                on success. It never parses MIME and never changes a byte.

                Checks: the message is not empty, not larger than max.message.bytes, and starts
                with a header section of well-formed fields; each recipient is a syntactically
                valid address.

            OPTIONS
                -c CONFIG              configuration file (default /etc/mailstream/ingest.properties)
                -f SENDER              envelope sender; empty for the null sender
                -a ORIGINAL_RECIPIENT  recipient before address rewriting, pipe(8) ${original_recipient}
                -q QUEUE_ID            Postfix queue id, pipe(8) ${queue_id}
                -i CLIENT_ADDRESS      SMTP client IP address, pipe(8) ${client_address}
                -d RECIPIENT ...       one or more recipients; pipe(8) expands -d ${recipient} to
                                       all recipients of the delivery. Must be the last option.

            EXIT STATUS
                0   every record acknowledged
                64  usage error (5.3.0)
                65  malformed message (5.6.0), or message too large (5.2.3)
                67  a recipient address is not valid (5.1.3)
                75  anything else, so Postfix defers and retries: Kafka unavailable or too slow
                    (4.4.1), Kafka refused the record (4.3.0), configuration unreadable or invalid
                    (4.3.5), out of memory (4.3.1), any unexpected failure (4.3.0).
                On failure exactly one line is printed, starting with the enhanced status code;
                pipe(8) puts it in the delivery status notification.

                With several recipients one status covers them all: set the transport's
                destination_recipient_limit to 1 for one status per recipient.

            CONFIGURATION
                Java properties. Every key that starts with kafka. and is not listed below goes to
                the Kafka producer with the prefix removed; acks, enable.idempotence and the
                serializers are fixed. Keep secrets in files through Kafka's config providers
                (kafka.config.providers=file), never on the command line.
            """;

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
        Instant start = Instant.now();
        try {
            CommandLine command = parse(args);
            if (command.hasOption("help")) {
                out.print(MANUAL);
                out.println();
                out.print(IngestConfig.DEFINITION.toRst());
                return DeliveryStatus.DELIVERED.exitCode();
            }
            List<Recipient> recipients = recipients(command);
            IngestConfig config = loadConfig(Path.of(command.getOptionValue("c", IngestConfig.DEFAULT_PATH.toString())));
            // Read to the end before anything can succeed: pipe(8) takes exit 0 from a command that
            // stopped reading early as delivered. One octet past the limit is enough to refuse it.
            byte[] message = in.readNBytes(config.maxMessageBytes() + 1);
            Delivery delivery = new Delivery(command.getOptionValue("f", ""), recipients,
                    optional(command, "a"), optional(command, "q"), optional(command, "i"), message);
            try (Ingest ingest = new Ingest(config, start.plusMillis(config.deadlineMs()), Clock.systemUTC())) {
                ingest.deliver(delivery);
            }
            return DeliveryStatus.DELIVERED.exitCode();
        } catch (Throwable failure) {
            DeliveryException outcome = Failures.classify(failure);
            out.println(outcome.reply());
            out.flush();
            return outcome.status().exitCode();
        }
    }

    private static CommandLine parse(String[] args) throws DeliveryException {
        Options options = new Options()
                .addOption(Option.builder("c").hasArg().get())
                .addOption(Option.builder("f").hasArg().get())
                .addOption(Option.builder("a").hasArg().get())
                .addOption(Option.builder("q").hasArg().get())
                .addOption(Option.builder("i").hasArg().get())
                .addOption(Option.builder("d").hasArgs().get())
                .addOption(Option.builder().longOpt("help").get());
        try {
            CommandLine command = DefaultParser.builder().get().parse(options, args);
            if (!command.getArgList().isEmpty()) {
                throw new DeliveryException(DeliveryStatus.USAGE_ERROR,
                        "unexpected argument '" + command.getArgList().get(0) + "'; see ingest-cli --help");
            }
            if (!command.hasOption("help") && !command.hasOption("d")) {
                throw new DeliveryException(DeliveryStatus.USAGE_ERROR, "no recipient: -d RECIPIENT is required");
            }
            return command;
        } catch (ParseException e) {
            throw new DeliveryException(DeliveryStatus.USAGE_ERROR, e.getMessage() + "; see ingest-cli --help");
        }
    }

    /** pipe(8) expands a macro with no value, such as ${client_address} of local mail, to "". */
    private static String optional(CommandLine command, String option) {
        String value = command.getOptionValue(option);
        return value == null || value.isEmpty() ? null : value;
    }

    private static List<Recipient> recipients(CommandLine command) throws DeliveryException {
        List<Recipient> recipients = new ArrayList<>();
        for (String address : command.getOptionValues("d")) {
            try {
                recipients.add(Recipient.parse(address));
            } catch (IllegalArgumentException e) {
                throw new DeliveryException(DeliveryStatus.INVALID_RECIPIENT,
                        "'" + printable(address) + "': " + e.getMessage());
            }
        }
        return recipients;
    }

    private static IngestConfig loadConfig(Path file) throws DeliveryException {
        try {
            return IngestConfig.load(file);
        } catch (IOException e) {
            throw new DeliveryException(DeliveryStatus.CONFIGURATION_ERROR, "cannot read " + file + ": " + e, e);
        } catch (ConfigException e) {
            throw new DeliveryException(DeliveryStatus.CONFIGURATION_ERROR, file + ": " + e.getMessage(), e);
        }
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
