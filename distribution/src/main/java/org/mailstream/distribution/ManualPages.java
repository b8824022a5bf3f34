package org.mailstream.distribution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.imap.Imapd;
import org.mailstream.ingest.IngestCli;
import org.mailstream.ingest.IngestLmtpd;
import org.mailstream.store.StoreWorker;

/**
 * ManualPages: writes the manual pages the release archive ships in share/man, from the same
 * declarations that give each program's --help and the tables of docs/: man8/PROGRAM.8 for each
 * program (its subcommands included) and man5/FILE.5 for the configuration file it reads.
 *
 * <p>Usage: {@code ManualPages OUTPUT_DIRECTORY VERSION}; the build runs it before packaging.
 * Exit status 0, or 1 with the reason when a page cannot be written.
 */
public final class ManualPages {

    static final List<CommandDeclaration> PROGRAMS = List.of(IngestCli.COMMAND, IngestLmtpd.COMMAND, StoreWorker.COMMAND,
            Imapd.COMMAND);

    private ManualPages() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ManualPages OUTPUT_DIRECTORY VERSION");
            System.exit(1);
        }
        write(Path.of(args[0]), args[1]);
    }

    /** Writes every page below {@code directory}: man8 and man5. */
    static void write(Path directory, String version) throws IOException {
        Path programs = Files.createDirectories(directory.resolve("man8"));
        Path files = Files.createDirectories(directory.resolve("man5"));
        for (CommandDeclaration program : PROGRAMS) {
            Files.writeString(programs.resolve(program.name() + ".8"), program.manualPage(version), StandardCharsets.UTF_8);
            Files.writeString(files.resolve(program.configurationFileName() + ".5"), program.configurationManualPage(version),
                    StandardCharsets.UTF_8);
        }
    }
}
