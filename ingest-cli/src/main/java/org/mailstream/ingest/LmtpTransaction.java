package org.mailstream.ingest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.DsnRequest;
import org.mailstream.schemas.Recipient;

/**
 * One LMTP transaction's envelope, as MAIL, RCPT and the XFORWARD before them give it, and its
 * delivery after DATA: one record per distinct recipient, then one reply per accepted RCPT, in
 * order. A recipient given twice is published once, and both RCPTs get its reply.
 */
final class LmtpTransaction {

    /** The reply to one recipient after DATA, typed: what it means beside the line the client reads. */
    record Reply(DeliveryStatus status, String line) {

        static Reply of(DeliveryStatus status, String detail) {
            return new Reply(status, status.reply(detail));
        }

        boolean delivered() {
            return status == DeliveryStatus.DELIVERED;
        }
    }

    private String clientAddress;
    private String queueId;
    /** The envelope sender once MAIL opened the transaction; null before. */
    private String sender;
    private String dsnReturn;
    private String envelopeId;
    /** One a RCPT accepted, in order, a recipient given twice included: each gets a reply after DATA. */
    private final List<Recipient> recipients = new ArrayList<>();
    private final Map<Recipient, String> originalRecipients = new LinkedHashMap<>();
    private final Map<Recipient, List<String>> notifyOn = new LinkedHashMap<>();

    /** XFORWARD's ADDR, for the envelope: null for unknown. */
    void forwardedClientAddress(String clientAddress) {
        this.clientAddress = clientAddress;
    }

    /** XFORWARD's IDENT, for the envelope: null for unknown. */
    void forwardedQueueId(String queueId) {
        this.queueId = queueId;
    }

    String queueId() {
        return queueId;
    }

    /** MAIL: the sender, with what RET and ENVID asked of delivery status notifications (null when not asked). */
    void open(String sender, String dsnReturn, String envelopeId) {
        this.sender = sender;
        this.dsnReturn = dsnReturn;
        this.envelopeId = envelopeId;
    }

    boolean isOpen() {
        return sender != null;
    }

    String sender() {
        return sender;
    }

    List<Recipient> recipients() {
        return recipients;
    }

    /** RCPT: a recipient, its ORCPT (null when none) and NOTIFY. */
    void add(Recipient recipient, String originalRecipient, List<String> notify) {
        recipients.add(recipient);
        if (originalRecipient != null) {
            originalRecipients.put(recipient, originalRecipient);
        }
        notifyOn.put(recipient, notify);
    }

    /** Publishes {@code message} for every recipient by {@code deadline}; returns a reply per accepted RCPT. */
    List<Reply> deliver(byte[] message, Instant deadline, LmtpConfig config, Ingest ingest, LmtpMetrics metrics) {
        try {
            Ingest.check(message, config);
        } catch (DeliveryException e) {
            return repeat(Reply.of(e.status(), e.getMessage()));
        }
        // A recipient given twice is one record: the same key, whatever the case of its domain.
        Map<String, Recipient> byKey = new LinkedHashMap<>();
        recipients.forEach(recipient -> byKey.putIfAbsent(recipient.key(), recipient));
        List<Recipient> distinct = List.copyOf(byKey.values());
        Map<Recipient, DsnRequest> dsn = new LinkedHashMap<>();
        notifyOn.forEach((recipient, notify) -> dsn.put(recipient, new DsnRequest(notify, dsnReturn, envelopeId)));
        Delivery delivery = new Delivery(sender, distinct, Map.copyOf(originalRecipients), Map.copyOf(dsn), queueId, clientAddress,
                message);
        Map<String, Reply> replyTo = new LinkedHashMap<>();
        try {
            long start = System.nanoTime();
            List<Ingest.Outcome> outcomes = ingest.publish(delivery, deadline);
            metrics.published(System.nanoTime() - start);
            for (int i = 0; i < outcomes.size(); i++) {
                Ingest.Outcome outcome = outcomes.get(i);
                replyTo.put(distinct.get(i).key(), outcome.acknowledged() ? Reply.of(DeliveryStatus.DELIVERED, null)
                        : Reply.of(outcome.failure().status(), outcome.failure().getMessage()));
            }
        } catch (RuntimeException | Error e) {
            // Nothing unforeseen may become a bounce, or a missing reply, which Postfix would wait out.
            DeliveryException failure = Failures.classify(e);
            return repeat(Reply.of(failure.status(), failure.getMessage()));
        }
        return recipients.stream().map(recipient -> replyTo.get(recipient.key())).toList();
    }

    private List<Reply> repeat(Reply reply) {
        return recipients.stream().map(r -> reply).toList();
    }
}
