package org.mailstream.store;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;
import org.mailstream.schemas.Recipient;

/**
 * Which back end owns a record: a pure function of its key (the recipient address) and the
 * routing configuration, so that every worker of every back end, and every replay, decides the
 * same without asking anyone, and ingest-cli never needs to know.
 *
 * <p>Rule: an address is routed as its mailbox's, without its extension (recipient.delimiter),
 * so that {@code alice+news@} goes where {@code alice@} goes, also for records keyed before
 * ingest knew the delimiter. A pinned address belongs to the back end it is pinned to; any other
 * address to the back end with the highest score {@code murmur2(name NUL address)} (rendezvous
 * hashing: adding a back end takes over about 1/n of the addresses and moves none between the
 * others). A record without a key belongs to the first back end, so that exactly one
 * dead-letters it.
 */
final class BackendRouting {

    /** The keys that configure it, which the store-worker configuration declares. */
    static final String BACKEND = "backend";
    static final String ROUTING_BACKENDS = "routing.backends";
    static final String ROUTING_PINS = "routing.pins";

    private final String self;
    private final List<String> backends;
    private final Map<String, String> pins;
    private final String delimiters;

    private BackendRouting(String self, List<String> backends, Map<String, String> pins, String delimiters) {
        this.self = self;
        this.backends = List.copyOf(backends);
        this.pins = Map.copyOf(pins);
        this.delimiters = delimiters;
    }

    /**
     * Routing for one back end, {@code self}, among {@code backends}, addresses split at
     * {@code delimiters}; an empty list means one back end that owns all.
     */
    static BackendRouting of(String self, List<String> backends, List<String> pinList, String delimiters) {
        if (backends.isEmpty()) {
            if (!self.isEmpty() || !pinList.isEmpty()) {
                throw new IllegalArgumentException(BACKEND + " and " + ROUTING_PINS + " need "
                        + ROUTING_BACKENDS);
            }
            return new BackendRouting("", List.of(), Map.of(), delimiters);
        }
        if (backends.stream().distinct().count() != backends.size()) {
            throw new IllegalArgumentException(ROUTING_BACKENDS + " names a back end twice: " + backends);
        }
        if (!backends.contains(self)) {
            throw new IllegalArgumentException(BACKEND + " '" + self + "' is not one of " + ROUTING_BACKENDS
                    + " " + backends);
        }
        Map<String, String> pins = new HashMap<>();
        for (String pin : pinList) {
            int equals = pin.lastIndexOf('=');
            String address = equals < 0 ? "" : pin.substring(0, equals).strip();
            String backend = equals < 0 ? "" : pin.substring(equals + 1).strip();
            if (address.isEmpty() || !backends.contains(backend)) {
                throw new IllegalArgumentException(ROUTING_PINS + ": '" + pin + "' is not ADDRESS=BACKEND with a back end of "
                        + backends);
            }
            if (pins.put(keyOf(address, pin, delimiters), backend) != null) {
                throw new IllegalArgumentException(ROUTING_PINS + " pins " + address + " twice");
            }
        }
        return new BackendRouting(self, backends, pins, delimiters);
    }

    /** A pinned address as {@link #ownerOf} compares it: its mailbox's, lower-cased. */
    private static String keyOf(String address, String pin, String delimiters) {
        try {
            return mailboxOf(Recipient.parse(address), delimiters);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ROUTING_PINS + ": '" + pin + "': " + e.getMessage(), e);
        }
    }

    /** Whether this worker's back end owns the record with key {@code key} (null for none). */
    boolean owns(byte[] key) {
        return backends.isEmpty() || self.equals(ownerOf(key == null ? null : new String(key, StandardCharsets.UTF_8)));
    }

    /**
     * The back end that owns {@code address}; null when there is only one, unnamed, back end.
     * Case does not matter, as it does not to the owner lookup (mail is a case-ignoring
     * attribute) nor to Postfix: ALICE@ and alice@ are one mailbox, so they must be one back end.
     */
    String ownerOf(String rawAddress) {
        if (backends.isEmpty()) {
            return null;
        }
        if (rawAddress == null) {
            return backends.get(0);
        }
        String address = mailboxOf(rawAddress);
        String pinned = pins.get(address);
        if (pinned != null) {
            return pinned;
        }
        String owner = null;
        long best = -1;
        for (String backend : backends) {
            long score = Utils.toPositive(Utils.murmur2((backend + '\0' + address).getBytes(StandardCharsets.UTF_8)));
            if (score > best) {
                best = score;
                owner = backend;
            }
        }
        return owner;
    }

    /** Whether {@code rawAddress}'s mailbox is pinned to its back end by routing.pins. */
    boolean isPinned(String rawAddress) {
        return pins.containsKey(mailboxOf(rawAddress));
    }

    /** A forged key that is no address is routed as it is, and dead-lettered by the back end it lands on. */
    private String mailboxOf(String address) {
        try {
            return mailboxOf(Recipient.parse(address), delimiters);
        } catch (IllegalArgumentException e) {
            return address.toLowerCase(Locale.ROOT);
        }
    }

    private static String mailboxOf(Recipient address, String delimiters) {
        return address.withoutExtension(delimiters).key().toLowerCase(Locale.ROOT);
    }
}
