package org.mailstream.store;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.ParseException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.mailstream.config.CommandDeclaration;
import org.mailstream.config.DeclaredConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every store-worker command runs, the worker and each pass alike: parse the arguments by
 * the command's declaration, print its manual for --help, load the configuration, run, and turn
 * what went wrong into a {@link WorkerExit}. A fault of the configuration (unreadable, invalid,
 * a file it names unreadable, a kafka.* value Kafka's client refuses) and Kafka refusing the
 * principal (wrong credentials, a missing ACL) are reported on {@code out} and end with
 * {@link WorkerExit#CONFIG}; anything unforeseen is logged and ends with {@link WorkerExit#SOFTWARE}.
 */
final class ConfiguredCommand {

    static final Option CONFIG = CommandDeclaration.option("c", null, "CONFIG",
            "configuration file (default " + StoreConfig.DEFAULT_PATH + ")");

    private static final Logger LOG = LoggerFactory.getLogger(ConfiguredCommand.class);

    /** What a command makes of its parsed arguments, before the configuration is read; a ParseException is a usage error. */
    interface Arguments<A> {
        A interpret(CommandLine command) throws ParseException;
    }

    /** What a command does with its arguments and its configuration. */
    interface Body<A> {
        WorkerExit run(A arguments, StoreConfig config) throws Exception;
    }

    private ConfiguredCommand() {
    }

    static <A> int run(CommandDeclaration declaration, String[] args, PrintStream out, Arguments<A> arguments, Body<A> body) {
        CommandLine command;
        A interpreted;
        try {
            command = declaration.parse(args);
            if (command.hasOption("help")) {
                out.print(declaration.manual());
                return WorkerExit.OK.code();
            }
            interpreted = arguments.interpret(command);
        } catch (ParseException e) {
            out.println(declaration.name() + ": " + e.getMessage());
            return WorkerExit.USAGE.code();
        }
        Path file = Path.of(command.getOptionValue(CONFIG, StoreConfig.DEFAULT_PATH.toString()));
        try {
            return body.run(interpreted, StoreConfig.load(file)).code();
        } catch (IOException e) {
            out.println(declaration.name() + ": configuration " + file + ": " + DeclaredConfig.describe(file, e));
            return WorkerExit.CONFIG.code();
        } catch (Exception e) {
            ConfigException fault = causeOf(e, ConfigException.class);
            if (fault != null) {
                out.println(declaration.name() + ": configuration " + file + ": " + DeclaredConfig.describe(fault));
                return WorkerExit.CONFIG.code();
            }
            KafkaException refused = refusal(e);
            if (refused != null) {
                out.println(declaration.name() + ": Kafka refused the principal of " + file + ": " + refused.getMessage());
                return WorkerExit.CONFIG.code();
            }
            LOG.error("{} stopped by an internal error", declaration.name(), e);
            return WorkerExit.SOFTWARE.code();
        }
    }

    /** The {@code type} behind {@code e}, if any: Kafka's clients wrap a bad kafka.* value in a KafkaException. */
    private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (type.isInstance(cause)) {
                return type.cast(cause);
            }
        }
        return null;
    }

    /** Kafka's refusal behind {@code e}: wrong credentials, or a right the principal lacks (its ACLs). */
    private static KafkaException refusal(Throwable e) {
        AuthenticationException unauthenticated = causeOf(e, AuthenticationException.class);
        return unauthenticated != null ? unauthenticated : causeOf(e, AuthorizationException.class);
    }
}
