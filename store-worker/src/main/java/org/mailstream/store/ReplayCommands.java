package org.mailstream.store;

import static org.mailstream.config.CommandDeclaration.option;

import java.io.PrintStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.ParseException;
import org.mailstream.config.CommandDeclaration;


/**
 * The subcommands store-worker replay and store-worker redrive: their declarations (options,
 * exit statuses, manual pages) and arguments; the passes themselves are {@link Pass}.
 */
final class ReplayCommands {

    private static final Option EXECUTE = option(null, "execute", null, "do it; without it, a dry run");
    private static final Option FROM_EARLIEST = option(null, "from-earliest", null, "from the first record the topic holds");
    private static final Option FROM_TIME = option(null, "from-time", "TIME",
            "from the first record at or after TIME (ISO 8601, e.g. 2026-11-25T10:00:00Z)");
    private static final Option FROM_OFFSETS = option(null, "from-offsets", "P=O,...",
            "partition P from offset O; partitions not named are left as they are");
    private static final Option MODE = option(null, "mode", "fill|reparse",
            "fill (the default) stores what is missing and leaves entries that exist untouched: it rebuilds a lost back end "
            + "or fills a new one; reparse does that and recomputes the derived attributes of entries that exist from the raw "
            + "bytes, after a parser change; mailStoreRaw is never touched");

    static final CommandDeclaration REPLAY = WorkerExit.declareOn(new CommandDeclaration("store-worker replay",
            "store a back end's mail again from the topic", """
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

            """)
            .configurationFile(StoreConfig.DEFAULT_PATH)
            .oneOf(true, FROM_EARLIEST, FROM_TIME, FROM_OFFSETS)
            .optional(MODE)
            .optional(EXECUTE), WorkerExit.Program.REPLAY);

    static final CommandDeclaration REDRIVE = WorkerExit.declareOn(new CommandDeclaration("store-worker redrive",
            "store the dead letters that can be stored now", """
            Reads the back end's dead-letter topic from where the last redrive stopped (group
            GROUP-redrive, GROUP being the back end's) to its end, and stores each letter as a
            worker stores a record: for example after the missing mailbox was created. A letter
            already stored is absorbed by its message id; a letter that still fails is written to
            the dead-letter topic again with the new reason, after the redrive's position, so
            that from that position on the topic holds only letters that still fail. Each
            letter counts its attempts (header mailstream.dlq.attempts); one that still fails
            after redrive.max.attempts of them, or longer than redrive.max.age.ms after it
            first failed, is given up: logged and counted in the summary, not written again.

            Without --execute it only prints the plan. It refuses while another redrive of the
            same back end runs. Letters removed by retention before any redrive read them are
            reported and skipped.

            """)
            .configurationFile(StoreConfig.DEFAULT_PATH)
            .optional(EXECUTE), WorkerExit.Program.REDRIVE);

    private ReplayCommands() {
    }

    private record Replay(Pass.Start start, RecordStorer.WhenStored whenStored, boolean execute) {
    }

    static int replay(String[] args, PrintStream out) {
        return REPLAY.run(args, REPLAY.sysexits(out),
                command -> new Replay(start(command), whenStored(command), command.hasOption(EXECUTE)), StoreConfig::load,
                (replay, config) -> Pass.run("replay", config, config.topic(), config.groupId(), replay.start(),
                        replay.whenStored(), replay.execute(), out).code());
    }

    static int redrive(String[] args, PrintStream out) {
        return REDRIVE.run(args, REDRIVE.sysexits(out), StoreConfig::load,
                (command, config) -> Pass.run("redrive", config, config.deadLetterTopic(), config.groupId() + "-redrive",
                        new Pass.Start.Committed(), RecordStorer.WhenStored.KEEP, command.hasOption(EXECUTE), out).code());
    }

    private static RecordStorer.WhenStored whenStored(CommandLine command) throws ParseException {
        return switch (command.getOptionValue(MODE, "fill")) {
            case "fill" -> RecordStorer.WhenStored.KEEP;
            case "reparse" -> RecordStorer.WhenStored.REPARSE;
            default -> throw new ParseException("--mode is fill or reparse, not " + command.getOptionValue(MODE));
        };
    }

    private static Pass.Start start(CommandLine command) throws ParseException {
        if (command.hasOption(FROM_EARLIEST)) {
            return new Pass.Start.Earliest();
        }
        if (command.hasOption(FROM_TIME)) {
            try {
                return new Pass.Start.AtTime(Instant.parse(command.getOptionValue(FROM_TIME)));
            } catch (DateTimeParseException e) {
                throw new ParseException("--from-time wants an ISO 8601 instant such as 2026-11-25T10:00:00Z, not "
                        + command.getOptionValue(FROM_TIME));
            }
        }
        if (command.hasOption(FROM_OFFSETS)) {
            Map<Integer, Long> offsets = new LinkedHashMap<>();
            for (String pair : command.getOptionValue(FROM_OFFSETS).split(",")) {
                String[] parts = pair.split("=", 2);
                try {
                    offsets.put(Integer.parseInt(parts[0].strip()), Long.parseLong(parts[1].strip()));
                } catch (RuntimeException e) {
                    throw new ParseException("--from-offsets wants PARTITION=OFFSET pairs separated by commas, not " + pair);
                }
            }
            return new Pass.Start.AtOffsets(offsets);
        }
        throw new IllegalStateException("the declaration requires one of the starts");
    }
}
