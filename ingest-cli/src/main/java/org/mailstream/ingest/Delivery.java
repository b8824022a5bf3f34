package org.mailstream.ingest;

import java.util.List;
import java.util.Map;
import org.mailstream.schemas.DsnRequest;
import org.mailstream.schemas.Recipient;

/**
 * One message handed over for one or more recipients, with what the MTA knows about it.
 *
 * @param sender             envelope sender, empty for the null sender
 * @param recipients         at least one; one record is published for each
 * @param originalRecipients each recipient's address before rewriting, where known
 * @param dsnRequests        what the sender asked of delivery status notifications, for each recipient where known
 * @param queueId            the MTA's queue id, or null
 * @param clientAddress      the SMTP client's IP address, or null
 * @param message            the raw message, never altered
 */
record Delivery(String sender, List<Recipient> recipients, Map<Recipient, String> originalRecipients,
                Map<Recipient, DsnRequest> dsnRequests, String queueId, String clientAddress, byte[] message) {

    /** {@code recipient}'s original address, or null when the MTA gave none. */
    String originalRecipient(Recipient recipient) {
        return originalRecipients.get(recipient);
    }

    /** What the sender asked of notifications about {@code recipient}; {@link DsnRequest#NONE} when the MTA said nothing. */
    DsnRequest dsnRequest(Recipient recipient) {
        return dsnRequests.getOrDefault(recipient, DsnRequest.NONE);
    }
}
