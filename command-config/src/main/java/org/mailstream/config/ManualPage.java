package org.mailstream.config;

import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.config.ConfigDef;

/**
 * A {@link CommandDeclaration} as man(7) pages: the program's, section 8, with a section for each
 * subcommand, and its configuration file's, section 5, one entry per declared key. They say what
 * {@code --help} and the tables of docs/ say, from the same declaration; the release ships
 * them in share/man.
 */
final class ManualPage {

    private static final String SOURCE = "mailstream";

    private ManualPage() {
    }

    static String command(CommandDeclaration command, String version) {
        StringBuilder page = header(command.name(), 8, version);
        page.append(".SH NAME\n").append(text(command.name())).append(" \\- ").append(text(command.summary())).append('\n');
        page.append(".SH SYNOPSIS\n.nf\n");
        command.synopses().forEach(synopsis -> page.append(text(synopsis)).append('\n'));
        page.append(".fi\n");
        page.append(".SH DESCRIPTION\n").append(paragraphs(command.description()));
        page.append(".SH OPTIONS\n").append(entries(command.optionEntries()));
        page.append(".SH \"EXIT STATUS\"\n").append(entries(command.exitStatusEntries()));
        for (CommandDeclaration subcommand : command.subcommands()) {
            page.append(".SH \"").append(text(subcommand.name()).toUpperCase(Locale.ROOT)).append("\"\n");
            page.append(line(sentence(subcommand.summary()))).append(".\n.PP\n").append(paragraphs(subcommand.description()));
            page.append(".SS Options\n").append(entries(subcommand.optionEntries()));
            page.append(".SS \"Exit status\"\n").append(entries(subcommand.exitStatusEntries()));
        }
        if (command.configurationKeys() != null) {
            String file = command.defaultConfigurationFile().toString();
            page.append(".SH FILES\n.TP\n.I ").append(text(file)).append("\nthe configuration file, unless \\-c names another: see\n.BR ")
                    .append(text(command.configurationFileName())).append(" (5)\n");
            page.append(".SH \"SEE ALSO\"\n.BR ").append(text(command.configurationFileName())).append(" (5)\n");
        }
        return page.toString();
    }

    static String configurationFile(CommandDeclaration command, String version) {
        String fileName = command.configurationFileName();
        StringBuilder page = header(fileName, 5, version);
        page.append(".SH NAME\n").append(text(fileName)).append(" \\- configuration of ").append(text(command.name())).append('\n');
        page.append(".SH SYNOPSIS\n").append(text(command.defaultConfigurationFile().toString())).append('\n');
        page.append(".SH DESCRIPTION\n").append(paragraphs(command.configurationNote()));
        page.append(".SH KEYS\n");
        for (ConfigDef.ConfigKey key : command.configurationKeys().configKeys().values()) {
            String defaultValue = !key.hasDefault() ? "required"
                    : "default " + (key.defaultValue == null || ConfigDef.convertToString(key.defaultValue, key.type).isEmpty()
                            ? "empty" : ConfigDef.convertToString(key.defaultValue, key.type));
            page.append(".TP\n.B ").append(text(key.name)).append("\n(").append(key.type.toString().toLowerCase(Locale.ROOT))
                    .append(", ").append(text(defaultValue))
                    .append(key.validator == null ? "" : "; valid: " + text(key.validator.toString())).append(")\n")
                    .append(".br\n").append(line(key.documentation)).append('\n');
        }
        page.append(".SH \"SEE ALSO\"\n.BR ").append(text(command.name().split(" ")[0])).append(" (8)\n");
        return page.toString();
    }

    private static StringBuilder header(String title, int section, String version) {
        return new StringBuilder(".\\\" Generated from the program's declaration; do not edit.\n")
                .append(".TH \"").append(text(title).toUpperCase(Locale.ROOT)).append("\" ").append(section)
                .append(" \"\" \"").append(SOURCE).append(' ').append(text(version)).append("\" \"").append(SOURCE).append("\"\n")
                // Left-aligned and never hyphenated: the text is full of names and keys to copy.
                .append(".ad l\n.nh\n");
    }

    private static String entries(List<CommandDeclaration.Term> entries) {
        StringBuilder out = new StringBuilder();
        entries.forEach(entry -> out.append(".TP\n.B ").append(text(entry.term())).append('\n').append(line(entry.meaning())).append('\n'));
        return out.toString();
    }

    /** Paragraphs separated by blank lines, each filled by the formatter. */
    private static String paragraphs(String prose) {
        StringBuilder out = new StringBuilder();
        for (String paragraph : prose.strip().split("\n\\s*\n")) {
            out.append(out.isEmpty() ? "" : ".PP\n").append(line(paragraph.strip().replaceAll("\\s*\n\\s*", " "))).append('\n');
        }
        return out.toString();
    }

    /** A summary, written to follow a name after a dash, as a sentence of its own. */
    private static String sentence(String summary) {
        return summary.substring(0, 1).toUpperCase(Locale.ROOT) + summary.substring(1);
    }

    /** Text on a line of its own: a leading period or quote would make it a request. */
    private static String line(String prose) {
        String escaped = text(prose);
        return escaped.startsWith(".") || escaped.startsWith("'") ? "\\&" + escaped : escaped;
    }

    /** Backslashes and hyphens as roff writes them; a hyphen, so that options copy and paste. */
    private static String text(String prose) {
        return prose.replace("\\", "\\e").replace("-", "\\-");
    }
}
