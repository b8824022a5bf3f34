package org.mailstream.store;

import com.unboundid.ldap.sdk.DisconnectHandler;
import com.unboundid.ldap.sdk.FailoverServerSet;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPURL;
import com.unboundid.ldap.sdk.ServerSet;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.apache.kafka.common.config.ConfigException;

/**
 * The connection pool to one back end: a {@link FailoverServerSet} over its providers, so that
 * writes go to the first provider that answers and move to the next when it dies, with explicit
 * connect and response timeouts, bound as the service account.
 */
final class LdapServers {

    private LdapServers() {
    }

    /** The pool, with {@code onDisconnect} told of every connection that closes (null: nobody). */
    static LDAPConnectionPool pool(StoreConfig config, DisconnectHandler onDisconnect)
            throws LDAPException, IOException {
        // No connection is demanded at start: a back end that is down pauses storing, it does
        // not stop the worker. Room for the two connections health checks borrow (the
        // background one and the commit rule's), or a writer opens one meanwhile and the pool
        // closes a healthy connection as unneeded, which log mode must count as a possible loss.
        LDAPConnectionPool pool = new LDAPConnectionPool(new FailoverServerSet(providers(config, onDisconnect)), bindRequest(config),
                0, config.ldapConnections() + 2, 1, null, false);
        pool.setRetryFailedOperationsDueToInvalidConnections(true);
        pool.setConnectionPoolName("store-worker");
        return pool;
    }

    /** One server set per provider, in ldap.urls order, each connecting with TLS as configured but not bound. */
    static ServerSet[] providers(StoreConfig config, DisconnectHandler onDisconnect) {
        LDAPConnectionOptions options = new LDAPConnectionOptions();
        options.setDisconnectHandler(onDisconnect);
        options.setConnectTimeoutMillis(config.ldapConnectTimeoutMs());
        options.setResponseTimeoutMillis(config.ldapResponseTimeoutMs());
        options.setUseKeepAlive(true);
        List<String> urls = config.ldapUrls();
        ServerSet[] servers = new ServerSet[urls.size()];
        for (int i = 0; i < urls.size(); i++) {
            LDAPURL url = parseUrl(urls.get(i));
            servers[i] = config.ldapTransport().server(url.getHost(), url.getPort(), options);
        }
        return servers;
    }

    /** A new connection to {@code provider} (StartTLS done where configured), bound as the service account. */
    static LDAPConnection connect(ServerSet provider, StoreConfig config) throws LDAPException, IOException {
        LDAPConnection connection = provider.getConnection();
        try {
            connection.bind(bindRequest(config));
            return connection;
        } catch (LDAPException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private static SimpleBindRequest bindRequest(StoreConfig config) throws IOException {
        String password = Files.readString(config.ldapBindPasswordFile(), StandardCharsets.UTF_8).stripTrailing();
        return new SimpleBindRequest(config.ldapBindDn(), password);
    }

    /** Checks an ldap.urls entry; throws {@link ConfigException} naming it. */
    static LDAPURL parseUrl(String url) {
        try {
            LDAPURL parsed = new LDAPURL(url);
            if (!parsed.hostProvided()) {
                throw new ConfigException(StoreConfig.LDAP_URLS + ": a URL names no host");
            }
            return parsed;
        } catch (LDAPException e) {
            throw new ConfigException(StoreConfig.LDAP_URLS + ": not an LDAP URL: " + e.getMessage());
        }
    }
}
