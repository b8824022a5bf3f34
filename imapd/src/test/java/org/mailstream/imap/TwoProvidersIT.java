package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.MailCorpus;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;

/**
 * Two imapd, each listing a back end's two slapd providers (multi-provider syncrepl, the shipped
 * rules) in its own order, serve two sessions of one user that change different flags of the
 * same messages at the same moment: every change survives replication, on both providers.
 */
class TwoProvidersIT {

    private static final String TOPIC = "two-providers";
    private static final int MAILS = 200;

    @Test
    void twoSessionsOnTwoServersChangingDifferentFlagsOfOneMessageAtOnceKeepBothChangesOnBothProviders() throws Exception {
        List<Slapd> providers = Slapd.startProviders(2);
        Slapd first = providers.get(0);
        Slapd second = providers.get(1);
        first.addMailbox("alice");
        List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
        for (int i = 0; i < MAILS; i++) {
            mails.add(Map.entry("alice@example.com", MailCorpus.message("mail " + i, "body\r\n")));
        }
        StoreWorkerProcess.storeAll(TOPIC, first, second, mails);
        try (ImapdProcess one = ImapdProcess.start(first, Map.of("ldap.urls", first.url() + "," + second.url()));
                ImapdProcess other = ImapdProcess.start(first, Map.of("ldap.urls", second.url() + "," + first.url()))) {
            // One session gives the UIDs first, so that both then change messages that have states.
            python(one.port(), "box.select('INBOX')");
            // Both start at the same moment and go through the messages in the same order, so that each
            // message is changed by both within milliseconds: within the time replication takes.
            double start = System.currentTimeMillis() / 1000.0 + 3;
            String changes = "box.select('INBOX')\ntime.sleep(max(0, %f - time.time()))\nfor uid in range(1, %d):\n"
                    + "    box.uid('STORE', str(uid), '+FLAGS', '(%s)')";
            CompletableFuture<Void> seen = CompletableFuture.runAsync(() -> python(one.port(), changes.formatted(start, MAILS + 1, "\\Seen")));
            CompletableFuture<Void> flagged = CompletableFuture.runAsync(() -> python(other.port(),
                    changes.formatted(start, MAILS + 1, "\\Flagged")));
            CompletableFuture.allOf(seen, flagged).get(120, TimeUnit.SECONDS);
            Map<String, Set<String>> expected = new TreeMap<>();
            for (int uid = 1; uid <= MAILS; uid++) {
                expected.put(Integer.toString(uid), Set.of("\\Seen", "\\Flagged"));
            }
            for (Slapd provider : providers) {
                Awaitility.await("both flags of every message on " + provider.url()).atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500)).untilAsserted(() -> assertEquals(expected, flags(provider)));
            }
        } finally {
            providers.forEach(Slapd::close);
        }
    }

    /**
     * Each UID to its flags, read as the root DN: a state entry's own (mailStoreFlag) and those it
     * keeps for the UIDs it gives (mailStoreGivenFlag, "UID FLAG"; no message here has an entry of
     * its own beside the one that gave its UID, for none is expunged).
     */
    private static Map<String, Set<String>> flags(Slapd provider) throws Exception {
        Map<String, Set<String>> flags = new TreeMap<>();
        try (var root = provider.rootConnection()) {
            for (SearchResultEntry state : root.search(Slapd.PEOPLE, com.unboundid.ldap.sdk.SearchScope.SUB, "(objectClass=mailStoreState)",
                    "mailStoreUid", "mailStoreFlag", "mailStoreGivenFlag").getSearchEntries()) {
                Set<String> own = flags.computeIfAbsent(state.getAttributeValue("mailStoreUid"), uid -> new HashSet<>());
                if (state.hasAttribute("mailStoreFlag")) {
                    own.addAll(List.of(state.getAttributeValues("mailStoreFlag")));
                }
                for (String uidAndFlag : state.hasAttribute("mailStoreGivenFlag") ? state.getAttributeValues("mailStoreGivenFlag")
                        : new String[0]) {
                    String[] parts = uidAndFlag.split(" ", 2);
                    flags.computeIfAbsent(parts[0], uid -> new HashSet<>()).add(parts[1]);
                }
            }
        }
        return flags;
    }

    private static void python(int port, String program) {
        String prelude = """
                import imaplib, time
                box = imaplib.IMAP4('127.0.0.1', %d)
                box.login('alice', 'alice-secret')
                """.formatted(port);
        Command.Result run = Command.of(List.of("python3", "-")).run((prelude + program + "\n").getBytes(), Duration.ofSeconds(120));
        assertEquals(0, run.exitCode(), run.toString());
    }
}
