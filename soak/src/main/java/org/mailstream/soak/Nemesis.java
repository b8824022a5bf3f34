package org.mailstream.soak;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.mailstream.local.ManagedProcess;
import org.mailstream.local.Slapd;

/**
 * One fault after another, each healed before the next: the soak's adversary. The faults come in
 * rounds, every kind once a round in an order drawn from the seed, so that even a short run meets
 * each kind. Between two faults it waits {@code pause} plus up to as much again; a broker or a
 * provider it takes down stays down for 5 s plus up to {@code pause}.
 */
final class Nemesis implements Runnable {

    enum Fault {
        KILL_BROKER("kill -9 a broker, restart it"),
        PAUSE_BROKER("SIGSTOP a broker, SIGCONT it"),
        KILL_WORKER("kill -9 a store-worker, start another"),
        KILL_PROVIDER("kill -9 a slapd provider, restart it"),
        STOP_PROVIDER("stop a slapd provider, restart it"),
        KILL_LMTPD("kill -9 ingest-lmtpd, restart it"),
        RESTART_POSTFIX("restart Postfix");

        final String description;

        Fault(String description) {
            this.description = description;
        }
    }

    /** One fault as injected: what, on what, when, and how long until it was healed. */
    record Injection(Fault fault, String target, Instant at, Duration healedAfter) {
    }

    private final SoakStack stack;
    private final Random random;
    private final Duration pause;
    private final List<Injection> injections = new ArrayList<>();
    private final List<Fault> round = new ArrayList<>();
    private volatile boolean running = true;
    private volatile Throwable failure;

    Nemesis(SoakStack stack, long seed, Duration pause) {
        this.stack = stack;
        this.random = new Random(seed);
        this.pause = pause;
    }

    @Override
    public void run() {
        try {
            while (sleep(pause.plusMillis((long) (random.nextDouble() * pause.toMillis())))) {
                if (round.isEmpty()) {
                    round.addAll(List.of(Fault.values()));
                    Collections.shuffle(round, random);
                }
                Fault fault = round.remove(0);
                Instant at = Instant.now();
                String target = inject(fault);
                Injection injection = new Injection(fault, target, at, Duration.between(at, Instant.now()));
                synchronized (injections) {
                    injections.add(injection);
                }
                System.out.printf("%s nemesis: %s (%s), healed after %d s%n", at, fault.description, target,
                        injection.healedAfter().toSeconds());
            }
        } catch (IOException | RuntimeException e) {
            failure = e;
            System.out.printf("%s nemesis: could not inject or heal a fault, stopping: %s%n", Instant.now(), e);
        }
    }

    /** What stopped the nemesis before its time, if anything: a fault it could not inject or heal. */
    Throwable failure() {
        return failure;
    }

    /** Ends the run after the fault in progress is healed. */
    void stop() {
        running = false;
    }

    List<Injection> injections() {
        synchronized (injections) {
            return List.copyOf(injections);
        }
    }

    private String inject(Fault fault) throws IOException {
        switch (fault) {
            case KILL_BROKER, PAUSE_BROKER -> {
                int node = 1 + random.nextInt(3);
                if (fault == Fault.KILL_BROKER) {
                    stack.kafka.kill(node);
                    sleep(outage());
                    stack.kafka.restart(node);
                } else {
                    stack.kafka.pause(node);
                    sleep(outage());
                    stack.kafka.resume(node);
                }
                return "broker " + node;
            }
            case KILL_WORKER -> {
                String backend = SoakStack.BACKENDS.get(random.nextInt(SoakStack.BACKENDS.size()));
                List<ManagedProcess> running = stack.workers.get(backend).stream().filter(ManagedProcess::isAlive).toList();
                ManagedProcess victim = running.get(random.nextInt(running.size()));
                victim.kill();
                stack.startWorker(backend);
                return victim.toString();
            }
            case KILL_PROVIDER, STOP_PROVIDER -> {
                String backend = SoakStack.BACKENDS.get(random.nextInt(SoakStack.BACKENDS.size()));
                int index = random.nextInt(2);
                Slapd provider = stack.providers.get(backend).get(index);
                if (fault == Fault.KILL_PROVIDER) {
                    provider.kill();
                } else {
                    provider.stop();
                }
                sleep(outage());
                provider.restart();
                return "back end " + backend + " provider " + (index + 1);
            }
            case KILL_LMTPD -> {
                stack.lmtpd.kill();
                stack.lmtpd.restart();
                return "ingest-lmtpd";
            }
            case RESTART_POSTFIX -> {
                stack.postfix.restart();
                return "postfix";
            }
            default -> throw new IllegalStateException(fault.name());
        }
    }

    private Duration outage() {
        return Duration.ofSeconds(5).plusMillis((long) (random.nextDouble() * pause.toMillis()));
    }

    /** Sleeps unless stopped; false once stopped. */
    private boolean sleep(Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        while (running && System.nanoTime() < end) {
            try {
                TimeUnit.MILLISECONDS.sleep(Math.min(200, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return running;
    }
}
