package org.mailstream.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.apache.kafka.common.config.ConfigDef;
import org.mailstream.local.Command;

/** The README's configuration tables, generated from the declarations they document. */
public final class ConfigReference {

    private ConfigReference() {
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

    /** Fails, showing the table to paste, unless README.md holds the table of {@code definition}. */
    public static void assertReadmeDocuments(ConfigDef definition) {
        String table = markdownTable(definition);
        try {
            if (!Files.readString(Command.repositoryRoot().resolve("README.md")).contains(table)) {
                throw new AssertionError("README.md must contain the table generated from the declaration; paste this:\n" + table);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
