package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;
import org.mailstream.schemas.MessageIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores one record: stored, found already stored (and, when reparsing, re-indexed),
 * dead-lettered (or, for a letter that redrive has tried too often, given up), or left to the back end that owns it; or it throws, and the record must be tried
 * again later, because nothing about it has been settled.
 */
final class RecordStorer {

    enum Outcome { STORED, ALREADY_STORED, REINDEXED, DEAD_LETTER, GIVEN_UP, OTHER_BACKEND }

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
    private final long maxWriteBytes;
    private final BackendRouting routing;
    private final WhenStored whenStored;
    private final WorkerMetrics metrics;
    private final int maxAttempts;
    private final Duration maxAge;

    RecordStorer(Mailboxes mailboxes, DeadLetters deadLetters, StoreConfig config, WhenStored whenStored, WorkerMetrics metrics) {
        this.metrics = metrics;
        this.maxAttempts = config.redriveMaxAttempts();
        this.maxAge = config.redriveMaxAge();
        this.mailboxes = mailboxes;
        this.deadLetters = deadLetters;
        this.maxWriteBytes = config.ldapMaxWriteBytes();
        this.routing = config.routing();
        this.whenStored = whenStored;
    }

    Outcome store(ConsumerRecord<byte[], byte[]> record) throws RetryLater {
        if (!routing.owns(record.key())) {
            return Outcome.OTHER_BACKEND;
        }
        try {
            return write(record);
        } catch (PermanentFailure failure) {
            return deadLetter(record, failure.getMessage());
        } catch (LDAPException e) {
            if (LdapFailures.isRetriable(e)) {
                throw new RetryLater("LDAP: " + LdapFailures.describe(e), e);
            }
            return deadLetter(record, "LDAP refused the entry: " + LdapFailures.describe(e));
        }
    }

    private Outcome write(ConsumerRecord<byte[], byte[]> record) throws PermanentFailure, LDAPException {
        if (record.key() == null || record.value() == null) {
            throw new PermanentFailure("record without key or value");
        }
        Envelope envelope = envelope(record);
        if (!envelope.sha256().equals(MessageIdentity.sha256Hex(record.value()))) {
            throw new PermanentFailure("value does not match the SHA-256 in its envelope");
        }
        DN owner = mailboxes.owner(new String(record.key(), StandardCharsets.UTF_8));
        Entry message = MessageEntry.message(mailboxes.folderOf(owner), record.value(), envelope);
        long size = MessageEntry.encodedSize(message);
        if (size > maxWriteBytes) {
            throw new PermanentFailure("too large for the back end: the entry takes about " + size
                    + " octets, the back end accepts " + maxWriteBytes + " (" + StoreConfig.LDAP_MAX_WRITE_BYTES + ")");
        }
        if (mailboxes.add(message, owner)) {
            metrics.stored(envelope.receivedAt());
            return Outcome.STORED;
        }
        return whenStored == WhenStored.REPARSE && mailboxes.reindex(message) ? Outcome.REINDEXED : Outcome.ALREADY_STORED;
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
     * it: it is not written again, and the log and the pass's summary say so.
     */
    private Outcome deadLetter(ConsumerRecord<byte[], byte[]> record, String reason) throws RetryLater {
        int attempts = DeadLetters.attempts(record);
        Instant firstFailed = DeadLetters.firstFailed(record);
        if (attempts >= maxAttempts || (firstFailed != null && firstFailed.plus(maxAge).isBefore(Instant.now()))) {
            LOG.warn("gave up on dead letter {}/{}/{} after {} attempts since {}: {}", record.topic(), record.partition(), record.offset(),
                    attempts, firstFailed, reason);
            return Outcome.GIVEN_UP;
        }
        try {
            deadLetters.send(record, reason);
            LOG.warn("dead letter {}/{}/{}: {}", record.topic(), record.partition(), record.offset(), reason);
            return Outcome.DEAD_LETTER;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new RetryLater("cannot write the dead letter: " + e, e);
        }
    }
}
