package org.mailstream.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.mailstream.local.Command;
import org.mailstream.local.Postfix;

/**
 * A steady load: every second, Postfix's smtp-source sends {@code perSecond} mails of 2 KB over
 * SMTP to one mailbox, the mailboxes in turn. A batch that Postfix refuses (while it restarts, or
 * while its ldap: table finds no provider) is counted, not retried: only what Postfix accepts
 * and logs as sent is the checker's business.
 */
final class Load implements Runnable {

    private final Postfix postfix;
    private final int perSecond;
    private final List<String> recipients;
    private volatile boolean running = true;
    private int batches;
    private int refusedBatches;

    Load(Postfix postfix, int perSecond) {
        this.postfix = postfix;
        this.perSecond = perSecond;
        this.recipients = new ArrayList<>(SoakStack.MAILBOXES.keySet());
        recipients.sort(null);
    }

    @Override
    public void run() {
        while (running) {
            long started = System.nanoTime();
            Command.Result sent = postfix.smtpSource(recipients.get(batches % recipients.size()), perSecond, 2048);
            batches++;
            if (sent.exitCode() != 0) {
                refusedBatches++;
            }
            long left = TimeUnit.SECONDS.toNanos(1) - (System.nanoTime() - started);
            if (left > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    void stop() {
        running = false;
    }

    int batches() {
        return batches;
    }

    int refusedBatches() {
        return refusedBatches;
    }
}
