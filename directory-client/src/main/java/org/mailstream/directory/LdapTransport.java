package org.mailstream.directory;

import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPURL;
import com.unboundid.ldap.sdk.PostConnectProcessor;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import com.unboundid.util.ssl.JVMDefaultTrustManager;
import com.unboundid.util.ssl.PEMFileTrustManager;
import com.unboundid.util.ssl.SSLUtil;
import java.io.File;
import java.security.GeneralSecurityException;
import java.util.List;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;

/**
 * How a program reaches the directory's providers, as {@value #TLS} says: ldap:// in the clear,
 * StartTLS on it, or ldaps; over TLS trusting the authorities of {@value #TLS_CA_FILE} (the
 * JVM's own when empty) and only a certificate that names the provider's host. store-worker and
 * imapd declare and use it alike. The authorities are read when the configuration is, so that a
 * file that is missing or holds no certificate is a configuration error, not a failed login.
 */
public final class LdapTransport {

    public static final String TLS = "ldap.tls";
    public static final String TLS_CA_FILE = "ldap.tls.ca.file";

    private final List<LDAPURL> providers;
    /** How connections to a provider are opened: plain sockets, or TLS ones for ldaps. */
    private final SocketFactory sockets;
    /** What StartTLS negotiates with; null when StartTLS is not configured. */
    private final SSLContext startTls;

    private LdapTransport(List<LDAPURL> providers, SocketFactory sockets, SSLContext startTls) {
        this.providers = providers;
        this.sockets = sockets;
        this.startTls = startTls;
    }

    /** Declares {@value #TLS} and {@value #TLS_CA_FILE} in {@code definition}. */
    public static ConfigDef define(ConfigDef definition) {
        return definition
                .define(TLS, Type.STRING, "none", ValidString.in("none", "starttls", "ldaps"), Importance.HIGH,
                        "Transport security: none, starttls (StartTLS on ldap:// URLs) or ldaps.")
                .define(TLS_CA_FILE, Type.STRING, "", Importance.MEDIUM,
                        "PEM file of the certificate authorities to trust for TLS; empty means the JVM's own.");
    }

    /**
     * The transport {@code config} declares for the providers listed under {@code urlsKey};
     * {@link ConfigException}, naming the key, for a URL that is not an LDAP URL with a host,
     * a URL whose scheme disagrees with {@value #TLS} (ldaps:// and ldap.tls=ldaps go together),
     * or authorities that cannot be read.
     */
    public static LdapTransport of(AbstractConfig config, String urlsKey) {
        String mode = config.getString(TLS);
        List<LDAPURL> providers = config.getList(urlsKey).stream().map(url -> provider(urlsKey, url)).toList();
        for (LDAPURL url : providers) {
            if (url.getScheme().equals("ldaps") != mode.equals("ldaps")) {
                throw new ConfigException(urlsKey + ": " + url + " does not agree with " + TLS + "=" + mode
                        + ": an ldaps:// URL needs " + TLS + "=ldaps, and " + TLS + "=ldaps needs ldaps:// URLs");
            }
        }
        if (mode.equals("none")) {
            return new LdapTransport(providers, SocketFactory.getDefault(), null);
        }
        SSLUtil ssl = new SSLUtil(trustManager(config.getString(TLS_CA_FILE)));
        try {
            return mode.equals("ldaps") ? new LdapTransport(providers, ssl.createSSLSocketFactory(), null)
                    : new LdapTransport(providers, SocketFactory.getDefault(), ssl.createSSLContext());
        } catch (GeneralSecurityException e) {
            throw new ConfigException(TLS_CA_FILE + ": " + e.getMessage());
        }
    }

    private static LDAPURL provider(String urlsKey, String url) {
        LDAPURL parsed;
        try {
            parsed = new LDAPURL(url);
        } catch (LDAPException e) {
            throw new ConfigException(urlsKey + ": " + url + " is not an LDAP URL: " + e.getMessage());
        }
        if (!parsed.hostProvided()) {
            throw new ConfigException(urlsKey + ": " + url + " names no host");
        }
        return parsed;
    }

    /** The providers, in the order configured. */
    public List<LDAPURL> providers() {
        return providers;
    }

    /** Whether connections go over TLS. */
    public boolean secured() {
        return startTls != null || sockets != SocketFactory.getDefault();
    }

    /**
     * The provider at {@code host}:{@code port}, whose connections come secured as configured
     * (StartTLS done before they are handed out), not yet bound.
     */
    public SingleServerSet server(String host, int port, LDAPConnectionOptions options) {
        LDAPConnectionOptions verified = options.duplicate();
        // The certificate must name the host we asked for, not just chain to a trusted authority.
        verified.setSSLSocketVerifier(new HostNameSSLSocketVerifier(true));
        PostConnectProcessor negotiate = startTls == null ? null : new StartTLSPostConnectProcessor(startTls);
        return new SingleServerSet(host, port, sockets, verified, null, negotiate);
    }

    private static TrustManager trustManager(String caFile) {
        if (caFile.isEmpty()) {
            return JVMDefaultTrustManager.getInstance();
        }
        try {
            return new PEMFileTrustManager(new File(caFile));
        } catch (GeneralSecurityException e) {
            throw new ConfigException(TLS_CA_FILE + ": " + e.getMessage());
        }
    }
}
