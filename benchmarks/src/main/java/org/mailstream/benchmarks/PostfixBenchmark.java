package org.mailstream.benchmarks;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.mailstream.local.Command;
import org.mailstream.local.KafkaCluster;
import org.mailstream.testsupport.Slapd;
import org.mailstream.testsupport.Postfix;
import org.mailstream.local.TopicReader;
import org.mailstream.local.TopicReader;

/**
 * PostfixBenchmark: mails per second through a private Postfix, SMTP in to delivered out, for
 * four delivery agents in one run on the same machine: Postfix's own discard transport (its
 * ceiling here), pipe(8) to kcat -P (the cheapest Kafka producer), and pipe(8) to ingest-cli
 * with the shipped master.cf (at most 4 processes) and with Postfix's default process limit.
 * smtp-source injects 4 KB mails to one existing mailbox with 20 sessions, so Postfix's default
 * per-destination concurrency (20) applies; the clock runs from the first connection to the
 * last {@code status=sent} in the mail log.
 *
 * <p>Usage: {@code PostfixBenchmark MAILS INGEST_MAILS}; needs bin/install, postfix, postfix-ldap,
 * slapd and kcat.
 */
public final class PostfixBenchmark {

    private static final String TOPIC = "bench";
    private static final String RECIPIENT = "bob@" + Postfix.DOMAIN;

    private record Figure(String name, int mails, double seconds) {
        double rate() {
            return mails / seconds;
        }
    }

    private PostfixBenchmark() {
    }

    public static void main(String[] args) {
        int mails = Integer.parseInt(args[0]);
        int ingestMails = Integer.parseInt(args[1]);
        try (KafkaCluster kafka = KafkaCluster.start(1); Slapd slapd = Slapd.start()) {
            kafka.createTopic(TOPIC, 4, 1, Map.of("max.message.bytes", "10551296"));
            slapd.addMailbox("bob");
            Map<String, String> ingest = Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(), "topic", TOPIC);
            String kcat = "kcat unix - n n - - pipe flags=DRhu user=" + Postfix.PIPE_USER + " argv=/usr/bin/kcat -P -b "
                    + kafka.bootstrapServers() + " -t " + TOPIC + " -k ${recipient} -X acks=all -D \\x01\\x02\\x03\n";
            List<Figure> figures = new ArrayList<>();
            figures.add(measure("discard (Postfix's ceiling)", mails, Postfix.start(slapd, ingest, "discard", ""), null));
            figures.add(measure("pipe to kcat -P (acks=all)", mails, Postfix.start(slapd, ingest, "kcat", kcat), null));
            long whole = TopicReader.read(kafka.bootstrapServers(), TOPIC, mails, Duration.ofSeconds(60)).stream()
                    .filter(r -> new String(r.value(), StandardCharsets.US_ASCII).startsWith("Return-Path: ")).count();
            if (whole != mails) {
                throw new IllegalStateException("kcat published " + whole + " whole messages for " + mails + " mails");
            }
            figures.add(measure("pipe to ingest-cli, shipped maxproc 4", ingestMails, Postfix.start(slapd, ingest), null));
            figures.add(measure("pipe to ingest-cli, default maxproc", ingestMails, Postfix.start(slapd, ingest), "100"));

            double kcatRate = figures.get(1).rate();
            System.out.printf("%n%-42s %8s %10s %10s %12s%n", "delivery agent (20 SMTP sessions, 4 KB)", "mails", "seconds", "mails/s",
                    "vs kcat");
            for (Figure f : figures) {
                System.out.printf("%-42s %8d %10.1f %10.1f %11.3fx%n", f.name(), f.mails(), f.seconds(), f.rate(), f.rate() / kcatRate);
            }
        }
    }

    /** Sends {@code mails} and waits for as many deliveries; {@code processLimit} overrides the ingest transport's maxproc. */
    private static Figure measure(String name, int mails, Postfix postfix, String processLimit) {
        try (postfix) {
            if (processLimit != null) {
                postfix.setProcessLimit("ingest", processLimit);
            }
            Predicate<String> delivered = line -> line.contains("to=<" + RECIPIENT + ">") && line.contains("status=sent");
            long started = System.nanoTime();
            Command.Result injected = postfix.smtpSource(RECIPIENT, mails, 4096);
            if (injected.exitCode() != 0) {
                throw new IllegalStateException("smtp-source failed:\n" + injected);
            }
            if (!postfix.awaitLogLines(delivered, mails, Duration.ofMinutes(30))) {
                throw new IllegalStateException(name + ": not every mail was delivered\n" + postfix.diagnostics());
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("%s: %d mails in %.1f s%n", name, mails, seconds);
            return new Figure(name, mails, seconds);
        }
    }
}
