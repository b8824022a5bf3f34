package org.mailstream.ingest;

import static org.mailstream.config.CommandDeclaration.EX_CONFIG;
import static org.mailstream.config.CommandDeclaration.EX_OK;
import static org.mailstream.config.CommandDeclaration.EX_SOFTWARE;
import static org.mailstream.config.CommandDeclaration.EX_USAGE;

import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.kafka.clients.admin.Admin;
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

    private IngestCheck() {
    }

    /** The check subcommand of {@code program}, whose configuration is read from {@code defaultConfig} unless -c says otherwise. */
    static CommandDeclaration declaration(String program, Path defaultConfig) {
        return new CommandDeclaration(program + " check", "check what publishing needs, before mail flows", """
                Checks, one line each, what the front end needs with its configuration: that the
                brokers answer; that the topic exists, with a min.insync.replicas its
                replication can meet (a replication factor of 1 is a warning); that the principal
                may write it (brokers without an authorizer grant every right); and that its
                max.message.bytes takes the largest message accepted (max.message.bytes of the
                configuration) with its envelope. It publishes nothing. Each line starts with ok,
                warn or FAIL.

                """).configurationFile(defaultConfig)
                .exitStatus(EX_OK, "every check passed (a warning does not fail), or --help")
                .exitStatus(EX_USAGE, "usage error")
                .exitStatus(EX_SOFTWARE, "internal error")
                .exitStatus(EX_CONFIG, "configuration missing, unreadable or invalid, or a check failed");
    }

    /** Runs {@code declaration}'s checks with the configuration {@code load} reads; returns the exit status. */
    static int run(CommandDeclaration declaration, String[] args, PrintStream out, CommandDeclaration.Loader<? extends IngestConfig> load) {
        return declaration.run(args, declaration.sysexits(out), load, (command, config) -> {
            CheckReport report = new CheckReport(out);
            check(config, report);
            return report.failed() ? EX_CONFIG : EX_OK;
        });
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
