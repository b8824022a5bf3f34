package org.mailstream.directory;

import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.PostConnectProcessor;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import com.unboundid.util.ssl.JVMDefaultTrustManager;
import com.unboundid.util.ssl.PEMFileTrustManager;
import com.unboundid.util.ssl.SSLUtil;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStoreException;
import java.util.List;
import java.util.Locale;
import javax.net.SocketFactory;
import javax.net.ssl.TrustManager;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;

/**
 * How a program reaches the directory's providers, as {@value #TLS} says: ldap:// in the clear,
 * StartTLS on it, or ldaps; over TLS trusting the authorities of {@value #TLS_CA_FILE} (the
 * JVM's own when empty) and only a certificate that names the provider's host. store-worker and
 * imapd declare and use it alike.
 */
public final class LdapTransport {

    public static final String TLS = "ldap.tls";
    public static final String TLS_CA_FILE = "ldap.tls.ca.file";

    private final String mode;
    private final String caFile;

    public LdapTransport(String mode, String caFile) {
        this.mode = mode;
        this.caFile = caFile;
    }

    /** Declares {@value #TLS} and {@value #TLS_CA_FILE} in {@code definition}. */
    public static ConfigDef define(ConfigDef definition) {
        return definition
                .define(TLS, Type.STRING, "none", ValidString.in("none", "starttls", "ldaps"), Importance.HIGH,
                        "Transport security: none, starttls (StartTLS on ldap:// URLs) or ldaps.")
                .define(TLS_CA_FILE, Type.STRING, "", Importance.MEDIUM,
                        "PEM file of the certificate authorities to trust for TLS; empty means the JVM's own.");
    }

    /** Refuses, naming {@code urlsKey}, a URL whose scheme disagrees with {@code mode}: ldaps:// and ldap.tls=ldaps go together. */
    public static void checkUrls(String urlsKey, List<String> urls, String mode) {
        for (String url : urls) {
            boolean ldaps = url.toLowerCase(Locale.ROOT).startsWith("ldaps://");
            if (ldaps != mode.equals("ldaps")) {
                throw new ConfigException(urlsKey + ": " + url + " does not agree with " + TLS + "=" + mode
                        + ": an ldaps:// URL needs " + TLS + "=ldaps, and " + TLS + "=ldaps needs ldaps:// URLs");
            }
        }
    }

    /** Whether connections go over TLS. */
    public boolean secured() {
        return !mode.equals("none");
    }

    /**
     * The provider at {@code host}:{@code port}, whose connections come secured as configured
     * (StartTLS done before they are handed out), not yet bound.
     */
    public SingleServerSet server(String host, int port, LDAPConnectionOptions options) throws GeneralSecurityException, IOException {
        LDAPConnectionOptions verified = options.duplicate();
        // The certificate must name the host we asked for, not just chain to a trusted authority.
        verified.setSSLSocketVerifier(new HostNameSSLSocketVerifier(true));
        SocketFactory sockets = mode.equals("ldaps") ? ssl().createSSLSocketFactory() : SocketFactory.getDefault();
        PostConnectProcessor startTls = mode.equals("starttls") ? new StartTLSPostConnectProcessor(ssl().createSSLContext()) : null;
        return new SingleServerSet(host, port, sockets, verified, null, startTls);
    }

    private SSLUtil ssl() throws GeneralSecurityException, IOException {
        return new SSLUtil(trustManager());
    }

    private TrustManager trustManager() throws IOException, GeneralSecurityException {
        if (caFile.isEmpty()) {
            return JVMDefaultTrustManager.getInstance();
        }
        try {
            return new PEMFileTrustManager(Path.of(caFile).toFile());
        } catch (KeyStoreException e) {
            throw new ConfigException(TLS_CA_FILE + ": " + e.getMessage());
        }
    }
}
