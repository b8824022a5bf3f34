package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mailstream.local.Command;

/**
 * The Postfix configuration an operator copies from docs/postfix.md is the shipped example that the
 * end-to-end tests run Postfix with (test-support's Postfix fixture reads the same files).
 */
class PostfixExampleTest {

    private static final Path ROOT = Command.repositoryRoot();

    @ParameterizedTest
    @ValueSource(strings = {"main.cf", "master.cf", "mailstream-mailboxes.cf", "mailstream-quota.cf", "main-lmtp.cf", "master-lmtp.cf"})
    void thePostfixDocumentQuotesTheShippedPostfixFileWordForWord(String name) throws IOException {
        String file = Files.readString(ROOT.resolve("ingest-cli/src/dist/postfix").resolve(name));
        String document = Files.readString(ROOT.resolve("docs/postfix.md"));
        assertTrue(document.contains("```\n" + file + "```\n"), "docs/postfix.md does not quote ingest-cli/src/dist/postfix/" + name
                + " as it is:\n" + file);
    }
}
