package org.mailstream.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * A bare LMTP client that sends exactly the bytes it is given and reads replies line by line:
 * for the cases a well-behaved client never produces (garbage, NUL, pipelined nonsense, a drop
 * in the middle of DATA).
 */
public final class LmtpClient implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public LmtpClient(int port) {
        try {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(120_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code text} as it is (a line needs its own CRLF). */
    public LmtpClient send(String text) {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    public LmtpClient send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next reply, all its lines joined by newlines; null when the server closed the connection. */
    public String reply() {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = line();
            if (line == null) {
                return lines.isEmpty() ? null : String.join("\n", lines);
            }
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return String.join("\n", lines);
            }
        }
    }

    /**
     * A client that pipelines NOOPs without end from a thread of {@code writers} and never reads
     * a reply, with a small receive buffer: the server's replies soon fill every buffer between
     * them, and the server's write blocks. Closing the socket ends it.
     */
    public static Socket neverReading(int port, ExecutorService writers) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        OutputStream out = socket.getOutputStream();
        byte[] noops = "NOOP\r\n".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
        writers.execute(() -> {
            try {
                while (true) {
                    out.write(noops);
                }
            } catch (IOException disconnected) {
                // what the server does to a client that never reads
            }
        });
        return socket;
    }

    /** Whether the server has sent anything not read yet: a reply would not wait. */
    public boolean available() {
        try {
            return in.available() > 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** The next {@code count} replies. */
    public List<String> replies(int count) {
        List<String> replies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            replies.add(reply());
        }
        return replies;
    }

    /** LHLO, then MAIL and each RCPT, each answered. */
    public LmtpClient begin(String sender, String... recipients) {
        reply(); // greeting
        send("LHLO test.example\r\n").reply();
        send("MAIL FROM:<" + sender + ">\r\n").reply();
        for (String recipient : recipients) {
            send("RCPT TO:<" + recipient + ">\r\n").reply();
        }
        return this;
    }

    private String line() {
        try {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1 && b != '\n') {
                if (b != '\r') {
                    line.write(b);
                }
            }
            return b == -1 && line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closed already
        }
    }
}
