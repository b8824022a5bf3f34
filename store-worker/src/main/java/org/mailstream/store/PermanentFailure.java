package org.mailstream.store;

/** A record that can never be stored as it is: it goes to the dead-letter topic with this reason. */
final class PermanentFailure extends Exception {

    private static final long serialVersionUID = 1L;

    PermanentFailure(String reason) {
        super(reason);
    }
}
