package org.mailstream.store;

import java.util.EnumSet;
import java.util.Set;
import org.mailstream.config.CommandDeclaration;

/**
 * How store-worker, its passes (replay, redrive) and its other commands (check, quota recalc) end:
 * exit status, meaning, and which of them can end so. The manual pages' EXIT STATUS sections are
 * made from it, and every exit status a command returns is one of these; those the run itself
 * decides (--help, a usage error, the configuration's fault, an internal error) are the sysexits
 * of {@link CommandDeclaration#sysexits}, which these agree with.
 */
enum WorkerExit {
    OK(0, EnumSet.of(Program.WORKER), "--help printed; otherwise it runs until a signal stops it"),
    DONE(0, Program.PASSES, "done, the dry run printed, or --help"),
    CHECKED(0, EnumSet.of(Program.CHECK), "every check passed (a warning does not fail), or --help"),
    RECOUNTED(0, EnumSet.of(Program.QUOTA), "every owner with a quota counted, or --help"),
    ROUTED(0, EnumSet.of(Program.ROUTE), "every address routed, or --help"),
    USAGE(64, Program.ALL, "usage error"),
    DATA_GONE(65, EnumSet.of(Program.REPLAY), "the topic no longer holds records the start asks for; nothing changed"),
    SOFTWARE(70, Program.ALL, "internal error"),
    TEMPORARY(75, Program.PASSES, "the group has active members, Kafka did not answer, or the group refused the last "
            + "offsets; running it again goes on from where it got"),
    BACKEND_UNAVAILABLE(75, EnumSet.of(Program.QUOTA), "no provider of the back end answered; running it again counts again"),
    CONFIG(78, Program.ALL, "configuration missing, unreadable or invalid, Kafka refusing the principal, or a provider of "
            + "the back end lacking the schema or not matching store.durability; for check, a check failed"),
    // The JVM's own statuses for the two signals, after the shutdown hook has committed.
    INTERRUPTED(130, Program.STORING, "stopped by SIGINT, after committing everything written"),
    TERMINATED(143, Program.STORING, "stopped by SIGTERM, after committing everything written");

    /** The commands of store-worker. */
    enum Program {
        WORKER, REPLAY, REDRIVE, CHECK, QUOTA, ROUTE;

        static final Set<Program> PASSES = EnumSet.of(REPLAY, REDRIVE);
        static final Set<Program> STORING = EnumSet.of(WORKER, REPLAY, REDRIVE);
        static final Set<Program> ALL = EnumSet.allOf(Program.class);
    }

    private final int code;
    private final Set<Program> programs;
    private final String meaning;

    WorkerExit(int code, Set<Program> programs, String meaning) {
        this.code = code;
        this.programs = programs;
        this.meaning = meaning;
    }

    int code() {
        return code;
    }

    /** Declares on {@code command} every status that {@code program} can end with. */
    static CommandDeclaration declareOn(CommandDeclaration command, Program program) {
        for (WorkerExit exit : values()) {
            if (exit.programs.contains(program)) {
                command.exitStatus(exit.code, exit.meaning);
            }
        }
        return command;
    }
}
