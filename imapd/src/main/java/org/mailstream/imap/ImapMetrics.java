package org.mailstream.imap;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * What imapd counts, exported on /metrics when metrics.listen is set and summed up in its log
 * every minute: logins by result, commands by name and result, octets of messages sent, folder reads
 * whole and of changes, the entries of folder views kept, sessions in IDLE (each reads its folder's changes every imap.idle.poll.ms). The
 * connections are the server core's ({@link org.mailstream.server.ServerMetrics}).
 */
final class ImapMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter logins = Counter.builder().name("mailstream_imap_logins")
            .help("Logins, by result: ok, failed (unknown user or wrong password), limit (the user's sessions at their limit), "
                    + "unavailable (the directory did not answer)")
            .labelNames("result").register(registry);
    private final Counter commands = Counter.builder().name("mailstream_imap_commands")
            .help("Commands answered, by name and result (OK, NO, BAD)").labelNames("command", "result").register(registry);
    private final Counter messageBytes = Counter.builder().name("mailstream_imap_message_bytes")
            .help("Octets of messages sent in FETCH responses").register(registry);
    private final Counter folderReads = Counter.builder().name("mailstream_imap_folder_reads")
            .help("Reads of a folder's entries, by kind: whole (a first look, a view not kept, every 5 minutes), changes (what "
                    + "changed since the view was last read)").labelNames("kind").register(registry);
    private final Gauge viewEntries = Gauge.builder().name("mailstream_imap_folder_view_entries")
            .help("Entries of the folder views kept between sessions (imap.folder.cache.entries at most)").register(registry);
    private final Gauge idling = Gauge.builder().name("mailstream_imap_idle_sessions")
            .help("Sessions in IDLE now, each reading its folder's changes from the directory every imap.idle.poll.ms").register(registry);

    PrometheusRegistry registry() {
        return registry;
    }

    void login(String result) {
        logins.labelValues(result).inc();
    }

    void command(String name, String result) {
        commands.labelValues(name, result).inc();
    }

    void sent(long octets) {
        messageBytes.inc(octets);
    }

    void folderRead(String kind) {
        folderReads.labelValues(kind).inc();
    }

    void folderViewEntries(long entries) {
        viewEntries.set(entries);
    }

    void idleStarted() {
        idling.inc();
    }

    void idleEnded() {
        idling.dec();
    }

    @Override
    public String toString() {
        return "logins " + (long) logins.labelValues("ok").get() + " ok, " + (long) logins.labelValues("failed").get() + " failed; "
                + (long) messageBytes.get() + " octets of messages sent";
    }
}
