package org.mailstream.store;

import org.mailstream.schemas.DeliveryStatus;

/**
 * A record that can never be stored as it is: it goes to the dead-letter topic with this reason.
 * When the reason is the recipient's (no such mailbox any more), {@link #bounceAs} is the status
 * its sender is told, in a bounce; otherwise it is null, and only the operator learns of it.
 */
final class PermanentFailure extends Exception {

    private static final long serialVersionUID = 1L;

    final transient DeliveryStatus bounceAs;

    PermanentFailure(String reason) {
        this(null, reason);
    }

    private PermanentFailure(DeliveryStatus bounceAs, String reason) {
        super(reason);
        this.bounceAs = bounceAs;
    }

    /** A failure that is the recipient's: the sender is told, as {@code status}. */
    static PermanentFailure recipients(DeliveryStatus status, String reason) {
        return new PermanentFailure(status, reason);
    }
}
