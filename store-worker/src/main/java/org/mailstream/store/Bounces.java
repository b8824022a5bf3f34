package org.mailstream.store;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.RDN;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.util.StaticUtils;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.HostName;
import org.mailstream.schemas.DeliveryStatus;
import org.mailstream.schemas.Envelope;
import org.mailstream.schemas.MessageIdentity;

/**
 * Tells a sender that their mail, accepted by Postfix, could not be stored for a reason that is
 * the recipient's: a {@link BounceNotice} handed to the site's sendmail command (bounce.command)
 * with the null sender, so that it can never bounce back. Once per mail and recipient, however
 * often the record is stored again (a retry, a redrive, a replay): a marker entry
 * {@code mailStoreBounce=ID,<ldap.base.dn>} is added once the command has taken the notice, and
 * found before the next one is sent. A crash between the two sends the notice twice, never none.
 * Not sent to the null sender, nor to a sender who asked for none (NOTIFY without FAILURE), nor
 * for mail received longer ago than bounce.max.age.ms (a new back end's group reading the topic
 * from its start must not bounce mail delivered long ago), nor by replay, which stores again what
 * a worker has settled before; a redrive does send them, for letters that never were.
 */
final class Bounces {

    /** How a bounce ended: sent now, sent before (a marker says so), or not wanted. */
    enum Sent { NOW, BEFORE, NOT_WANTED }

    private static final long COMMAND_TIMEOUT_SECONDS = 60;

    private final LDAPConnectionPool pool;
    private final DN base;
    private final List<String> command;
    private final Duration maxAge;
    private final WorkerMetrics metrics;

    /** Bounces as the configuration says, or none at all unless {@code wanted}. */
    Bounces(LDAPConnectionPool pool, StoreConfig config, WorkerMetrics metrics, boolean wanted) {
        this.pool = pool;
        this.metrics = metrics;
        this.command = wanted ? config.bounceCommand() : List.of();
        this.maxAge = config.bounceMaxAge();
        try {
            this.base = new DN(config.ldapBaseDn());
        } catch (LDAPException e) {
            throw new ConfigException(StoreConfig.LDAP_BASE_DN + ": not a DN: " + e.getMessage());
        }
        if (!command.isEmpty() && !Files.isExecutable(Path.of(command.get(0)))) {
            throw new ConfigException(StoreConfig.BOUNCE_COMMAND + ": " + command.get(0) + " is not an executable file; install "
                    + "the MTA's sendmail, or set " + StoreConfig.BOUNCE_COMMAND + " empty to send no bounces");
        }
    }

    /** Tells {@code envelope}'s sender, as {@code status}, that {@code message} could not be delivered to its recipient. */
    Sent bounce(Envelope envelope, byte[] message, DeliveryStatus status) throws LDAPException, IOException {
        if (command.isEmpty() || envelope.sender().isEmpty() || !envelope.dsn().wantsFailureNotice()
                || envelope.receivedAt().plus(maxAge).isBefore(Instant.now())) {
            return Sent.NOT_WANTED;
        }
        String id = MessageIdentity.sha256Hex((MessageIdentity.of(message) + "\0" + envelope.recipient().toLowerCase(Locale.ROOT))
                .getBytes(StandardCharsets.UTF_8));
        DN marker = new DN(new RDN("mailStoreBounce", id), base);
        if (metrics.timed("read", () -> pool.getEntry(marker.toString(), "1.1")) != null) {
            return Sent.BEFORE;
        }
        send(envelope.sender(), BounceNotice.compose(envelope, message, status, id, HostName.get(), Instant.now()));
        Entry entry = new Entry(marker);
        entry.addAttribute("objectClass", "mailStoreBounceMarker");
        entry.addAttribute("mailStoreBounce", id);
        entry.addAttribute("mailStoreRecipient", envelope.recipient());
        entry.addAttribute("mailStoreReceived", StaticUtils.encodeGeneralizedTime(Date.from(envelope.receivedAt())));
        try {
            metrics.timed("add", () -> pool.add(entry));
        } catch (LDAPException e) {
            if (e.getResultCode() != ResultCode.ENTRY_ALREADY_EXISTS) {
                throw e;
            }
        }
        return Sent.NOW;
    }

    /** Runs the command with {@code recipient} as its last argument and {@code notice} on its standard input. */
    private void send(String recipient, byte[] notice) throws IOException {
        List<String> argv = new ArrayList<>(command);
        argv.add(recipient);
        Process process = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            try (OutputStream in = process.getOutputStream()) {
                in.write(notice);
            }
            if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException(String.join(" ", command) + " did not finish within " + COMMAND_TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                String said = new String(process.getErrorStream().readNBytes(2_000), StandardCharsets.UTF_8).strip();
                throw new IOException(String.join(" ", command) + " exited " + process.exitValue() + (said.isEmpty() ? "" : ": " + said));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + command.get(0) + " ran", e);
        } finally {
            process.destroyForcibly();
        }
    }
}
