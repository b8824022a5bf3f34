package org.mailstream.ingest;

import org.mailstream.schemas.DeliveryStatus;

/** A delivery that ended other than with success: its status in the table, and the detail. */
final class DeliveryException extends Exception {

    private static final long serialVersionUID = 1L;

    private final DeliveryStatus status;

    DeliveryException(DeliveryStatus status, String detail) {
        super(detail);
        this.status = status;
    }

    DeliveryException(DeliveryStatus status, String detail, Throwable cause) {
        super(detail, cause);
        this.status = status;
    }

    DeliveryStatus status() {
        return status;
    }

    /** The single line pipe(8) puts into the delivery status notification. */
    String reply() {
        return status.line(getMessage());
    }
}
