package org.mailstream.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailstream.local.Command;
import org.mailstream.local.ImapdProcess;
import org.mailstream.local.Slapd;

/** The real bin/imapd's limits in time and number: an IDLE is no command in progress, a silent client is logged out, a user's sessions are counted. */
class ImapdTimeoutsIT {

    @Test
    void anIdleOutlastsTheCommandTimeoutAndASilentClientIsLoggedOutAfterTheIdleTimeout() {
        try (Slapd slapd = Slapd.start()) {
            slapd.addMailbox("alice");
            try (ImapdProcess imapd = ImapdProcess.start(slapd, Map.of("imap.transaction.timeout.ms", "1000",
                    "imap.idle.timeout.ms", "4000"))) {
                String program = """
                        import socket, time
                        s = socket.create_connection(('127.0.0.1', %d), timeout=30)
                        f = s.makefile('rb')
                        f.readline()
                        def ask(line):
                            s.sendall(line + b'\\r\\n')
                            return f.readline().decode().strip()
                        ask(b'a LOGIN alice alice-secret')
                        line = ask(b'b SELECT INBOX')
                        while not line.startswith('b OK'):
                            line = f.readline().decode().strip()
                        idling = ask(b'c IDLE')
                        time.sleep(3)
                        done = ask(b'DONE')
                        silent = f.readline().decode().strip()
                        print(idling + '|' + done + '|' + silent)
                        """.formatted(imapd.port());
                Command.Result run = Command.of(List.of("python3", "-")).run(program.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
                assertEquals(0, run.exitCode(), run + "\n" + imapd.log());
                assertEquals("+ idling|c OK IDLE terminated|* BYE Autologout; idle for too long", run.stdout().strip(),
                        "3 s of IDLE against a 1 s command timeout; then 4 s of silence: " + run);
            }
        }
    }

    @Test
    void aUserHasNoMoreSessionsThanTheLimitAndOneEndedMakesRoomForTheNext() {
        try (Slapd slapd = Slapd.start()) {
            slapd.addMailbox("alice");
            try (ImapdProcess imapd = ImapdProcess.start(slapd, Map.of("imap.max.connections.per.user", "2"))) {
                String program = """
                        import imaplib
                        def login(name):
                            box = imaplib.IMAP4('127.0.0.1', %d)
                            try:
                                box.login(name, 'alice-secret')
                                return box, 'OK'
                            except imaplib.IMAP4.error as e:
                                return box, str(e)
                        # The directory compares a uid ignoring case and the spaces around it: each of these is alice
                        # (imaplib quotes the password, not the name).
                        first, a = login('ALICE')
                        second, b = login('"alice "')
                        third, c = login('" alice"')
                        first.logout()
                        fourth, d = login('alice')
                        print('|'.join([a, b, c, d]))
                        """.formatted(imapd.port());
                Command.Result run = Command.of(List.of("python3", "-")).run(program.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
                assertEquals(0, run.exitCode(), run + "\n" + imapd.log());
                String[] answers = run.stdout().strip().split("\\|");
                assertEquals(List.of("OK", "OK"), List.of(answers[0], answers[1]), run.toString());
                // imaplib shows the server's text as it holds it (bytes, in the Python versions here).
                assertTrue(answers[2].contains("[LIMIT] 2 sessions of this user at once already"), run.toString());
                assertEquals("OK", answers[3], "room again after a LOGOUT: " + run);
            }
        }
    }
}
