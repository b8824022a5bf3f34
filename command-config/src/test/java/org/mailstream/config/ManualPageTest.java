package org.mailstream.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/** The man(7) source of a declaration: every option, status and key, and text that roff cannot take for a request. */
class ManualPageTest {

    private static final ConfigDef KEYS = new ConfigDef()
            .define("listen.port", ConfigDef.Type.INT, 25, ConfigDef.Range.between(1, 65535), ConfigDef.Importance.HIGH,
                    "Port to listen on.")
            .define("ldap.base.dn", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "Base of the tree, e.g. dc=example,dc=com.");
    private static final CommandDeclaration PROGRAM = new CommandDeclaration("prog", "a program", """
            Does a thing.

            .dotted first word, and a back\\slash.
            """)
            .configurationFile(Path.of("/etc/mailstream/prog.properties"))
            .optional(CommandDeclaration.option(null, "dry-run", null, "print, change nothing"))
            .exitStatus(0, "done")
            .exitStatus(75, "try again later")
            .subcommand(new CommandDeclaration("prog check", "check before the first run", "Checks.")
                    .configurationFile(Path.of("/etc/mailstream/prog.properties")).exitStatus(0, "all passed"))
            .configuration(KEYS, "Java properties.");

    @Test
    void theProgramsPageHoldsItsSynopsesOptionsStatusesAndSubcommands() {
        String page = PROGRAM.manualPage("1.0");
        assertTrue(page.startsWith(".\\\" Generated") && page.contains("\n.TH \"PROG\" 8 \"\" \"mailstream 1.0\" \"mailstream\"\n"), page);
        assertTrue(page.contains(".SH NAME\nprog \\- a program\n"), page);
        assertTrue(page.contains("prog [\\-c CONFIG] [\\-\\-dry\\-run]\nprog check [\\-c CONFIG]\n"), page);
        assertTrue(page.contains(".TP\n.B \\-\\-dry\\-run\nprint, change nothing\n"), page);
        assertTrue(page.contains(".TP\n.B 75\ntry again later\n"), page);
        assertTrue(page.contains(".SH \"PROG CHECK\"\nCheck before the first run.\n.PP\nChecks.\n"), page);
        assertTrue(page.contains(".TP\n.B 0\nall passed\n"), page);
        assertTrue(page.contains(".BR prog.properties (5)"), page);
    }

    @Test
    void aLineOfTextNeverStartsAsARequestAndBackslashesArePrinted() {
        String page = PROGRAM.manualPage("1.0");
        assertTrue(page.contains("\n.PP\n\\&.dotted first word, and a back\\eslash.\n"), page);
        assertFalse(page.lines().anyMatch(line -> line.startsWith(".dotted")), page);
    }

    @Test
    void theConfigurationFilesPageHoldsEveryKeyWithTypeDefaultAndValidValues() {
        String page = PROGRAM.configurationManualPage("1.0");
        assertTrue(page.contains(".TH \"PROG.PROPERTIES\" 5 "), page);
        assertTrue(page.contains(".SH SYNOPSIS\n/etc/mailstream/prog.properties\n"), page);
        assertTrue(page.contains(".TP\n.B listen.port\n(int, default 25; valid: [1,...,65535])\n.br\nPort to listen on.\n"), page);
        assertTrue(page.contains(".TP\n.B ldap.base.dn\n(string, required)\n.br\nBase of the tree, e.g. dc=example,dc=com.\n"), page);
        assertTrue(page.contains(".SH \"SEE ALSO\"\n.BR prog (8)\n"), page);
    }
}
