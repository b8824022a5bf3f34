package org.mailstream.store;

import java.io.PrintStream;
import java.util.Arrays;
import org.mailstream.config.CommandDeclaration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * store-worker: consumes the mail topic and stores every message in one OpenLDAP back end. Its
 * manual page, {@code store-worker --help}, is made from {@link #COMMAND}; the subcommands replay
 * and redrive are {@link ReplayCommands}.
 */
public final class StoreWorker {

    public static final CommandDeclaration COMMAND = WorkerExit.declareOn(new CommandDeclaration("store-worker",
            "store mail from Kafka in an OpenLDAP back end", """
            A member of the consumer group of one back end. For each record it finds the
            recipient's mailbox owner with the configured filter, creates cn=FOLDER below the
            owner when missing, and adds one mailStoreMessage entry named by the message id
            (the SHA-256 of the raw bytes): the raw message in mailStoreRaw, the envelope, and
            index attributes from Jakarta Mail's parse of the header. A message whose header
            does not parse is stored raw with mailStoreParseError.

            Exactly once from at-least-once: an entry that already exists is the same message
            delivered again, and counts as stored. Offsets are committed only after the
            writes they cover; with store.durability=log, only once those writes are on the
            back end's disk, and a lost connection to the back end stores everything since
            the last committed offsets again. It refuses to start (78) when a provider's
            schema lacks what it writes, or its settings, where it may read them, do not
            match store.durability. Records that can never be stored (no such mailbox, too large
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
            their own --help. check verifies, before the first mail, what storing needs.
            quota recalc counts again what owners with a quota keep; route tells which back end
            an address belongs to.

            Quota: an owner's usage is counted as mail is stored; once it passes a limit
            (mailStoreQuotaBytes or mailStoreQuotaMessages on the owner, else quota.bytes and
            quota.messages), the owner is marked mailStoreOverQuota and Postfix's shipped
            access table refuses new mail at RCPT time. Mail already accepted is stored.

            SIGTERM or SIGINT: stop polling, finish the writes in flight, commit, leave the
            group, exit. Logs go to standard error.

            """)
            .configurationFile(StoreConfig.DEFAULT_PATH)
            .subcommand(ReplayCommands.REPLAY)
            .subcommand(ReplayCommands.REDRIVE)
            .subcommand(CheckCommand.CHECK)
            .subcommand(QuotaCommand.RECALC)
            .subcommand(RouteCommand.ROUTE)
            .configuration(StoreConfig.DEFINITION, """
                    Java properties. Every key that starts with kafka. and is not listed below goes to
                    the Kafka consumer and the dead-letter producer with the prefix removed.
                    """), WorkerExit.Program.WORKER);

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
        if (args.length > 0 && args[0].equals("check")) {
            return CheckCommand.run(Arrays.copyOfRange(args, 1, args.length), out);
        }
        if (args.length > 1 && args[0].equals("quota") && args[1].equals("recalc")) {
            return QuotaCommand.run(Arrays.copyOfRange(args, 2, args.length), out);
        }
        if (args.length > 0 && args[0].equals("route")) {
            return RouteCommand.run(Arrays.copyOfRange(args, 1, args.length), out);
        }
        return COMMAND.run(args, COMMAND.sysexits(out), StoreConfig::load, (command, config) -> serve(config).code());
    }

    /** Stores until a signal stops it; a ConfigException is the configuration's fault. */
    private static WorkerExit serve(StoreConfig config) throws Exception {
        try (StoreSession session = new StoreSession(config, config.topic(), config.groupId(), RecordStorer.WhenStored.KEEP,
                config.metricsListen(), true)) {
            LOG.info("storing {} into {} as group {}, dead letters to {}", config.topic(), config.ldapUrls(),
                    config.groupId(), config.deadLetterTopic());
            session.loop().run();
            return WorkerExit.OK;
        }
    }
}
