package org.mailstream.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.apache.kafka.common.config.ConfigDef;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.local.Command;

/**
 * The reference tables of the documentation (docs/PROGRAM.md), generated from the declarations
 * they document: a test fails, showing the table to paste, when the document no longer holds it
 * word for word.
 */
public final class DocumentedReference {

    private DocumentedReference() {
    }

    /** The declared keys of {@code definition} as a Markdown table. */
    public static String markdownTable(ConfigDef definition) {
        StringBuilder table = new StringBuilder("| key | type | default | valid values | meaning |\n| --- | --- | --- | --- | --- |\n");
        for (ConfigDef.ConfigKey key : definition.configKeys().values()) {
            String defaultValue = !key.hasDefault() ? "(required)"
                    : "`" + ConfigDef.convertToString(key.defaultValue, key.type) + "`";
            table.append("| `").append(key.name).append("` | ").append(key.type.toString().toLowerCase())
                    .append(" | ").append(defaultValue)
                    .append(" | ").append(key.validator == null ? "" : key.validator.toString())
                    .append(" | ").append(key.documentation).append(" |\n");
        }
        return table.toString();
    }

    /** Fails unless {@code document} (relative to the repository's root) holds the table of {@code definition}'s keys. */
    public static void assertDocuments(String document, ConfigDef definition) {
        assertHolds(document, "the configuration keys", markdownTable(definition));
    }

    /** Fails unless {@code document} holds {@code command}'s table of options. */
    public static void assertDocumentsOptions(String document, CommandDeclaration command) {
        assertHolds(document, command.name() + "'s options", command.optionsMarkdown());
    }

    /** Fails unless {@code document} holds {@code command}'s table of exit statuses. */
    public static void assertDocumentsExitStatuses(String document, CommandDeclaration command) {
        assertHolds(document, command.name() + "'s exit statuses", command.exitStatusMarkdown());
    }

    private static void assertHolds(String document, String what, String table) {
        try {
            if (!Files.readString(Command.repositoryRoot().resolve(document)).contains(table)) {
                throw new AssertionError(document + " must hold the table of " + what + " generated from its declaration; paste this:\n"
                        + table);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
