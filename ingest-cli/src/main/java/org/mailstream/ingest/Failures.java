package org.mailstream.ingest;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.mailstream.schemas.DeliveryStatus;

/**
 * The one place that decides how a failure ends a delivery. Only ingest-cli's own verdicts on
 * the message or recipient are permanent; they arrive here already as a
 * {@link DeliveryException}. Everything else, whatever it is, is temporary: a bounce is a lost
 * mail, a deferral costs a retry.
 */
final class Failures {

    private Failures() {
    }

    static DeliveryException classify(Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof DeliveryException verdict) {
            return verdict;
        }
        DeliveryStatus status;
        if (cause instanceof TimeoutException) {
            status = DeliveryStatus.KAFKA_UNAVAILABLE;
        } else if (cause instanceof RecordTooLargeException) {
            // Our own size check passed, so the broker's limits are below ours: the size chain is
            // misconfigured, which is no fault of the message.
            status = DeliveryStatus.CONFIGURATION_ERROR;
        } else if (cause instanceof ConfigException) {
            status = DeliveryStatus.CONFIGURATION_ERROR;
        } else if (cause instanceof KafkaException) {
            status = DeliveryStatus.KAFKA_REJECTED;
        } else if (cause instanceof OutOfMemoryError) {
            status = DeliveryStatus.OUT_OF_MEMORY;
        } else {
            status = DeliveryStatus.TEMPORARY_FAILURE;
        }
        return new DeliveryException(status, describe(cause), cause);
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof ExecutionException || cause instanceof CompletionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
