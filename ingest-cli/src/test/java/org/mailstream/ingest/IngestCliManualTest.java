package org.mailstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.testsupport.DocumentedReference;

/** ingest-cli's options and exit statuses are declared once; the manual and docs/ingest.md follow. */
class IngestCliManualTest {

    @Test
    void theManualListsEveryExitStatusOfTheStatusTableWithItsEnhancedCode() {
        String exitStatus = section(IngestCli.COMMAND.manual(), "EXIT STATUS").replaceAll("\\s+", " ");
        for (DeliveryStatus status : DeliveryStatus.values()) {
            assertTrue(exitStatus.contains(status.text() + " (" + status.enhancedCode() + ")"), status + " in\n" + exitStatus);
            assertTrue(exitStatus.contains(" " + status.exitCode() + " " + status.text().substring(0, 4)) || exitStatus.contains("; " + status.text()),
                    status + " in\n" + exitStatus);
        }
    }

    @Test
    void theManualListsEveryDeclaredOptionInItsSynopsisAndOptions() {
        String manual = IngestCli.COMMAND.manual();
        for (String option : new String[] {"-c CONFIG", "-f SENDER", "-a ORIGINAL_RECIPIENT", "-q QUEUE_ID", "-i CLIENT_ADDRESS",
                "-d RECIPIENT ..."}) {
            assertTrue(section(manual, "SYNOPSIS").contains(option), option);
            assertTrue(section(manual, "OPTIONS").contains("    " + option), option);
        }
    }

    @Test
    void itsDocumentHoldsTheOptionsAsDeclared() {
        // docs/ingest.md's exit statuses are DeliveryStatus's table, which DeliveryStatusTest holds to it.
        DocumentedReference.assertDocumentsOptions("docs/ingest.md", IngestCli.COMMAND);
    }

    @Test
    void aMissingRecipientIsAUsageErrorThatDefersInOneLine() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = IngestCli.run(new String[] {"-f", "a@example.com"}, new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        String line = out.toString(StandardCharsets.UTF_8);
        assertEquals(DeliveryStatus.USAGE_ERROR.exitCode(), status, line);
        assertEquals(75, status, line);
        assertEquals("4.3.5 command line usage error: -d RECIPIENT ... is required; see ingest-cli --help\n", line);
    }

    private static String section(String manual, String heading) {
        int start = manual.indexOf("\n" + heading + "\n");
        int end = manual.indexOf("\n\n", start + heading.length() + 2);
        return manual.substring(start, end < 0 ? manual.length() : end);
    }
}
