package org.mailstream.store;

/** How a record was settled; BOUNCED is a dead letter whose sender was told, by a bounce sent now. */
enum StoreOutcome { STORED, ALREADY_STORED, REINDEXED, DEAD_LETTER, BOUNCED, GIVEN_UP, OTHER_BACKEND }
