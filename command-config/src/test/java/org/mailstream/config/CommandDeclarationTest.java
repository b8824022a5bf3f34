package org.mailstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How every program's run ends, by the usual sysexits endings: what it says and the status. */
class CommandDeclarationTest {

    private final CommandDeclaration declaration = new CommandDeclaration("prog", "a program", "Does a thing.")
            .configurationFile(Path.of("/nonexistent/prog.properties"))
            .exitStatus(CommandDeclaration.EX_OK, "done")
            .exitStatus(CommandDeclaration.EX_USAGE, "usage error")
            .exitStatus(CommandDeclaration.EX_SOFTWARE, "internal error")
            .exitStatus(CommandDeclaration.EX_CONFIG, "configuration refused");
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);

    @TempDir
    Path directory;

    @Test
    void anUnknownOptionIsAUsageErrorNamedAfterTheProgram() {
        assertEquals(64, declaration.run(new String[] {"-x"}, declaration.sysexits(out), Files::readString, (command, text) -> 0));
        assertTrue(said().startsWith("prog: Unrecognized option: -x"), said());
    }

    @Test
    void aMissingConfigurationFileExits78NamingItBeforeTheBodyRuns() {
        assertEquals(78, declaration.run(new String[0], declaration.sysexits(out), Files::readString, (command, text) -> {
            throw new AssertionError("the body ran");
        }));
        assertEquals("prog: configuration /nonexistent/prog.properties: no such file\n", said());
    }

    @Test
    void aConfigurationFaultOrAKafkaRefusalFoundByTheBodyExits78() throws Exception {
        String[] args = {"-c", Files.writeString(directory.resolve("prog.properties"), "").toString()};
        assertEquals(78, declaration.run(args, declaration.sysexits(out), Files::readString, (command, text) -> {
            throw new KafkaException("Failed to construct kafka producer", new ConfigException("kafka.acks must stay all"));
        }));
        assertTrue(said().contains("prog: configuration " + args[1] + ": kafka.acks must stay all"), said());
        assertEquals(78, declaration.run(args, declaration.sysexits(out), Files::readString, (command, text) -> {
            throw new TopicAuthorizationException("Not authorized to access topics: [mail]");
        }));
        assertTrue(said().contains("prog: Kafka refused the principal of " + args[1] + ": Not authorized"), said());
    }

    @Test
    void anythingElseExits70WithItsStackTrace() throws Exception {
        String[] args = {"-c", Files.writeString(directory.resolve("prog.properties"), "").toString()};
        assertEquals(70, declaration.run(args, declaration.sysexits(out), Files::readString, (command, text) -> {
            throw new IllegalStateException("a bug");
        }));
        assertTrue(said().contains("prog: stopped by an internal error") && said().contains("IllegalStateException: a bug"), said());
    }

    @Test
    void aDeclarationWithoutTheStatusesTheUsualEndingsUseIsRefused() {
        CommandDeclaration bare = new CommandDeclaration("bare", "a program", "Does a thing.").exitStatus(0, "done");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> bare.sysexits(out));
        assertTrue(refused.getMessage().contains("bare declares no exit status 64"), refused.getMessage());
    }

    private String said() {
        return output.toString(StandardCharsets.UTF_8);
    }
}
