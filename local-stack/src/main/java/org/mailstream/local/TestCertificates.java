package org.mailstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway certificate authority and a server certificate it signed for 127.0.0.1 and
 * localhost, made with openssl in a temporary directory, plus a second authority that signed
 * nothing here: what a TLS test needs to prove both trust and distrust.
 */
public final class TestCertificates {

    private final Path directory;

    private TestCertificates(Path directory) {
        this.directory = directory;
    }

    public static TestCertificates create() {
        try {
            Path directory = TempFiles.directory("certificates");
            TestCertificates certificates = new TestCertificates(directory);
            certificates.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mailstream test CA",
                    "-keyout", "ca.key", "-out", "ca.pem");
            certificates.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stranger CA",
                    "-keyout", "other-ca.key", "-out", "other-ca.pem");
            certificates.openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-keyout", "server.key", "-out", "server.csr");
            Files.writeString(directory.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            certificates.openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "2", "-extfile", "server.ext", "-out", "server.pem");
            return certificates;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path authority() {
        return directory.resolve("ca.pem");
    }

    /** An authority that signed no certificate here. */
    public Path strangerAuthority() {
        return directory.resolve("other-ca.pem");
    }

    public Path serverCertificate() {
        return directory.resolve("server.pem");
    }

    /** The server's key and then its certificate in one PEM file: a Kafka broker's PEM keystore. */
    public Path serverKeyAndCertificate() {
        Path both = directory.resolve("server-key-and-certificate.pem");
        try {
            if (Files.notExists(both)) {
                Files.writeString(both, Files.readString(serverKey()) + Files.readString(serverCertificate()));
            }
            return both;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path serverKey() {
        return directory.resolve("server.key");
    }

    /** A private key that belongs to no certificate the server has: the stranger authority's. */
    public Path strangerKey() {
        return directory.resolve("other-ca.key");
    }

    /** Runs openssl in the certificates' directory, so that relative file names land there. */
    private void openssl(String... arguments) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "cd \"$0\" && exec openssl \"$@\"", directory.toString()));
        argv.addAll(List.of(arguments));
        Command.Result result = Command.of(argv).run(new byte[0], Duration.ofSeconds(60));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("openssl failed (is the openssl package installed?):\n" + result);
        }
    }
}
