package org.mailstream.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.local.Chores;
import org.mailstream.local.Command;
import org.mailstream.local.ReleaseArchive;

/**
 * The manual pages in the release archive's share/man, as man(1) shows them: every page renders
 * without a formatter warning, a program's page says what its --help says, and a configuration
 * file's page names every key the program declares.
 */
class ManualPagesIT {

    private static final Pattern RST_KEY = Pattern.compile("(?m)^``([^`]+)``$");

    private static Path unpacked;
    private static Path man;

    @BeforeAll
    static void takeThePagesFromTheArchive() throws IOException {
        unpacked = Files.createTempDirectory("manual-pages");
        Path archive = ReleaseArchive.path();
        run("tar", "-xzf", archive.toString(), "-C", unpacked.toString(), "--wildcards", "*/share/man/*");
        man = unpacked.resolve(archive.getFileName().toString().replace(".tar.gz", "")).resolve("share/man");
    }

    @AfterAll
    static void removeThem() {
        Chores.deleteRecursively(unpacked);
    }

    @Test
    void everyShippedPageRendersWithoutAFormatterWarning() throws IOException {
        List<Path> pages;
        try (Stream<Path> all = Files.walk(man)) {
            pages = all.filter(Files::isRegularFile).sorted().toList();
        }
        assertEquals(2 * ManualPages.PROGRAMS.size(), pages.size(), pages.toString());
        for (Path page : pages) {
            Command.Result shown = run("man", "--warnings", "-E", "UTF-8", "-l", page.toString());
            assertEquals("", shown.stderr(), shown.toString());
        }
    }

    @Test
    void eachProgramsPageSaysWhatItsHelpSays() {
        for (CommandDeclaration program : ManualPages.PROGRAMS) {
            String help = program.manual();
            String shown = words(run("man", "-l", man.resolve("man8/" + program.name() + ".8").toString()).stdout());
            String ownSections = help.substring(help.indexOf("\nDESCRIPTION\n"), help.indexOf("\nCONFIGURATION\n"));
            assertTrue(shown.contains(words(ownSections)), program.name() + "'s page lacks what --help says:\n" + ownSections
                    + "\nthe page:\n" + shown);
        }
    }

    @Test
    void eachConfigurationFilesPageNamesEveryKeyItsProgramDeclares() {
        for (CommandDeclaration program : ManualPages.PROGRAMS) {
            String shown = words(run("man", "-l", man.resolve("man5/" + program.configurationFileName() + ".5").toString()).stdout());
            Matcher keys = RST_KEY.matcher(program.manual());
            int named = 0;
            while (keys.find()) {
                assertTrue(shown.contains(" " + keys.group(1) + " ("), program.configurationFileName() + " lacks "
                        + keys.group(1) + ":\n" + shown);
                named++;
            }
            assertTrue(named > 0, program.name() + "'s --help lists no key to look for");
        }
    }

    private static String words(String text) {
        return text.replaceAll("\\s+", " ").strip();
    }

    private static Command.Result run(String... argv) {
        Command.Result result = Command.of(Command.argv("env", "MANWIDTH=100", List.of(argv))).run(new byte[0], Duration.ofSeconds(60));
        assertEquals(0, result.exitCode(), result.toString());
        return result;
    }
}
