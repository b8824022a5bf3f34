package org.mailstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DeliveryStatusTest {

    @ParameterizedTest
    @EnumSource(DeliveryStatus.class)
    void theEnhancedCodeClassAgreesWithWhatPostfixDoesWithTheExitStatus(DeliveryStatus status) {
        char expectedClass = status.exitCode() == 0 ? '2' : deferred(status) ? '4' : '5';
        assertEquals(expectedClass, status.enhancedCode().charAt(0), status.name());
        assertTrue(status.enhancedCode().matches("[245]\\.\\d{1,3}\\.\\d{1,3}"), status.name());
    }

    @ParameterizedTest
    @EnumSource(DeliveryStatus.class)
    void theReplyCodeAgreesWithTheEnhancedCodeSoThatLmtpAndPipeDecideAlike(DeliveryStatus status) {
        assertEquals(status.enhancedCode().charAt(0), Integer.toString(status.replyCode()).charAt(0), status.name());
        assertEquals(deferred(status), status.replyCode() == 451, status.name());
    }

    /** What pipe(8) does with the exit status: only EX_TEMPFAIL defers of the statuses the table uses. */
    private static boolean deferred(DeliveryStatus status) {
        return status.exitCode() == DeliveryStatus.EX_TEMPFAIL;
    }

    @Test
    void theLmtpReplyIsTheReplyCodeAndTheSameOneLine() {
        assertEquals("451 4.4.1 kafka unavailable: broker down twice", DeliveryStatus.KAFKA_UNAVAILABLE.reply("broker down\r\ntwice"));
        assertEquals("250 2.0.0 delivered", DeliveryStatus.DELIVERED.reply(null));
    }

    @Test
    void onlyTheSysexitsCodesPostfixKnowsAreUsed() {
        for (DeliveryStatus status : DeliveryStatus.values()) {
            assertTrue(status.exitCode() == 0 || (status.exitCode() >= 64 && status.exitCode() <= 78), status.name());
        }
    }

    @Test
    void theIngestDocumentListsEveryStatusAsTheTableDefinesIt() throws Exception {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("README.md"))) {
            root = root.getParent();
        }
        String text = Files.readString(root.resolve("docs/ingest.md"));
        for (DeliveryStatus status : DeliveryStatus.values()) {
            String postfix = status.exitCode() == 0 ? "sent" : deferred(status) ? "deferred" : "bounced";
            String row = "| " + status.exitCode() + " | " + status.replyCode() + " | " + status.enhancedCode() + " | " + status.text()
                    + " | " + postfix + " |";
            assertTrue(text.contains(row), "docs/ingest.md lacks the row " + row);
        }
    }

    @Test
    void theReplyIsOneLineStartingWithTheEnhancedCodeWhateverTheDetail() {
        assertEquals("4.4.1 kafka unavailable: broker down twice",
                DeliveryStatus.KAFKA_UNAVAILABLE.line("broker down\r\ntwice"));
        assertEquals("5.6.0 malformed message", DeliveryStatus.MALFORMED_MESSAGE.line(null));
    }
}
