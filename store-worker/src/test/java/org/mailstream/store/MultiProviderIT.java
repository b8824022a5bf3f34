package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.Slapd;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MessageIdentity;

/**
 * What multi-provider replication does with the worker's entries when a back end's providers
 * are disturbed in the middle of their own work: a provider restarted while it refreshes from its
 * peer, and the same message written on both providers at the same moment, as a worker that fails
 * over in the middle of a write does. Real slapd providers, configured as the tests' back ends.
 */
class MultiProviderIT {

    /** Messages each provider is given at once in a round of the race. */
    private static final int MESSAGES_A_ROUND = 50;
    /** Rounds of the race run at most, until one of them has a message added on both providers. */
    private static final int ROUNDS = 10;

    private static final DN OWNER = dn("uid=kim," + Slapd.PEOPLE);
    private static final DN INBOX = MessageEntry.folderDn(OWNER, "INBOX");

    @Test
    void aProviderKilledAndRestartedWhileItRefreshesFromItsPeerEndsWithEveryEntryAndTheSameState() throws Exception {
        List<Slapd> providers = Slapd.startProviders(2);
        try {
            Slapd first = providers.get(0);
            Slapd second = providers.get(1);
            first.addMailbox("kim");
            awaitAgreement(providers);
            second.stop();
            addMessages(first, 0, 2_000);
            second.restart();
            // Killed as soon as the refresh has brought some of the entries, not all.
            Awaitility.await("the second provider in the middle of its refresh").atMost(Duration.ofMinutes(1))
                    .pollInterval(Duration.ofMillis(20)).until(() -> {
                        int count = messageCount(second);
                        return count > 0 && count < 2_000;
                    });
            second.kill();
            second.restart();
            awaitAgreement(providers);
            assertEquals(2_000, messageCount(second));
        } finally {
            providers.forEach(Slapd::close);
        }
    }

    @Test
    void theSameMessageAddedOnBothProvidersAtTheSameMomentEndsAsOneEntryBothProvidersAgreeOn() throws Exception {
        List<Slapd> providers = Slapd.startProviders(2);
        ExecutorService writers = Executors.newFixedThreadPool(2);
        try {
            providers.get(0).addMailbox("kim");
            awaitAgreement(providers);
            try (LDAPConnection root = providers.get(0).rootConnection()) {
                root.add(MessageEntry.folder(OWNER, "INBOX"));
            }
            awaitAgreement(providers);
            // The race this proves needs both adds of a message before either provider has the other's; replication
            // that outruns the writers leaves none, so rounds of 50 new messages run until one round has such a pair.
            long addedOnBoth = 0;
            List<List<List<ResultCode>>> rounds = new ArrayList<>();
            for (int round = 0; round < ROUNDS && addedOnBoth == 0; round++) {
                List<List<ResultCode>> codes = addOnBothAtOnce(providers, writers, round * MESSAGES_A_ROUND);
                rounds.add(codes);
                addedOnBoth = IntStream.range(0, MESSAGES_A_ROUND)
                        .filter(i -> codes.stream().allMatch(perProvider -> perProvider.get(i) == ResultCode.SUCCESS)).count();
            }
            assertTrue(addedOnBoth > 0, "some message was added on both providers before either saw the other's add, in "
                    + ROUNDS + " rounds: " + rounds);
            int sent = rounds.size() * MESSAGES_A_ROUND;
            awaitAgreement(providers);
            for (Slapd provider : providers) {
                Map<String, List<String>> uuids = messageUuids(provider);
                assertEquals(sent, uuids.size(), "one entry per message");
                assertTrue(uuids.values().stream().allMatch(list -> list.size() == 1), "no entry twice: " + uuids);
            }
            assertEquals(messageUuids(providers.get(0)), messageUuids(providers.get(1)), "the same entries, entryUUID for entryUUID");
        } finally {
            writers.shutdownNow();
            providers.forEach(Slapd::close);
        }
    }

    /**
     * Messages {@code from} to {@code from} + {@value #MESSAGES_A_ROUND} - 1 added on both providers
     * at once, one writer each: the result codes each provider answered, in the messages' order.
     */
    private static List<List<ResultCode>> addOnBothAtOnce(List<Slapd> providers, ExecutorService writers, int from) throws Exception {
        List<Entry> messages = new ArrayList<>();
        for (int i = from; i < from + MESSAGES_A_ROUND; i++) {
            messages.add(message(i));
        }
        List<Future<List<ResultCode>>> results = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (Slapd provider : providers) {
            results.add(writers.submit(() -> {
                List<ResultCode> codes = new ArrayList<>();
                try (LDAPConnection connection = provider.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
                    start.await();
                    for (Entry message : messages) {
                        try {
                            codes.add(connection.add(message).getResultCode());
                        } catch (LDAPException e) {
                            codes.add(e.getResultCode()); // ENTRY_ALREADY_EXISTS where the peer's add arrived first
                        }
                    }
                }
                return codes;
            }));
        }
        start.countDown();
        List<List<ResultCode>> codes = new ArrayList<>();
        for (Future<List<ResultCode>> result : results) {
            codes.add(result.get());
            assertTrue(result.get().stream().allMatch(code -> code == ResultCode.SUCCESS || code == ResultCode.ENTRY_ALREADY_EXISTS),
                    "each add succeeds or finds the entry there: " + result.get());
        }
        return codes;
    }

    private static Entry message(int number) {
        byte[] raw = MailCorpus.message("same on both " + number, "x\r\n");
        return MessageEntry.message(INBOX, raw, new Envelope(1, "sender@example.org", "kim@example.com", null, null, null,
                Instant.parse("2026-11-30T12:00:00Z"), raw.length, MessageIdentity.sha256Hex(raw), "mx1", null));
    }

    /** {@code count} messages for kim added as the worker adds them, starting with the folder when {@code from} is 0. */
    private static void addMessages(Slapd provider, int from, int count) throws LDAPException {
        try (LDAPConnection connection = provider.connection(Slapd.SERVICE_DN, Slapd.SERVICE_PASSWORD)) {
            if (from == 0) {
                connection.add(MessageEntry.folder(OWNER, "INBOX"));
            }
            for (int i = from; i < from + count; i++) {
                connection.add(message(i));
            }
        }
    }

    private static int messageCount(Slapd provider) {
        try {
            return provider.messages("1.1").size();
        } catch (RuntimeException notAnswering) {
            return -1;
        }
    }

    /** Message DN to the entryUUIDs found for it (one, unless replication made two). */
    private static Map<String, List<String>> messageUuids(Slapd provider) throws LDAPException {
        try (LDAPConnection root = provider.rootConnection()) {
            return root.search(INBOX.toString(), SearchScope.ONE, "(objectClass=mailStoreMessage)", "entryUUID").getSearchEntries()
                    .stream().collect(Collectors.groupingBy(SearchResultEntry::getDN,
                            Collectors.mapping(e -> e.getAttributeValue("entryUUID"), Collectors.toList())));
        }
    }

    private static void awaitAgreement(List<Slapd> providers) {
        Awaitility.await("the providers agree").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> !providers.get(0).contextCsn().isEmpty() && providers.get(0).contextCsn().equals(providers.get(1).contextCsn())
                        && messageCount(providers.get(0)) == messageCount(providers.get(1)));
    }

    private static DN dn(String text) {
        try {
            return new DN(text);
        } catch (LDAPException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
