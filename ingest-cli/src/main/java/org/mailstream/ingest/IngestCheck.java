package org.mailstream.ingest;

import static org.mailstream.config.CommandDeclaration.option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.ParseException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.acl.AclOperation;
import org.mailstream.config.CheckReport;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.config.KafkaChecks;

/**
 * {@code ingest-cli check} and {@code ingest-lmtpd check}: the pre-flight of the ingest front
 * ends, one line a check: the brokers answer, the topic exists with a replication that can
 * acknowledge writes, the principal may write it, and it takes the largest message accepted.
 */
final class IngestCheck {

    // How ingest-cli check and ingest-lmtpd check end.
    private static final int PASSED = 0;
    private static final int USAGE = 64;
    private static final int FAILED = 78;

    private IngestCheck() {
    }

    /** The check subcommand of {@code program}, whose configuration is read from {@code defaultConfig} unless -c says otherwise. */
    static CommandDeclaration declaration(String program, Path defaultConfig) {
        Option config = option("c", null, "CONFIG", "configuration file (default " + defaultConfig + ")");
        return new CommandDeclaration(program + " check", "check what publishing needs, before mail flows", """
                Checks, one line each, what the front end needs with its configuration: that the
                brokers answer; that the topic exists, with a min.insync.replicas its
                replication can meet (a replication factor of 1 is a warning); that the principal
                may write it (brokers without an authorizer grant every right); and that its
                max.message.bytes takes the largest message accepted (max.message.bytes of the
                configuration) with its envelope. It publishes nothing. Each line starts with ok,
                warn or FAIL.

                """).optional(config)
                .exitStatus(PASSED, "every check passed (a warning does not fail), or --help")
                .exitStatus(USAGE, "usage error")
                .exitStatus(FAILED, "configuration missing, unreadable or invalid, or a check failed");
    }

    /**
     * Runs {@code declaration}'s checks with the configuration {@code load} reads; returns the
     * exit status. A configuration that we or Kafka refuse fails too (ConfigException is a KafkaException).
     */
    static int run(CommandDeclaration declaration, String[] args, PrintStream out, Loader load, Path defaultConfig) {
        CommandLine command;
        try {
            command = declaration.parse(args);
        } catch (ParseException e) {
            out.println(declaration.name() + ": " + e.getMessage());
            return USAGE;
        }
        if (command.hasOption("help")) {
            out.print(declaration.manual());
            return PASSED;
        }
        Path file = Path.of(command.getOptionValue("c", defaultConfig.toString()));
        IngestConfig config;
        try {
            config = load.load(file);
        } catch (IOException e) {
            out.println(declaration.name() + ": configuration " + file + ": " + DeclaredConfig.describe(file, e));
            return FAILED;
        } catch (KafkaException e) {
            out.println(declaration.name() + ": configuration " + file + ": "
                    + (e instanceof ConfigException refused ? DeclaredConfig.describe(refused) : e.getMessage()));
            return FAILED;
        }
        CheckReport report = new CheckReport(out);
        try {
            check(config, report);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            report.fail("interrupted");
        }
        return report.failed() ? FAILED : PASSED;
    }

    /** A front end's configuration loader: IngestConfig::load or LmtpConfig::load. */
    interface Loader {
        IngestConfig load(Path file) throws IOException;
    }

    private static void check(IngestConfig config, CheckReport report) throws InterruptedException {
        try (Admin admin = Admin.create(DeclaredConfig.adminSettings(config.producerSettings()))) {
            KafkaChecks kafka = new KafkaChecks(admin, report);
            if (!kafka.brokersAnswer(String.join(",", config.getList(DeclaredConfig.BOOTSTRAP_SERVERS)))) {
                return;
            }
            KafkaChecks.Topic topic = kafka.topic("topic", config.topic(), AclOperation.WRITE);
            if (topic != null) {
                long needed = (long) config.maxMessageBytes() + IngestConfig.RECORD_OVERHEAD_BYTES;
                report.report(topic.maxMessageBytes() >= needed,
                        "topic " + topic.name() + ": max.message.bytes " + topic.maxMessageBytes() + " takes the largest message accepted ("
                                + config.maxMessageBytes() + ") with its envelope",
                        "topic " + topic.name() + ": max.message.bytes " + topic.maxMessageBytes() + " cannot take the largest message "
                                + "accepted (max.message.bytes " + config.maxMessageBytes() + ") with its envelope, so such mail would be "
                                + "deferred until it expires: raise the topic's to " + needed + " or lower ours");
            }
        }
    }
}
