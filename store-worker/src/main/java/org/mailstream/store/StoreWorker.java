package org.mailstream.store;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * store-worker: consumes the mail topic and stores every message in one OpenLDAP back end; its
 * manual page is {@link #MANUAL}.
 */
public final class StoreWorker {

    static final String MANUAL = """
            NAME
                store-worker - store mail from Kafka in an OpenLDAP back end

            SYNOPSIS
                store-worker [-c CONFIG]
                store-worker replay [-c CONFIG] (--from-earliest | --from-time TIME | --from-offsets P=O,...)
                                    [--mode fill|reparse] [--execute]
                store-worker redrive [-c CONFIG] [--execute]
                store-worker --help
                store-worker replay --help
                store-worker redrive --help

            DESCRIPTION
                A member of the consumer group of one back end. For each record it finds the
                recipient's mailbox owner with the configured filter, creates cn=FOLDER below the
                owner when missing, and adds one mailStoreMessage entry named by the message id
                (the SHA-256 of the raw bytes): the raw message in mailStoreRaw, the envelope, and
                index attributes from Jakarta Mail's parse of the header. A message whose header
                does not parse is stored raw with mailStoreParseError.

                Exactly once from at-least-once: an entry that already exists is the same message
                delivered again, and counts as stored. Offsets are committed only after the
                writes they cover. Records that can never be stored (no such mailbox, too large
                for the back end, refused by the schema) go to the dead-letter topic unchanged,
                with the reason in headers. A back end that is down or busy pauses storing and is
                retried; nothing is skipped.

                Records of one partition, and so of one recipient, are stored in order; several
                partitions are stored at once, one LDAP connection each.

                Several back ends: every back end's group reads the whole topic, and each worker
                stores only the records whose recipient routing.backends and routing.pins give
                to its own back end, passing over (and committing past) the rest. The rule is a
                pure function of the address, so every worker and every replay agrees.

                replay stores a back end's mail again from the topic (rebuild a lost back end, fill a
                new one, or re-index after a parser change); redrive stores the dead letters that can
                be stored now. Each prints its plan and changes nothing without --execute; see
                their own --help.

                SIGTERM or SIGINT: stop polling, finish the writes in flight, commit, leave the
                group, exit. Logs go to standard error.

            OPTIONS
                -c CONFIG   configuration file (default /etc/mailstream/store-worker.properties)

            EXIT STATUS
                0   --help
                143 stopped by SIGTERM (130 by SIGINT), after committing everything written
                64  usage error
                70  internal error
                78  configuration missing, unreadable or invalid

            CONFIGURATION
                Java properties. Every key that starts with kafka. and is not listed below goes to
                the Kafka consumer and the dead-letter producer with the prefix removed.
            """;

    static final int EX_USAGE = 64;
    static final int EX_SOFTWARE = 70;
    static final int EX_CONFIG = 78;

    private static final Logger LOG = LoggerFactory.getLogger(StoreWorker.class);

    private StoreWorker() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs until a signal stops it, or runs the subcommand {@code args[0]}; returns the exit status. */
    static int run(String[] args, PrintStream out) {
        if (args.length > 0 && args[0].equals("replay")) {
            return ReplayCommands.replay(Arrays.copyOfRange(args, 1, args.length), out);
        }
        if (args.length > 0 && args[0].equals("redrive")) {
            return ReplayCommands.redrive(Arrays.copyOfRange(args, 1, args.length), out);
        }
        CommandLine command;
        try {
            command = new DefaultParser().parse(new Options()
                    .addOption(Option.builder("c").hasArg().get())
                    .addOption(Option.builder().longOpt("help").get()), args);
            if (!command.getArgList().isEmpty()) {
                throw new ParseException("unexpected argument " + command.getArgList().get(0));
            }
        } catch (ParseException e) {
            out.println("store-worker: " + e.getMessage() + "; see store-worker --help");
            return EX_USAGE;
        }
        if (command.hasOption("help")) {
            out.print(MANUAL);
            out.println();
            out.print(StoreConfig.DEFINITION.toRst());
            return 0;
        }
        return withConfig("store-worker", configFile(command), out, StoreWorker::serve);
    }

    /** What a command does with its configuration; returns the exit status. */
    interface Body {
        int run(StoreConfig config) throws Exception;
    }

    /**
     * Loads {@code file} and runs {@code body} on it, for the worker and each subcommand alike:
     * a fault of the configuration (unreadable, invalid, a file it names unreadable, a kafka.*
     * value Kafka's client refuses) is reported on {@code out} and exits 78; anything unforeseen
     * is logged and exits 70.
     */
    static int withConfig(String command, Path file, PrintStream out, Body body) {
        try {
            return body.run(StoreConfig.load(file));
        } catch (Exception e) {
            Exception fault = e instanceof IOException ? e : configurationFault(e);
            if (fault != null) {
                out.println(command + ": configuration " + file + ": " + fault.getMessage());
                return EX_CONFIG;
            }
            LOG.error("{} stopped by an internal error", command, e);
            return EX_SOFTWARE;
        }
    }

    static Path configFile(CommandLine command) {
        return Path.of(command.getOptionValue("c", StoreConfig.DEFAULT_PATH.toString()));
    }

    /** The ConfigException behind {@code e}, if any: Kafka's clients wrap a bad kafka.* value in a KafkaException. */
    private static ConfigException configurationFault(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConfigException config) {
                return config;
            }
        }
        return null;
    }

    /** Stores until a signal stops it; an IOException or ConfigException is the configuration's fault. */
    private static int serve(StoreConfig config) throws Exception {
        try (StoreSession session = new StoreSession(config, config.topic(), config.groupId(), RecordStorer.WhenStored.KEEP)) {
            LOG.info("storing {} into {} as group {}, dead letters to {}", config.topic(), config.ldapUrls(),
                    config.groupId(), config.deadLetterTopic());
            session.loop().run();
            return 0;
        }
    }
}
