package org.mailstream.store;

import com.unboundid.ldap.sdk.DisconnectHandler;
import com.unboundid.ldap.sdk.FailoverServerSet;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ServerSet;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigException;
import org.mailstream.config.DeclaredConfig;

/**
 * The connection pool to one back end: a {@link FailoverServerSet} over its providers, so that
 * writes go to the first provider that answers and move to the next when it dies, with explicit
 * connect and response timeouts, bound as the service account.
 */
final class LdapServers {

    private LdapServers() {
    }

    /** The pool, with {@code onDisconnect} told of every connection that closes (null: nobody). */
    static LDAPConnectionPool pool(StoreConfig config, DisconnectHandler onDisconnect) throws LDAPException {
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
        return config.ldapTransport().providers().stream()
                .map(url -> config.ldapTransport().server(url.getHost(), url.getPort(), options)).toArray(ServerSet[]::new);
    }

    /** A new connection to {@code provider} (StartTLS done where configured), bound as the service account. */
    static LDAPConnection connect(ServerSet provider, StoreConfig config) throws LDAPException {
        LDAPConnection connection = provider.getConnection();
        try {
            connection.bind(bindRequest(config));
            return connection;
        } catch (LDAPException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** The worker's bind; a password file it cannot read is a fault of the configuration. */
    private static SimpleBindRequest bindRequest(StoreConfig config) {
        Path file = config.ldapBindPasswordFile();
        try {
            return new SimpleBindRequest(config.ldapBindDn(), Files.readString(file, StandardCharsets.UTF_8).stripTrailing());
        } catch (IOException e) {
            throw new ConfigException(StoreConfig.LDAP_BIND_PASSWORD_FILE + " " + file + ": " + DeclaredConfig.describe(file, e));
        }
    }
}
