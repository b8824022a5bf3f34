package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.Slapd;
import org.mailstream.local.StoreWorkerProcess;
import org.mailstream.local.TempFiles;

/**
 * mutt, driven under tmux as a person would drive it, reads, flags and deletes mail (moving it to
 * Trash) through the real bin/imapd over mail the real worker stored in a real slapd.
 */
class MuttIT {

    private static final String TOPIC = "mutt";
    private static final String SESSION = "mailstream-mutt-" + ProcessHandle.current().pid();

    @Test
    void muttReadsFlagsAndDeletesMailToTrash() throws Exception {
        try (Slapd slapd = Slapd.start()) {
            slapd.addMailbox("carol");
            List<Map.Entry<String, byte[]>> mails = new ArrayList<>();
            for (String[] mail : new String[][] {{"01", "Apples", "the apple text"}, {"02", "Bananas", "the banana text"},
                {"03", "Cherries", "the cherry text"}}) {
                mails.add(Map.entry("carol@example.com", ("From: Dave <dave@example.org>\r\nTo: carol@example.com\r\n"
                        + "Subject: " + mail[1] + "\r\nDate: Thu, " + mail[0] + " Dec 2026 10:00:00 +0000\r\nMessage-ID: <" + mail[1]
                        + "@example.org>\r\n\r\n" + mail[2] + "\r\n").getBytes(StandardCharsets.US_ASCII)));
            }
            StoreWorkerProcess.storeAll(TOPIC, slapd, slapd, mails);
            try (ImapdProcess imapd = ImapdProcess.start(slapd, Map.of())) {
                imap(imapd.port(), "box.create('Trash')");
                Path home = TempFiles.directory("mutt");
                Path muttrc = Files.writeString(home.resolve("muttrc"), """
                        set imap_user=carol
                        set imap_pass=carol-secret
                        set folder=imap://127.0.0.1:%d/
                        set spoolfile=+INBOX
                        set trash=+Trash
                        set record=""
                        set postponed=+Drafts
                        set ssl_starttls=no
                        set ssl_force_tls=no
                        set sort=date-sent
                        set pager_stop=yes
                        set delete=yes
                        set quit=yes
                        set move=no
                        set confirmappend=no
                        set header_cache=""
                        set message_cachedir=""
                        set wait_key=no
                        """.formatted(imapd.port()));
                tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "40",
                        "env HOME=" + home + " TERM=xterm mutt -n -F " + muttrc);
                try {
                    awaitScreen("Cherries");
                    keys("Enter");
                    awaitScreen("the apple text");
                    keys("q");
                    awaitScreen("Bananas");
                    keys("j", "F");
                    keys("j", "d");
                    keys("$");
                    awaitIndex(() -> imap(imapd.port(), "box.select('Trash')\nprint(box.search(None, 'ALL')[1][0].decode())").strip()
                            .equals("1"));
                    keys("q");
                } finally {
                    tmux("kill-session", "-t", SESSION);
                }
                String inbox = imap(imapd.port(), """
                        box.select('INBOX', readonly=True)
                        typ, data = box.fetch('1:*', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
                        print(' | '.join((d[0] + d[1]).decode().replace('\\r\\n', ' ') for d in data if isinstance(d, tuple)))
                        """);
                assertTrue(inbox.matches("(?s).*\\\\Seen.*Apples.*"), "the mail read is seen: " + inbox);
                assertTrue(inbox.matches("(?s).*\\\\Flagged.*Bananas.*"), "the mail flagged is flagged: " + inbox);
                assertTrue(!inbox.contains("Cherries"), "the mail deleted left INBOX: " + inbox);
                String trash = imap(imapd.port(), """
                        box.select('Trash', readonly=True)
                        print(box.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1][0][1].decode().strip())
                        """);
                assertEquals("Subject: Cherries", trash.strip(), "what was deleted is in Trash");
            }
        }
    }

    private static void tmux(String... arguments) {
        Command.Result run = Command.of(java.util.stream.Stream.concat(java.util.stream.Stream.of("tmux"),
                java.util.stream.Stream.of(arguments)).toList()).run(new byte[0], Duration.ofSeconds(30));
        assertEquals(0, run.exitCode(), run.toString());
    }

    private static void keys(String... keys) {
        for (String key : keys) {
            tmux("send-keys", "-t", SESSION, key);
        }
    }

    private static String screen() {
        return Command.of(List.of("tmux", "capture-pane", "-p", "-t", SESSION)).run(new byte[0], Duration.ofSeconds(30)).stdout();
    }

    private static void awaitScreen(String text) {
        Awaitility.await("mutt shows " + text).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertTrue(screen().contains(text), screen()));
    }

    private static void awaitIndex(java.util.concurrent.Callable<Boolean> done) {
        Awaitility.await("mutt's change reached the server").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(done);
    }

    /** Runs {@code program} under python3 with {@code box} logged in as carol; returns what it printed. */
    private static String imap(int port, String program) {
        String prelude = "import imaplib\nbox = imaplib.IMAP4('127.0.0.1', %d)\nbox.login('carol', 'carol-secret')\n".formatted(port);
        Command.Result run = Command.of(List.of("python3", "-")).run((prelude + program + "\n").getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(60));
        assertEquals(0, run.exitCode(), run.toString());
        return run.stdout();
    }
}
