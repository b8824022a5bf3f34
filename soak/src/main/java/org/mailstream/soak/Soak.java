package org.mailstream.soak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/**
 * Soak: the whole pipeline under mixed faults for a while, then a check that nothing Postfix
 * accepted was lost, doubled or misplaced.
 *
 * <p>Starts {@link SoakStack} (real Postfix with the LMTP transport, three Kafka brokers, two back
 * ends of two slapd providers, two workers each), sends a steady load through Postfix
 * ({@link Load}), lets the {@link Nemesis} inject one fault after another, stops both, and after
 * a quiet period has the {@link Checker} compare what Postfix logged as sent with what LDAP holds.
 * Prints each fault as it happens, then the faults by kind and the outcome counts.
 *
 * <p>Usage: {@code bin/soak [--minutes N] [--rate MAILS_PER_SECOND] [--fault-interval SECONDS] [--seed N]};
 * defaults 60 minutes, 10 mails/s, a fault every 20 to 40 s, a seed from the clock (printed, so a
 * run can be repeated). Run as root: Postfix's own commands need it.
 *
 * <p>Exit status: 0 when nothing was lost, duplicated, misplaced, stuck, bounced or left queued
 * and each back end's providers agree; 1 otherwise; 64 on bad usage. The logs of every process
 * stay in the directory it prints.
 */
public final class Soak {

    private Soak() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Options options = new Options()
                .addOption(Option.builder().longOpt("minutes").hasArg().argName("N").desc("how long the load and the faults last (60)").get())
                .addOption(Option.builder().longOpt("rate").hasArg().argName("MAILS").desc("mails sent a second (10)").get())
                .addOption(Option.builder().longOpt("fault-interval").hasArg().argName("SECONDS")
                        .desc("least time between two faults, up to twice that; also the longest outage beyond 5 s (20)").get())
                .addOption(Option.builder().longOpt("seed").hasArg().argName("N").desc("the nemesis's random seed (the clock)").get());
        CommandLine line;
        int minutes;
        int rate;
        int faultInterval;
        long seed;
        try {
            line = DefaultParser.builder().get().parse(options, args);
            minutes = Integer.parseInt(line.getOptionValue("minutes", "60"));
            rate = Integer.parseInt(line.getOptionValue("rate", "10"));
            faultInterval = Integer.parseInt(line.getOptionValue("fault-interval", "20"));
            seed = Long.parseLong(line.getOptionValue("seed", Long.toString(System.currentTimeMillis())));
        } catch (ParseException | NumberFormatException e) {
            System.err.println("soak: " + e.getMessage());
            HelpFormatter.builder().get().printHelp("bin/soak", null, options, null, true);
            System.exit(64);
            return;
        }

        // Readable by all: Postfix's lmtp(8), running as postfix, reaches ingest-lmtpd's socket in it.
        Path directory = Files.createTempDirectory("soak", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        System.out.printf("soak: %d minutes at %d mails/s, a fault every %d to %d s, seed %d; logs in %s%n", minutes, rate,
                faultInterval, 2 * faultInterval, seed, directory);
        Checker.Report report;
        Nemesis nemesis;
        Load load;
        Instant started = Instant.now();
        try (SoakStack stack = SoakStack.start(directory)) {
            System.out.printf("%s stack up after %d s%n", Instant.now(), Duration.between(started, Instant.now()).toSeconds());
            load = new Load(stack.postfix, rate);
            nemesis = new Nemesis(stack, seed, Duration.ofSeconds(faultInterval));
            Thread loading = new Thread(load, "load");
            Thread faults = new Thread(nemesis, "nemesis");
            loading.start();
            faults.start();
            Thread.sleep(Duration.ofMinutes(minutes).toMillis());
            load.stop();
            nemesis.stop();
            loading.join();
            faults.join();
            System.out.printf("%s load and faults stopped; quiet period, then the check%n", Instant.now());
            report = Checker.check(stack, Duration.ofMinutes(5));
            Files.writeString(directory.resolve("maillog"), stack.postfix.log());
        }

        Map<String, Long> byKind = new TreeMap<>(nemesis.injections().stream()
                .collect(Collectors.groupingBy(i -> i.fault().description, Collectors.counting())));
        System.out.printf("%nfaults injected: %d%n", nemesis.injections().size());
        byKind.forEach((kind, count) -> System.out.printf("  %-40s %d%n", kind, count));
        System.out.printf("%nload: %d batches of %d mails, %d refused by Postfix%n", load.batches(), rate, load.refusedBatches());
        System.out.printf("%n| outcome | count |%n| --- | --- |%n");
        System.out.printf("| delivered by Postfix (status=sent) | %d |%n| stored once, in place | %d |%n", report.sent(), report.stored());
        System.out.printf("| lost | %d |%n| duplicated | %d |%n| misplaced | %d |%n| stuck in the topic | %d |%n", report.lost(),
                report.duplicated(), report.misplaced(), report.stuck());
        System.out.printf("| bounced | %d |%n| still queued | %d |%n", report.bounced(), report.undelivered());
        report.providersAgree().forEach((backend, agree) ->
                System.out.printf("| back end %s: providers equal | %s |%n", backend, agree ? "yes" : "NO"));
        report.examples().forEach(example -> System.out.println("  " + example));
        boolean passed = report.clean() && nemesis.failure() == null;
        if (nemesis.failure() != null) {
            System.out.println("\nthe nemesis stopped early: " + nemesis.failure());
        }
        System.out.println(passed ? "\nsoak: nothing lost, doubled or misplaced" : "\nsoak: FAILED; logs in " + directory);
        System.exit(passed ? 0 : 1);
    }
}
