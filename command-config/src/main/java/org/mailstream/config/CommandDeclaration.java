package org.mailstream.config;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.OptionGroup;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;

/**
 * A command declared once: its options, each with its argument's name and its description, and
 * its exit statuses, each with its meaning. The parser (commons-cli), the manual page's
 * SYNOPSIS, OPTIONS and EXIT STATUS sections, the tables of docs/ and the man pages all come from
 * this one declaration, so that none of them can drift from what the command does.
 *
 * <p>An option is {@linkplain #required required} when the command cannot run without it, but
 * never for the parser: {@code --help} must work without it, so {@link #parse} checks it after.
 *
 * <p>Every program {@linkplain #run runs} the same way too: parse, print the manual for
 * {@code --help}, read the configuration file, do its work, and end with the status its
 * {@link Endings} give each way this can go wrong.
 */
public final class CommandDeclaration {

    /** One exit status and what it means for this command. */
    public record ExitStatus(int code, String meaning) {
    }

    /** One line of a manual's list: an option as the synopsis writes it, or an exit status, and its meaning. */
    record Term(String term, String meaning) {
    }

    /** The statuses of sysexits(3) that {@linkplain #sysexits the usual endings} end with. */
    public static final int EX_OK = 0;
    public static final int EX_USAGE = 64;
    public static final int EX_SOFTWARE = 70;
    public static final int EX_CONFIG = 78;

    /** What a program makes of its parsed arguments, before its configuration is read; a ParseException is a usage error. */
    @FunctionalInterface
    public interface Arguments<A> {
        A interpret(CommandLine command) throws Exception;
    }

    /** Reads a program's configuration file; an IOException or a ConfigException is a fault of the configuration. */
    @FunctionalInterface
    public interface Loader<C> {
        C load(Path file) throws IOException;
    }

    /** What a program does with its arguments and its configuration; returns its exit status. */
    @FunctionalInterface
    public interface Body<A, C> {
        int run(A arguments, C config) throws Exception;
    }

    /** How a program tells of each way a run can end that the run decides, and the status each ends with. */
    public interface Endings {
        /** Prints the manual that {@code --help} asked for. */
        int help(String manual);

        int usage(String problem);

        /** The configuration is missing, unreadable or invalid, or Kafka refuses the principal it names. */
        int configuration(String problem);

        /** Anything else the program's work threw. */
        int failed(Throwable failure);
    }

    private static final int OPTION_COLUMN = 24;

    private final String name;
    private final String summary;
    private final String description;
    private final Options options = new Options();
    /** Options and groups in the order declared: the synopsis and OPTIONS follow it. */
    private final List<Object> order = new ArrayList<>();
    private final List<Option> required = new ArrayList<>();
    private final List<OptionGroup> requiredGroups = new ArrayList<>();
    private final List<ExitStatus> exitStatuses = new ArrayList<>();
    private final List<CommandDeclaration> subcommands = new ArrayList<>();
    private ConfigDef configuration;
    private String configurationNote;
    private Option configurationFile;
    private Path defaultConfigurationFile;

    /** {@code description} is the manual's DESCRIPTION: what the command does, in paragraphs. */
    public CommandDeclaration(String name, String summary, String description) {
        this.name = name;
        this.summary = summary;
        this.description = description;
        options.addOption(Option.builder().longOpt("help").desc("print this manual page and exit").get());
    }

    public String name() {
        return name;
    }

    /** {@code -x ARG} or {@code --long ARG}; {@code argName} null for a flag; "ARG ..." for several values. */
    public static Option option(String shortName, String longName, String argName, String description) {
        Option.Builder builder = shortName == null ? Option.builder().longOpt(longName) : Option.builder(shortName).longOpt(longName);
        if (argName != null && argName.endsWith(" ...")) {
            builder.hasArgs().argName(argName.substring(0, argName.length() - 4) + " ...");
        } else if (argName != null) {
            builder.hasArg().argName(argName);
        }
        return builder.desc(description).get();
    }

    public CommandDeclaration optional(Option option) {
        options.addOption(option);
        order.add(option);
        return this;
    }

    public CommandDeclaration required(Option option) {
        required.add(option);
        return optional(option);
    }

    /** At most one of {@code choices}; with {@code mandatory}, exactly one. */
    public CommandDeclaration oneOf(boolean mandatory, Option... choices) {
        OptionGroup group = new OptionGroup();
        for (Option choice : choices) {
            group.addOption(choice);
        }
        options.addOptionGroup(group);
        order.add(group);
        if (mandatory) {
            requiredGroups.add(group);
        }
        return this;
    }

    public CommandDeclaration exitStatus(int code, String meaning) {
        exitStatuses.add(new ExitStatus(code, meaning));
        return this;
    }

    /** A command run as {@code NAME SUBCOMMAND ...}: its synopsis joins this one's. */
    public CommandDeclaration subcommand(CommandDeclaration subcommand) {
        subcommands.add(subcommand);
        return this;
    }

    /** {@code -c CONFIG}: the configuration file {@link #run} reads, {@code defaultFile} unless it is given. */
    public CommandDeclaration configurationFile(Path defaultFile) {
        configurationFile = option("c", null, "CONFIG", "configuration file (default " + defaultFile + ")");
        defaultConfigurationFile = defaultFile;
        return optional(configurationFile);
    }

    /** The configuration file's keys, for the manual's CONFIGURATION section after {@code note}. */
    public CommandDeclaration configuration(ConfigDef keys, String note) {
        this.configuration = keys;
        this.configurationNote = note;
        return this;
    }

    /**
     * Parses {@code args}; a required option or group missing (unless --help is given), an
     * argument that is not an option, or an unknown option is a {@link ParseException} whose
     * message says which and points at --help.
     */
    public CommandLine parse(String[] args) throws ParseException {
        CommandLine command;
        try {
            command = DefaultParser.builder().get().parse(options, args);
        } catch (ParseException e) {
            throw new ParseException(e.getMessage() + "; see " + name + " --help");
        }
        if (!command.getArgList().isEmpty()) {
            throw new ParseException("unexpected argument '" + command.getArgList().get(0) + "'; see " + name + " --help");
        }
        if (command.hasOption("help")) {
            return command;
        }
        for (Option option : required) {
            if (!command.hasOption(option)) {
                throw new ParseException(usage(option) + " is required; see " + name + " --help");
            }
        }
        for (OptionGroup group : requiredGroups) {
            if (group.getSelected() == null) {
                throw new ParseException("one of " + usage(group) + " is required; see " + name + " --help");
            }
        }
        return command;
    }

    /** {@link #run(String[], Endings, Arguments, Loader, Body)} for a program that takes its arguments as parsed. */
    public <C> int run(String[] args, Endings endings, Loader<C> loader, Body<CommandLine, C> body) {
        return run(args, endings, command -> command, loader, body);
    }

    /**
     * Runs the program this declares: parses {@code args}, prints the manual for {@code --help},
     * interprets the arguments, reads the configuration file with {@code loader} and hands both to
     * {@code body}. A usage error, a configuration that cannot be used (unreadable, invalid, a
     * value Kafka's client refuses, wherever in the body that shows) and Kafka refusing the
     * principal end as {@code endings} say; so does anything else thrown.
     */
    public <A, C> int run(String[] args, Endings endings, Arguments<A> arguments, Loader<C> loader, Body<A, C> body) {
        CommandLine command;
        A interpreted;
        try {
            command = parse(args);
            if (command.hasOption("help")) {
                return endings.help(manual());
            }
            interpreted = arguments.interpret(command);
        } catch (ParseException e) {
            return endings.usage(e.getMessage());
        } catch (Exception e) {
            return endings.failed(e);
        }
        Path file = Path.of(command.getOptionValue(configurationFile, defaultConfigurationFile.toString()));
        C config;
        try {
            config = loader.load(file);
        } catch (IOException e) {
            return endings.configuration("configuration " + file + ": " + DeclaredConfig.describe(file, e));
        } catch (RuntimeException e) {
            return ended(e, file, endings);
        }
        try {
            return body.run(interpreted, config);
        } catch (Exception | Error e) {
            return ended(e, file, endings);
        }
    }

    /**
     * The usual endings, with the statuses of sysexits(3): --help 0, a usage error 64, a fault
     * of the configuration 78, each told on {@code out} after the command's name; anything else
     * 70, with its stack trace. The declaration must declare those statuses with their meanings
     * for this command.
     */
    public Endings sysexits(PrintStream out) {
        for (int code : new int[] {EX_OK, EX_USAGE, EX_SOFTWARE, EX_CONFIG}) {
            if (exitStatuses.stream().noneMatch(status -> status.code() == code)) {
                throw new IllegalStateException(name + " declares no exit status " + code);
            }
        }
        return new Endings() {
            @Override
            public int help(String manual) {
                out.print(manual);
                return EX_OK;
            }

            @Override
            public int usage(String problem) {
                out.println(name + ": " + problem);
                return EX_USAGE;
            }

            @Override
            public int configuration(String problem) {
                out.println(name + ": " + problem);
                return EX_CONFIG;
            }

            @Override
            public int failed(Throwable failure) {
                out.println(name + ": stopped by an internal error");
                failure.printStackTrace(out);
                return EX_SOFTWARE;
            }
        };
    }

    /** Ends a run that {@code failure} stopped: as a fault of the configuration in {@code file} when it is one. */
    private static int ended(Throwable failure, Path file, Endings endings) {
        ConfigException fault = causeOf(failure, ConfigException.class);
        if (fault != null) {
            return endings.configuration("configuration " + file + ": " + DeclaredConfig.describe(fault));
        }
        KafkaException refused = causeOf(failure, AuthenticationException.class);
        if (refused == null) {
            refused = causeOf(failure, AuthorizationException.class);
        }
        if (refused != null) {
            return endings.configuration("Kafka refused the principal of " + file + ": " + refused.getMessage());
        }
        return endings.failed(failure);
    }

    /** The {@code type} behind {@code failure}, if any: Kafka's clients wrap a bad kafka.* value in a KafkaException. */
    private static <T extends Throwable> T causeOf(Throwable failure, Class<T> type) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (type.isInstance(cause)) {
                return type.cast(cause);
            }
        }
        return null;
    }

    /** The manual page that --help prints: every section from this declaration. */
    public String manual() {
        StringBuilder page = new StringBuilder();
        page.append("NAME\n    ").append(name).append(" - ").append(summary).append("\n\n");
        page.append("SYNOPSIS\n    ").append(synopsis()).append('\n');
        subcommands.forEach(sub -> page.append("    ").append(sub.synopsis()).append('\n'));
        page.append("    ").append(name).append(" --help\n");
        subcommands.forEach(sub -> page.append("    ").append(sub.name).append(" --help\n"));
        page.append("\nDESCRIPTION\n");
        description.strip().lines().forEach(line -> page.append(line.isEmpty() ? "" : "    " + line).append('\n'));
        page.append("\nOPTIONS\n");
        optionEntries().forEach(entry -> page.append(wrap(entry.term(), entry.meaning())));
        page.append("\nEXIT STATUS\n");
        exitStatusEntries().forEach(entry -> page.append(wrap(entry.term(), entry.meaning())));
        if (configuration != null) {
            page.append("\nCONFIGURATION\n");
            configurationNote.strip().lines().forEach(line -> page.append("    ").append(line).append('\n'));
            page.append('\n').append(configuration.toRst());
        }
        return page.toString();
    }

    /** This command's manual page for man(1), section 8: see {@link ManualPage}. */
    public String manualPage(String version) {
        return ManualPage.command(this, version);
    }

    /** The manual page, section 5, of the configuration file this command reads. */
    public String configurationManualPage(String version) {
        return ManualPage.configurationFile(this, version);
    }

    /** store-worker.properties for /etc/mailstream/store-worker.properties: the name of its section 5 page. */
    public String configurationFileName() {
        return defaultConfigurationFile.getFileName().toString();
    }

    String summary() {
        return summary;
    }

    String description() {
        return description;
    }

    List<String> synopses() {
        List<String> all = new ArrayList<>(List.of(synopsis()));
        subcommands.forEach(sub -> all.add(sub.synopsis()));
        return all;
    }

    List<Term> exitStatusEntries() {
        return exitStatuses.stream().map(status -> new Term(Integer.toString(status.code()), status.meaning())).toList();
    }

    /** Every option, --help last. */
    List<Term> optionEntries() {
        List<Term> entries = new ArrayList<>();
        declaredOptions().forEach(option -> entries.add(new Term(usage(option), option.getDescription())));
        entries.add(new Term("--help", "print this manual page and exit"));
        return entries;
    }

    List<CommandDeclaration> subcommands() {
        return subcommands;
    }

    ConfigDef configurationKeys() {
        return configuration;
    }

    String configurationNote() {
        return configurationNote;
    }

    Path defaultConfigurationFile() {
        return defaultConfigurationFile;
    }

    /** The table of options in docs/. */
    public String optionsMarkdown() {
        return declaredOptions().stream().map(o -> "| `" + usage(o).replace("|", "\\|") + "` | " + o.getDescription() + " |")
                .collect(Collectors.joining("\n", "| option | meaning |\n| --- | --- |\n", "\n"));
    }

    /** The table of exit statuses in docs/. */
    public String exitStatusMarkdown() {
        return exitStatuses.stream().map(s -> "| " + s.code() + " | " + s.meaning() + " |")
                .collect(Collectors.joining("\n", "| exit | meaning |\n| --- | --- |\n", "\n"));
    }

    /** Every declared option, in order, with those of a group in the group's place. */
    private List<Option> declaredOptions() {
        List<Option> all = new ArrayList<>();
        for (Object item : order) {
            if (item instanceof OptionGroup group) {
                all.addAll(group.getOptions());
            } else {
                all.add((Option) item);
            }
        }
        return all;
    }

    private String synopsis() {
        StringBuilder line = new StringBuilder(name);
        for (Object item : order) {
            String usage = item instanceof OptionGroup group ? usage(group) : usage((Option) item);
            boolean mandatory = item instanceof OptionGroup group ? requiredGroups.contains(group) : required.contains(item);
            line.append(' ').append(mandatory ? usage : "[" + usage + "]");
        }
        return line.toString();
    }

    private static String usage(OptionGroup group) {
        return group.getOptions().stream().map(CommandDeclaration::usage).collect(Collectors.joining(" | ", "(", ")"));
    }

    private static String usage(Option option) {
        String flag = option.getOpt() != null ? "-" + option.getOpt() : "--" + option.getLongOpt();
        return option.hasArg() ? flag + " " + option.getArgName() : flag;
    }

    /** One entry of a section: the term in a column, the text wrapped beside it. */
    private static String wrap(String term, String text) {
        StringBuilder out = new StringBuilder("    ").append(term);
        int column = 4 + term.length();
        if (column + 2 > OPTION_COLUMN) {
            out.append('\n');
            column = 0;
        }
        out.append(" ".repeat(OPTION_COLUMN - column));
        int width = OPTION_COLUMN;
        for (String word : text.split(" ")) {
            if (width > OPTION_COLUMN && width + 1 + word.length() > 100) {
                out.append('\n').append(" ".repeat(OPTION_COLUMN));
                width = OPTION_COLUMN;
            }
            if (width > OPTION_COLUMN) {
                out.append(' ');
                width++;
            }
            out.append(word);
            width += word.length();
        }
        return out.append('\n').toString();
    }

}
