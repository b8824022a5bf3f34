package org.mailstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * mbsync (Debian's isync) pulling one user's INBOX from an IMAP server on loopback, in plain
 * text (SSLType None, AuthMechs LOGIN), into a Maildir of its own that later pulls resync.
 */
public final class Mbsync {

    private final Path home;
    private final Path config;

    private Mbsync(Path home, Path config) {
        this.home = home;
        this.config = config;
    }

    /** An mbsync for {@code user} of the server on {@code port}, with an empty Maildir. */
    public static Mbsync of(int port, String user, String password) {
        try {
            Path home = TempFiles.directory("mbsync");
            Files.createDirectory(home.resolve("mail"));
            Path config = Files.writeString(home.resolve("mbsyncrc"), """
                    IMAPAccount account
                    Host 127.0.0.1
                    Port %d
                    User %s
                    Pass %s
                    SSLType None
                    AuthMechs LOGIN

                    IMAPStore remote
                    Account account

                    MaildirStore local
                    Path %s/mail/
                    Inbox %s/mail/INBOX

                    Channel inbox
                    Far :remote:
                    Near :local:
                    Patterns INBOX
                    Create Near
                    Sync Pull
                    SyncState *
                    """.formatted(port, user, password, home, home));
            return new Mbsync(home, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code mbsync -V -a}: a pull, the first one whole, later ones what changed. */
    public Command.Result pull() {
        return Command.of(List.of("mbsync", "-V", "-c", config.toString(), "-a")).run(new byte[0], Duration.ofMinutes(20));
    }

    /** The mail files pulled so far, new and seen. */
    public List<Path> files() {
        try (Stream<Path> fresh = Files.list(home.resolve("mail/INBOX/new")); Stream<Path> seen = Files.list(home.resolve("mail/INBOX/cur"))) {
            return Stream.concat(fresh, seen).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
