package org.mailstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Debian's Dovecot (dovecot-imapd) as a private IMAP server on a free loopback port, in the
 * foreground and stopped by pid: the reference the IMAP server's answers are compared with. Its
 * users' mail is a Maildir each, filled by {@link #deliver}; it serves them at the next SELECT.
 * {@link #startWithLmtp} adds Dovecot's LMTP server (dovecot-lmtpd) on a unix socket, which
 * delivers into the same Maildirs with Dovecot's default fsync: the peer of our delivery.
 */
public final class Dovecot implements AutoCloseable {

    private static final String LMTP_SOCKET = "lmtp";

    private final Path directory;
    private final ManagedProcess process;
    private final int port;

    private Dovecot(Path directory, ManagedProcess process, int port) {
        this.directory = directory;
        this.process = process;
        this.port = port;
    }

    /** Starts one with {@code users}, name to password. */
    public static Dovecot start(Map<String, String> users) {
        return start(users, false);
    }

    /** Starts one with {@code users} that also takes mail for them over LMTP at {@link #lmtpSocket()}. */
    public static Dovecot startWithLmtp(Map<String, String> users) {
        return start(users, true);
    }

    private static Dovecot start(Map<String, String> users, boolean lmtp) {
        try {
            // Dovecot's own users (dovecot, dovenull, and nobody for the mail) read below it: not the 0700 of a temp directory.
            Path directory = Files.createTempDirectory("dovecot", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            int port = FreePort.next();
            StringBuilder passwords = new StringBuilder();
            users.forEach((user, password) -> passwords.append(user).append(":{PLAIN}").append(password).append("::::::\n"));
            Path passwd = Files.writeString(directory.resolve("passwd"), passwords);
            Path config = Files.writeString(directory.resolve("dovecot.conf"), """
                    base_dir = %1$s/run
                    state_dir = %1$s/state
                    log_path = %1$s/dovecot.log
                    protocols = imap%4$s
                    listen = 127.0.0.1
                    ssl = no
                    disable_plaintext_auth = no
                    auth_username_format = %%Ln
                    passdb {
                      driver = passwd-file
                      args = scheme=PLAIN username_format=%%u %2$s
                    }
                    userdb {
                      driver = static
                      args = uid=nobody gid=nogroup home=%1$s/home/%%u
                    }
                    mail_location = maildir:~/Maildir
                    service imap-login {
                      inet_listener imap {
                        port = %3$d
                      }
                      inet_listener imaps {
                        port = 0
                      }
                    }
                    """.formatted(directory, passwd, port, lmtp ? " lmtp" : "") + (!lmtp ? "" : """
                    service lmtp {
                      unix_listener %s {
                        mode = 0666
                      }
                    }
                    """.formatted(directory.resolve(LMTP_SOCKET))));
            for (String user : users.keySet()) {
                for (String sub : List.of("new", "cur", "tmp")) {
                    Files.createDirectories(directory.resolve("home/" + user + "/Maildir/" + sub));
                }
            }
            chownToNobody(directory.resolve("home"));
            ManagedProcess process = ManagedProcess.start("dovecot", List.of("dovecot", "-F", "-c", config.toString()),
                    directory.resolve("console.log"));
            process.awaitReady(Duration.ofSeconds(30), () -> accepts(port) && (!lmtp || Files.exists(directory.resolve(LMTP_SOCKET))));
            return new Dovecot(directory, process, port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean accepts(int port) {
        try (Socket probe = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private static void chownToNobody(Path path) {
        Command.Result chown = Command.of(List.of("chown", "-R", "nobody:nogroup", path.toString())).run(new byte[0], Duration.ofSeconds(30));
        if (chown.exitCode() != 0) {
            throw new IllegalStateException(chown.toString());
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    /** Where Postfix's lmtp(8) reaches Dovecot's LMTP server, started by {@link #startWithLmtp}. */
    public Path lmtpSocket() {
        return directory.resolve(LMTP_SOCKET);
    }

    /** How many mails {@code user}'s Maildir holds, new or seen. */
    public long mailCount(String user) {
        long count = 0;
        for (String sub : List.of("new", "cur")) {
            try (var files = Files.list(directory.resolve("home/" + user + "/Maildir/" + sub))) {
                count += files.count();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return count;
    }

    /** Puts {@code messages} into {@code user}'s Maildir/new in order, each under a name that sorts after the one before. */
    public void deliver(String user, List<byte[]> messages) {
        Path inbox = directory.resolve("home/" + user + "/Maildir/new");
        try {
            long base = System.currentTimeMillis() / 1000;
            for (int i = 0; i < messages.size(); i++) {
                Files.write(inbox.resolve(String.format("%d.M%06dP1.mailstream", base, i)), messages.get(i));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        chownToNobody(inbox);
    }

    /** What Dovecot logged, for assertion messages. */
    public String log() {
        try {
            Path log = directory.resolve("dovecot.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.stop(Duration.ofSeconds(30));
        }
        Chores.deleteRecursively(directory);
    }
}
