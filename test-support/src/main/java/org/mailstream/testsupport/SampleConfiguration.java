package org.mailstream.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigDef;
import org.mailstream.config.DeclaredConfig;
import org.mailstream.local.Command;

/**
 * The sample configuration files the release archive ships in etc/mailstream/, checked against
 * the declaration they document: a hand-written header (the comment lines before the first blank
 * line), then every declared key with its meaning, type, default and valid values, commented out
 * at its default, or set to the file's own example value where the key is required. A test fails,
 * showing the file to paste, when the file no longer holds exactly that.
 */
public final class SampleConfiguration {

    /** Where the release archive's etc/mailstream/ comes from. */
    public static final Path DIRECTORY = Path.of("distribution/src/dist/etc/mailstream");
    private static final int WIDTH = 100;

    private SampleConfiguration() {
    }

    /** Fails unless etc/mailstream/{@code name} documents every key of {@code definition}, and nothing else. */
    public static void assertDocuments(ConfigDef definition, String name) {
        Path file = Command.repositoryRoot().resolve(DIRECTORY).resolve(name);
        try {
            String text = Files.readString(file);
            String expected = render(definition, header(text), DeclaredConfig.read(file));
            if (!text.equals(expected)) {
                throw new AssertionError(file + " must document every key of its declaration; paste this:\n" + expected);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String header(String text) {
        int end = text.indexOf("\n\n");
        return end < 0 ? "" : text.substring(0, end + 1);
    }

    private static String render(ConfigDef definition, String header, Properties examples) {
        StringBuilder sample = new StringBuilder(header);
        for (ConfigDef.ConfigKey key : definition.configKeys().values()) {
            sample.append('\n');
            comment(sample, key.documentation);
            String validValues = key.validator == null ? "" : "; valid values: " + key.validator;
            if (key.hasDefault()) {
                String defaultValue = ConfigDef.convertToString(key.defaultValue, key.type);
                comment(sample, key.type.toString().toLowerCase() + "; default: " + (defaultValue.isEmpty() ? "empty" : defaultValue)
                        + validValues);
                sample.append('#').append(key.name).append('=').append(defaultValue).append('\n');
            } else {
                comment(sample, key.type.toString().toLowerCase() + "; required" + validValues);
                sample.append(key.name).append('=').append(examples.getProperty(key.name, "CHANGE-ME")).append('\n');
            }
        }
        return sample.toString();
    }

    /** {@code text} as comment lines of at most {@value #WIDTH} characters. */
    private static void comment(StringBuilder sample, String text) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder("#");
        for (String word : text.split(" ")) {
            if (line.length() > 1 && line.length() + 1 + word.length() > WIDTH) {
                lines.add(line.toString());
                line = new StringBuilder("#");
            }
            line.append(' ').append(word);
        }
        lines.add(line.toString());
        lines.forEach(l -> sample.append(l).append('\n'));
    }
}
