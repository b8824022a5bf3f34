package org.mailstream.store;

import com.unboundid.ldap.sdk.FailoverServerSet;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPURL;
import com.unboundid.ldap.sdk.PostConnectProcessor;
import com.unboundid.ldap.sdk.ServerSet;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import com.unboundid.util.ssl.JVMDefaultTrustManager;
import com.unboundid.util.ssl.PEMFileTrustManager;
import com.unboundid.util.ssl.SSLUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.List;
import javax.net.SocketFactory;
import javax.net.ssl.TrustManager;
import org.apache.kafka.common.config.ConfigException;

/**
 * The connection pool to one back end: a {@link FailoverServerSet} over its providers, so that
 * writes go to the first provider that answers and move to the next when it dies, with explicit
 * connect and response timeouts, bound as the service account.
 */
final class LdapServers {

    private LdapServers() {
    }

    static LDAPConnectionPool pool(StoreConfig config) throws LDAPException, IOException, GeneralSecurityException {
        LDAPConnectionOptions options = new LDAPConnectionOptions();
        options.setConnectTimeoutMillis(config.ldapConnectTimeoutMs());
        options.setResponseTimeoutMillis(config.ldapResponseTimeoutMs());
        options.setUseKeepAlive(true);
        // The certificate must name the host we asked for, not just chain to a trusted authority.
        options.setSSLSocketVerifier(new HostNameSSLSocketVerifier(true));

        String tls = config.ldapTls();
        SSLUtil ssl = tls.equals("none") ? null : new SSLUtil(trustManager(config.ldapTlsCaFile()));
        SocketFactory sockets = tls.equals("ldaps") ? ssl.createSSLSocketFactory() : SocketFactory.getDefault();
        List<String> urls = config.ldapUrls();
        ServerSet[] servers = new ServerSet[urls.size()];
        for (int i = 0; i < urls.size(); i++) {
            LDAPURL url = parseUrl(urls.get(i));
            servers[i] = new SingleServerSet(url.getHost(), url.getPort(), sockets, options);
        }
        PostConnectProcessor startTls = tls.equals("starttls") ? new StartTLSPostConnectProcessor(ssl.createSSLContext()) : null;
        String password = Files.readString(config.ldapBindPasswordFile(), StandardCharsets.UTF_8)
                .stripTrailing();
        int connections = config.ldapConnections();
        // No connection is demanded at start: a back end that is down pauses storing, it does
        // not stop the worker.
        LDAPConnectionPool pool = new LDAPConnectionPool(new FailoverServerSet(servers),
                new SimpleBindRequest(config.ldapBindDn(), password),
                0, connections, 1, startTls, false);
        pool.setRetryFailedOperationsDueToInvalidConnections(true);
        pool.setConnectionPoolName("store-worker");
        return pool;
    }

    /** Checks an ldap.urls entry; throws {@link ConfigException} naming it. */
    static LDAPURL parseUrl(String url) {
        try {
            LDAPURL parsed = new LDAPURL(url);
            if (!parsed.hostProvided()) {
                throw new ConfigException(StoreConfig.LDAP_URLS, url, "names no host");
            }
            return parsed;
        } catch (LDAPException e) {
            throw new ConfigException(StoreConfig.LDAP_URLS, url, e.getMessage());
        }
    }

    private static TrustManager trustManager(String caFile) throws IOException, GeneralSecurityException {
        if (caFile.isEmpty()) {
            return JVMDefaultTrustManager.getInstance();
        }
        try {
            return new PEMFileTrustManager(Path.of(caFile).toFile());
        } catch (java.security.KeyStoreException e) {
            throw new ConfigException(StoreConfig.LDAP_TLS_CA_FILE, caFile, e.getMessage());
        }
    }
}
