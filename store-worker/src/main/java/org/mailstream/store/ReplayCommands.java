package org.mailstream.store;

import java.io.PrintStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.OptionGroup;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/**
 * The subcommands store-worker replay and store-worker redrive: their manual pages, options and
 * exit statuses; the passes themselves are {@link Pass}.
 */
final class ReplayCommands {

    static final String REPLAY_MANUAL = """
            NAME
                store-worker replay - store a back end's mail again from the topic

            SYNOPSIS
                store-worker replay [-c CONFIG] (--from-earliest | --from-time TIME | --from-offsets P=O[,P=O...])
                                    [--mode fill|reparse] [--execute]

            DESCRIPTION
                Moves the back end's consumer group (the one its workers use) back to the given
                start and reads every partition from there to the end it has now, storing as a
                worker does; the group's offsets end where the pass ends, so the workers carry on
                from there. Without --execute it only prints the plan, in the manner of
                kafka-consumer-groups --reset-offsets --dry-run, and changes nothing.

                It refuses while the group has active members (stop the back end's workers first:
                two consumers of one partition would break its order), and when the topic no
                longer holds records the start asks for (retention or deleteRecords removed them),
                instead of silently starting later.

                A back end that is down or busy pauses the pass, which retries as a worker does.
                Progress goes to standard error: a line rewritten every second on a terminal, a
                line every ten seconds otherwise. A summary ends the run. SIGTERM stops it after
                the writes in flight, committed; running it again goes on from there.

            OPTIONS
                -c CONFIG          the worker's configuration (default /etc/mailstream/store-worker.properties)
                --from-earliest    from the first record the topic holds
                --from-time TIME   from the first record at or after TIME (ISO 8601, e.g. 2026-11-25T10:00:00Z)
                --from-offsets P=O partition P from offset O; partitions not named are left as they are
                --mode fill        store what is missing; entries that exist are left untouched (default):
                                   rebuilds a lost back end or fills a new one
                --mode reparse     as fill, and recompute the derived attributes of entries that exist from
                                   the raw bytes, after a parser change; mailStoreRaw is never touched
                --execute          do it; without it, a dry run

            EXIT STATUS
                0   done, or dry run printed
                64  usage error
                65  the topic no longer holds records the start asks for; nothing changed
                70  internal error
                75  the group has active members, or Kafka did not answer; nothing changed
                78  configuration missing, unreadable or invalid
            """;

    static final String REDRIVE_MANUAL = """
            NAME
                store-worker redrive - store the dead letters that can be stored now

            SYNOPSIS
                store-worker redrive [-c CONFIG] [--execute]

            DESCRIPTION
                Reads the back end's dead-letter topic from where the last redrive stopped (group
                GROUP-redrive, GROUP being the back end's) to its end, and stores each letter as a
                worker stores a record: for example after the missing mailbox was created. A letter
                already stored is absorbed by its message id; a letter that still fails is written to
                the dead-letter topic again with the new reason, after the redrive's position, so
                that from that position on the topic holds only letters that still fail.

                Without --execute it only prints the plan. It refuses while another redrive of the
                same back end runs. Letters removed by retention before any redrive read them are
                reported and skipped.

            OPTIONS
                -c CONFIG   the worker's configuration (default /etc/mailstream/store-worker.properties)
                --execute   do it; without it, a dry run

            EXIT STATUS
                as for store-worker replay
            """;

    private ReplayCommands() {
    }

    static int replay(String[] args, PrintStream out) {
        Options options = common()
                .addOptionGroup(new OptionGroup()
                        .addOption(Option.builder().longOpt("from-earliest").get())
                        .addOption(Option.builder().longOpt("from-time").hasArg().get())
                        .addOption(Option.builder().longOpt("from-offsets").hasArg().get()))
                .addOption(Option.builder().longOpt("mode").hasArg().get());
        CommandLine command;
        Pass.Start start;
        RecordStorer.WhenStored whenStored;
        try {
            command = parse(options, args);
            if (command.hasOption("help")) {
                out.print(REPLAY_MANUAL);
                return 0;
            }
            start = start(command);
            whenStored = switch (command.getOptionValue("mode", "fill")) {
                case "fill" -> RecordStorer.WhenStored.KEEP;
                case "reparse" -> RecordStorer.WhenStored.REPARSE;
                default -> throw new ParseException("--mode is fill or reparse, not " + command.getOptionValue("mode"));
            };
        } catch (ParseException e) {
            out.println("store-worker replay: " + e.getMessage() + "; see store-worker replay --help");
            return StoreWorker.EX_USAGE;
        }
        return StoreWorker.withConfig("store-worker replay", StoreWorker.configFile(command), out, config -> Pass.run("replay", config, config.topic(), config.groupId(), start, whenStored,
                command.hasOption("execute"), out));
    }

    static int redrive(String[] args, PrintStream out) {
        CommandLine command;
        try {
            command = parse(common(), args);
            if (command.hasOption("help")) {
                out.print(REDRIVE_MANUAL);
                return 0;
            }
        } catch (ParseException e) {
            out.println("store-worker redrive: " + e.getMessage() + "; see store-worker redrive --help");
            return StoreWorker.EX_USAGE;
        }
        return StoreWorker.withConfig("store-worker redrive", StoreWorker.configFile(command), out, config -> Pass.run("redrive", config, config.deadLetterTopic(), config.groupId() + "-redrive",
                new Pass.Start.Committed(), RecordStorer.WhenStored.KEEP, command.hasOption("execute"), out));
    }

    private static Options common() {
        return new Options()
                .addOption(Option.builder("c").hasArg().get())
                .addOption(Option.builder().longOpt("execute").get())
                .addOption(Option.builder().longOpt("help").get());
    }

    private static CommandLine parse(Options options, String[] args) throws ParseException {
        CommandLine command = new DefaultParser().parse(options, args);
        if (!command.getArgList().isEmpty()) {
            throw new ParseException("unexpected argument " + command.getArgList().get(0));
        }
        return command;
    }

    private static Pass.Start start(CommandLine command) throws ParseException {
        if (command.hasOption("from-earliest")) {
            return new Pass.Start.Earliest();
        }
        if (command.hasOption("from-time")) {
            try {
                return new Pass.Start.AtTime(Instant.parse(command.getOptionValue("from-time")));
            } catch (DateTimeParseException e) {
                throw new ParseException("--from-time wants an ISO 8601 instant such as 2026-11-25T10:00:00Z, not "
                        + command.getOptionValue("from-time"));
            }
        }
        if (command.hasOption("from-offsets")) {
            Map<Integer, Long> offsets = new LinkedHashMap<>();
            for (String pair : command.getOptionValue("from-offsets").split(",")) {
                String[] parts = pair.split("=", 2);
                try {
                    offsets.put(Integer.parseInt(parts[0].strip()), Long.parseLong(parts[1].strip()));
                } catch (RuntimeException e) {
                    throw new ParseException("--from-offsets wants PARTITION=OFFSET pairs separated by commas, not " + pair);
                }
            }
            return new Pass.Start.AtOffsets(offsets);
        }
        throw new ParseException("say where to start: --from-earliest, --from-time or --from-offsets");
    }
}
