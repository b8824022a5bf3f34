package org.mailstream.server;

import java.io.IOException;

/** What a protocol gives the {@link Server}: a session for each connection, and its words for ending one. */
public interface Protocol {

    /** Why the server ends a connection or refuses one, for the protocol to say in its own words. */
    enum Farewell {
        /** A TCP client from a network not allowed. */
        NOT_ALLOWED,
        /** Every slot is taken. */
        TOO_MANY_CONNECTIONS,
        /** The server is stopping. */
        SHUTTING_DOWN,
        /** The client said nothing for the idle timeout. */
        IDLE,
        /** The client took longer than the transaction timeout over one transaction. */
        TRANSACTION_TOO_LONG
    }

    /** The protocol's name, for thread names and the log: "lmtp", "imap". */
    String name();

    /** A session for a connection just accepted; the server serves it on a thread of its own. */
    Session open(Connection connection) throws IOException;

    /** The line (without its line end) that tells a client why it is refused or disconnected. */
    String farewell(Farewell why, String peer);

    /** One connection's conversation. */
    interface Session {

        /** Serves the connection until the client leaves, the protocol ends it, or the connection is closed under it. */
        void serve() throws IOException;

        /**
         * When the transaction in progress began ({@link System#nanoTime()}), or empty when
         * there is none: a stop waits for it to end, and the transaction timeout counts from it.
         */
        java.util.OptionalLong transactionStartedNanos();
    }
}
