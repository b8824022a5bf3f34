package org.mailstream.store;

import java.time.Duration;

/**
 * When the store loop may commit the offset of a stored record. With {@code store.durability=sync}
 * the back end syncs every add, so an acknowledged write is on disk and its offset is committed at
 * once. With {@code log} ({@link LogCommitRule}) an acknowledged write may live only in the
 * provider's memory until its next checkpoint, so the offset waits, and any sign that the back end
 * may have lost writes sends the loop back to the last committed offsets.
 */
interface CommitRule {

    /** The sync rule: every acknowledged write is durable, nothing is ever lost. */
    CommitRule IMMEDIATE = new CommitRule() {
        @Override
        public Duration delay() {
            return Duration.ZERO;
        }

        @Override
        public long lossSigns() {
            return 0;
        }

        @Override
        public void lookForLosses() {
        }
    };

    /** How long after its write a record's offset must wait before it may be committed. */
    Duration delay();

    /** A count that grows with every sign that the back end may have lost acknowledged writes. */
    long lossSigns();

    /** Looks for signs of lost writes that no operation has come across yet; called before a commit. */
    void lookForLosses();
}
