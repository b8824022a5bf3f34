package org.mailstream.store;

import com.unboundid.ldap.sdk.LDAPConnectionPool;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
                store-worker --help

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
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(60);

    private StoreWorker() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs until a signal stops it; returns the exit status. */
    static int run(String[] args, PrintStream out) {
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
        Path file = Path.of(command.getOptionValue("c", StoreConfig.DEFAULT_PATH.toString()));
        try {
            return serve(StoreConfig.load(file));
        } catch (IOException | ConfigException e) {
            out.println("store-worker: configuration " + file + ": " + e.getMessage());
            return EX_CONFIG;
        } catch (Exception e) {
            LOG.error("stopped by an internal error", e);
            return EX_SOFTWARE;
        }
    }

    /** Stores until a signal stops it; an IOException or ConfigException is the configuration's fault. */
    private static int serve(StoreConfig config) throws Exception {
        CountDownLatch finished = new CountDownLatch(1);
        ExecutorService writers = Executors.newFixedThreadPool(config.getInt(StoreConfig.LDAP_CONNECTIONS));
        try (LDAPConnectionPool pool = LdapServers.pool(config);
             DeadLetters deadLetters = new DeadLetters(config)) {
            RecordStorer storer = new RecordStorer(new Mailboxes(pool, config), deadLetters, config);
            StoreLoop loop = new StoreLoop(new KafkaConsumer<>(config.consumerSettings()), storer, writers,
                    config.topic(), config.getLong(StoreConfig.RETRY_BACKOFF_MAX_MS));
            Thread onSignal = new Thread(() -> {
                try {
                    loop.stop(SHUTDOWN_TIMEOUT);
                    finished.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "store-worker shutdown");
            Runtime.getRuntime().addShutdownHook(onSignal);
            LOG.info("storing {} into {} as group {}, dead letters to {}", config.topic(), config.ldapUrls(),
                    config.groupId(), config.deadLetterTopic());
            loop.run();
            return 0;
        } finally {
            writers.shutdownNow();
            finished.countDown();
        }
    }
}
