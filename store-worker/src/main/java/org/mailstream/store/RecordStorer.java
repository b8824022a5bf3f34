package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;
import org.mailstream.schemas.MessageIdentity;
import org.mailstream.schemas.Recipient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores one record: stored, found already stored (and, when reparsing, re-indexed),
 * dead-lettered (or, for a letter that redrive has tried too often, given up), or left to the
 * back end that owns it; or it throws, and the record must be tried again later, because nothing
 * about it has been settled.
 *
 * <p>Whose fault a failure is decides what follows ({@link LdapFailures}): the record's sends it
 * to the dead-letter topic at once; the back end's availability and the operator's retry for as
 * long as they last, the operator's named once in the log; a failure nobody foresaw is retried
 * {@value StoreConfig#RECORD_MAX_ATTEMPTS} times and then taken for the record's, so that one
 * record can never hold its partition for good.
 */
final class RecordStorer {

    /** What to do with a message that is already stored: leave it, or recompute its derived attributes. */
    enum WhenStored { KEEP, REPARSE }

    /** A failure that may pass: the record is retried, nothing after it in its partition is committed. */
    static final class RetryLater extends Exception {
        private static final long serialVersionUID = 1L;

        RetryLater(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(RecordStorer.class);

    private final Mailboxes mailboxes;
    private final DeadLetters deadLetters;
    private final Bounces bounces;
    private final long maxWriteBytes;
    private final BackendRouting routing;
    private final WhenStored whenStored;
    private final WorkerMetrics metrics;
    private final String serviceDn;
    private final int maxAttempts;
    private final Duration maxAge;
    private final Duration ownerCreatedAfterMail;
    private final Strikes unforeseen;
    /** Per partition held by a fault only the operator can mend, that fault as named in the log, until the partition stores again. */
    private final Map<TopicPartition, String> operatorFaults = new ConcurrentHashMap<>();

    RecordStorer(Mailboxes mailboxes, DeadLetters deadLetters, Bounces bounces, StoreConfig config, WhenStored whenStored,
            WorkerMetrics metrics) {
        this.bounces = bounces;
        this.metrics = metrics;
        this.serviceDn = config.ldapBindDn();
        this.maxAttempts = config.redriveMaxAttempts();
        this.maxAge = config.redriveMaxAge();
        this.unforeseen = new Strikes(config.recordMaxAttempts());
        this.ownerCreatedAfterMail = config.mailboxCreatedAfterMail();
        this.mailboxes = mailboxes;
        this.deadLetters = deadLetters;
        this.maxWriteBytes = config.ldapMaxWriteBytes();
        this.routing = config.routing();
        this.whenStored = whenStored;
    }

    StoreOutcome store(ConsumerRecord<byte[], byte[]> record) throws RetryLater {
        if (!routing.owns(record.key())) {
            return StoreOutcome.OTHER_BACKEND;
        }
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        try {
            Delivered delivered = write(record);
            unforeseen.clear(partition);
            String mended = operatorFaults.remove(partition);
            if (mended != null) {
                LOG.info("{}: storing again after {}", partition, mended);
            }
            LOG.info(DeliveryLine.stored(record, delivered.envelope(), delivered.message(), delivered.entry(), delivered.outcome()));
            return delivered.outcome();
        } catch (PermanentFailure failure) {
            return settledAsDeadLetter(partition, record, failure.getMessage(), failure.bounceAs);
        } catch (LDAPException e) {
            String description = LdapFailures.describe(e);
            switch (LdapFailures.cause(e)) {
                case ENTRY -> {
                    return settledAsDeadLetter(partition, record, "LDAP refused the entry: " + description, null);
                }
                case OPERATOR -> {
                    metrics.operatorFault(e.getResultCode());
                    if (!description.equals(operatorFaults.put(partition, description))) {
                        LOG.error("{}: the back end refuses {}, which only the operator can mend (rights, credentials, transport "
                                + "security): the partition waits until it is mended: {}", partition, serviceDn, description);
                    }
                    throw new RetryLater("LDAP, the operator's to mend: " + description, e);
                }
                default -> throw new RetryLater("LDAP: " + description, e);
            }
        } catch (RuntimeException e) {
            int attempts = unforeseen.strike(partition, record.offset());
            if (!unforeseen.out(attempts)) {
                throw new RetryLater("unexpected failure, attempt " + attempts + " of " + unforeseen.limit() + ": " + e, e);
            }
            LOG.error("{}/{}/{} failed unexpectedly {} times, taken for the record's fault", record.topic(), record.partition(),
                    record.offset(), attempts, e);
            return settledAsDeadLetter(partition, record, "failed unexpectedly " + attempts + " times: " + e, null);
        }
    }

    private StoreOutcome settledAsDeadLetter(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, String reason,
            DeliveryStatus bounceAs) throws RetryLater {
        StoreOutcome outcome = deadLetter(record, reason, bounceAs);
        unforeseen.clear(partition);
        return outcome;
    }

    /** A record written: how, its envelope, its message entry as parsed, and the entry it is in the directory. */
    private record Delivered(StoreOutcome outcome, Envelope envelope, Entry message, DN entry) {
    }

    private Delivered write(ConsumerRecord<byte[], byte[]> record) throws PermanentFailure, LDAPException {
        if (record.key() == null || record.value() == null) {
            throw new PermanentFailure("record without key or value");
        }
        Envelope envelope = envelope(record);
        if (!envelope.sha256().equals(MessageIdentity.sha256Hex(record.value()))) {
            throw new PermanentFailure("value does not match the SHA-256 in its envelope");
        }
        Mailboxes.Destination destination = mailboxes.destination(recipient(envelope));
        Mailboxes.Owner owner = destination.owner();
        if (!ownerCreatedAfterMail.isNegative() && owner.created() != null
                && owner.created().isAfter(envelope.receivedAt().plus(ownerCreatedAfterMail))) {
            throw PermanentFailure.recipients(DeliveryStatus.NO_SUCH_MAILBOX, "mailbox newer than the mail: " + owner.dn() + " was created at " + owner.created()
                    + ", the mail received at " + envelope.receivedAt() + ", so it was sent to an earlier holder of the address"
                    + " (" + StoreConfig.MAILBOX_CREATED_AFTER_MAIL_MS + ")");
        }
        Entry message = MessageEntry.message(destination.folder(), record.value(), envelope);
        long size = MessageEntry.fittedSize(message, maxWriteBytes);
        if (size > maxWriteBytes) {
            throw new PermanentFailure("too large for the back end: the entry takes about " + size
                    + " octets, the back end accepts " + maxWriteBytes + " (" + StoreConfig.LDAP_MAX_WRITE_BYTES + ")");
        }
        Mailboxes.Added added = mailboxes.add(message, owner);
        if (added.created()) {
            metrics.stored(envelope.receivedAt());
            return new Delivered(StoreOutcome.STORED, envelope, message, added.entry());
        }
        boolean reindexed = whenStored == WhenStored.REPARSE && mailboxes.reindex(message, added.entry());
        return new Delivered(reindexed ? StoreOutcome.REINDEXED : StoreOutcome.ALREADY_STORED, envelope, message, added.entry());
    }

    private static Recipient recipient(Envelope envelope) throws PermanentFailure {
        try {
            return Recipient.parse(envelope.recipient());
        } catch (IllegalArgumentException e) {
            throw new PermanentFailure("the envelope's recipient is no address: " + e.getMessage());
        }
    }

    private static Envelope envelope(ConsumerRecord<byte[], byte[]> record) throws PermanentFailure {
        Header header = record.headers().lastHeader(MailRecord.ENVELOPE_HEADER);
        if (header == null) {
            throw new PermanentFailure("no " + MailRecord.ENVELOPE_HEADER + " header");
        }
        try {
            return Envelope.fromJson(header.value());
        } catch (IllegalArgumentException e) {
            throw new PermanentFailure(e.getMessage());
        }
    }

    /**
     * Sends {@code record} to the dead-letter topic, or, when it is a letter that has failed
     * redrive.max.attempts times or first failed longer than redrive.max.age.ms ago, gives up on
     * it: it is not written again, and the log and the pass's summary say so. A record whose
     * failure is the recipient's ({@code bounceAs} not null) is bounced to its sender first.
     */
    private StoreOutcome deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, DeliveryStatus bounceAs) throws RetryLater {
        Envelope envelope = readableEnvelope(record);
        int attempts = DeadLetters.attempts(record);
        Instant firstFailed = DeadLetters.firstFailed(record);
        if (attempts >= maxAttempts || (firstFailed != null && firstFailed.plus(maxAge).isBefore(Instant.now()))) {
            LOG.warn(DeliveryLine.refused(record, envelope, StoreOutcome.GIVEN_UP,
                    "after " + attempts + " attempts since " + firstFailed + ": " + reason));
            return StoreOutcome.GIVEN_UP;
        }
        Bounces.Sent bounced = bounceAs == null || envelope == null ? Bounces.Sent.NOT_WANTED : bounce(record, envelope, bounceAs);
        try {
            deadLetters.send(record, reason, bounced != Bounces.Sent.NOT_WANTED);
            StoreOutcome outcome = bounced == Bounces.Sent.NOW ? StoreOutcome.BOUNCED : StoreOutcome.DEAD_LETTER;
            LOG.warn(DeliveryLine.refused(record, envelope, outcome, bounced == Bounces.Sent.BEFORE ? reason + "; bounced before" : reason));
            return outcome;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new RetryLater("cannot write the dead letter: " + e, e);
        }
    }

    /** The record's envelope, or null when a forged or broken record has none that reads. */
    private static Envelope readableEnvelope(ConsumerRecord<byte[], byte[]> record) {
        try {
            return envelope(record);
        } catch (PermanentFailure unreadable) {
            return null;
        }
    }

    /** Tells the record's sender; a command or a marker that fails holds the record, which is tried again. */
    private Bounces.Sent bounce(ConsumerRecord<byte[], byte[]> record, Envelope envelope, DeliveryStatus status) throws RetryLater {
        try {
            return bounces.bounce(envelope, record.value(), status);
        } catch (LDAPException | IOException e) {
            String description = e instanceof LDAPException ldap ? LdapFailures.describe(ldap) : e.getMessage();
            LOG.error("{}/{}/{}: cannot send its bounce, the record waits: {}", record.topic(), record.partition(), record.offset(),
                    description);
            throw new RetryLater("cannot send the bounce: " + description, e);
        }
    }
}
