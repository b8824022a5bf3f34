package org.mailstream.schemas;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The identity rule: a stored message's id is the SHA-256 of the record value (the raw message
 * bytes), as 64 lower-case hex digits.
 *
 * <p>Because the id depends on nothing but the bytes, a Postfix retry (same queue file, same
 * bytes), a Kafka redelivery and a topic replay all name the same LDAP entry, and the worker
 * absorbs the duplicate. Two recipients of one message get one entry each, below their own
 * mailbox owners.
 */
public final class MessageIdentity {

    private MessageIdentity() {
    }

    /** The id of the message whose raw bytes are {@code rawMessage}. */
    public static String of(byte[] rawMessage) {
        return sha256Hex(rawMessage);
    }

    /** SHA-256 of {@code bytes} as lower-case hex: the envelope's {@code sha256} field. */
    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }
}
