package org.mailstream.ingest;

import java.util.List;
import org.mailstream.schemas.Recipient;

/**
 * One message handed over for one or more recipients, with what the MTA knows about it.
 *
 * @param sender            envelope sender, empty for the null sender
 * @param recipients        at least one; one record is published for each
 * @param originalRecipient the recipient before rewriting, or null
 * @param queueId           the MTA's queue id, or null
 * @param clientAddress     the SMTP client's IP address, or null
 * @param message           the raw message, never altered
 */
record Delivery(String sender, List<Recipient> recipients, String originalRecipient, String queueId,
                String clientAddress, byte[] message) {
}
