package org.mailstream.soak;

import com.unboundid.ldap.sdk.SearchResultEntry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.mailstream.local.Slapd;
import org.mailstream.local.TopicReader;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MailRecord;

/**
 * Compares every delivery Postfix logged as sent with what the directories hold, after a quiet
 * period in which Postfix's queue drains and the workers catch up. A delivery is a queue id and
 * a recipient; it belongs below its owner (uid=LOCAL-PART) in the back end its address is pinned
 * to. Each is, in that order of checking: stored once there (fine), stored more than once
 * (duplicated), found only elsewhere (misplaced), in the topic but not stored (stuck), or nowhere
 * (lost). Bounces and mail still queued at the end count too, and each back end's two providers
 * must hold the same entries at the same contextCSN.
 */
final class Checker {

    private static final Pattern SENT = Pattern.compile("postfix/lmtp\\[\\d+\\]: ([0-9A-F]+): to=<([^>]+)>.*status=sent");

    /** What the checker found. */
    record Report(int sent, int stored, int duplicated, int misplaced, int stuck, int lost, int bounced, int undelivered,
                  Map<String, Boolean> providersAgree, List<String> examples) {

        boolean clean() {
            return duplicated == 0 && misplaced == 0 && stuck == 0 && lost == 0 && bounced == 0 && undelivered == 0
                    && !providersAgree.containsValue(false);
        }
    }

    /** One recipient of one queued message, as Postfix logged its delivery. */
    record Delivery(String queueId, String recipient) {
    }

    private Checker() {
    }

    static Report check(SoakStack stack, Duration quiet) {
        boolean drained = drain(stack, quiet);
        Set<Delivery> sent = sentDeliveries(stack);
        awaitStored(stack, sent, quiet);

        Map<String, Map<Delivery, List<String>>> storedByBackend = new LinkedHashMap<>();
        Map<String, Boolean> agree = new LinkedHashMap<>();
        for (String backend : SoakStack.BACKENDS) {
            List<Slapd> group = stack.providers.get(backend);
            storedByBackend.put(backend, stored(group.get(0)));
            agree.put(backend, providersAgree(group));
        }
        int bounced = (int) stack.postfix.log().lines().filter(line -> line.contains("status=bounced")).count();
        int undelivered = drained ? 0 : (int) stack.postfix.queue().lines().filter(line -> line.matches("^[0-9A-F]+[*!]?\\s.*")).count();
        return classify(sent, storedByBackend, inTopic(stack), bounced, undelivered, agree);
    }

    /**
     * The verdict on each of the {@code sent} deliveries, given the DNs each back end holds for
     * each delivery and the deliveries the topic holds: a pure function, tested on planted faults.
     */
    static Report classify(Set<Delivery> sent, Map<String, Map<Delivery, List<String>>> storedByBackend, Set<Delivery> inTopic,
                           int bounced, int undelivered, Map<String, Boolean> providersAgree) {
        int stored = 0;
        int duplicated = 0;
        int misplaced = 0;
        int stuck = 0;
        int lost = 0;
        List<String> examples = new ArrayList<>();
        for (Delivery delivery : sent) {
            String home = SoakStack.MAILBOXES.get(delivery.recipient());
            String owner = "uid=" + delivery.recipient().substring(0, delivery.recipient().indexOf('@')) + ",";
            List<String> there = storedByBackend.get(home).getOrDefault(delivery, List.of());
            long rightPlace = there.stream().filter(dn -> dn.contains(",cn=INBOX," + owner)).count();
            boolean elsewhere = rightPlace < there.size() || storedByBackend.entrySet().stream()
                    .anyMatch(e -> !e.getKey().equals(home) && e.getValue().containsKey(delivery));
            if (elsewhere) {
                misplaced++;
                note(examples, "misplaced", delivery);
            } else if (rightPlace > 1) {
                duplicated++;
                note(examples, "duplicated", delivery);
            } else if (rightPlace == 1) {
                stored++;
            } else if (inTopic.contains(delivery)) {
                stuck++;
                note(examples, "stuck", delivery);
            } else {
                lost++;
                note(examples, "lost", delivery);
            }
        }
        return new Report(sent.size(), stored, duplicated, misplaced, stuck, lost, bounced, undelivered, providersAgree, examples);
    }

    /** Flushes Postfix's queue until it is empty; false if it was not within {@code quiet}. */
    private static boolean drain(SoakStack stack, Duration quiet) {
        try {
            Awaitility.await().atMost(quiet).pollInterval(Duration.ofSeconds(5)).until(() -> {
                stack.postfix.flush();
                return stack.postfix.queueIsEmpty();
            });
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    private static Set<Delivery> sentDeliveries(SoakStack stack) {
        Set<Delivery> sent = new HashSet<>();
        stack.postfix.log().lines().map(SENT::matcher).filter(Matcher::find).forEach(m -> sent.add(new Delivery(m.group(1), m.group(2))));
        return sent;
    }

    /** Waits until every back end holds as many mails as were sent to it; returns when they do or after {@code quiet}. */
    private static void awaitStored(SoakStack stack, Set<Delivery> sent, Duration quiet) {
        Map<String, Long> expected = new HashMap<>();
        sent.forEach(delivery -> expected.merge(SoakStack.MAILBOXES.get(delivery.recipient()), 1L, Long::sum));
        try {
            Awaitility.await().atMost(quiet).pollInterval(Duration.ofSeconds(5)).ignoreExceptions()
                    .until(() -> SoakStack.BACKENDS.stream().allMatch(backend -> stack.providers.get(backend).stream()
                            .allMatch(provider -> provider.messages("1.1").size() >= expected.getOrDefault(backend, 0L))));
        } catch (ConditionTimeoutException e) {
            // the counts below say what is missing
        }
    }

    /** Each delivery stored on {@code provider}, with the DNs it is stored at. */
    private static Map<Delivery, List<String>> stored(Slapd provider) {
        Map<Delivery, List<String>> stored = new HashMap<>();
        for (SearchResultEntry entry : provider.messages("mailStoreQueueId", "mailStoreRecipient")) {
            Delivery delivery = new Delivery(entry.getAttributeValue("mailStoreQueueId"), entry.getAttributeValue("mailStoreRecipient"));
            stored.computeIfAbsent(delivery, d -> new ArrayList<>()).add(entry.getDN());
        }
        return stored;
    }

    private static boolean providersAgree(List<Slapd> group) {
        try {
            Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
                    .until(() -> group.get(0).contextCsn().equals(group.get(1).contextCsn())
                            && dns(group.get(0)).equals(dns(group.get(1))));
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    private static Set<String> dns(Slapd provider) {
        Set<String> dns = new HashSet<>();
        provider.messages("1.1").forEach(entry -> dns.add(entry.getDN()));
        return dns;
    }

    private static Set<Delivery> inTopic(SoakStack stack) {
        Set<Delivery> published = new HashSet<>();
        TopicReader.read(stack.kafka.bootstrapServers(), SoakStack.TOPIC, 0, Duration.ofMinutes(2)).forEach(record -> {
            Header header = record.headers().lastHeader(MailRecord.ENVELOPE_HEADER);
            Envelope envelope = Envelope.fromJson(header.value());
            published.add(new Delivery(envelope.queueId(), new String(record.key(), StandardCharsets.UTF_8)));
        });
        return published;
    }

    private static void note(List<String> examples, String what, Delivery delivery) {
        if (examples.size() < 20) {
            examples.add(what + ": queue id " + delivery.queueId() + " to " + delivery.recipient());
        }
    }
}
