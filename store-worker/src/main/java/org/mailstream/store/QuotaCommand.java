package org.mailstream.store;

import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.stream.Stream;
import org.mailstream.config.CommandDeclaration;

/**
 * store-worker quota recalc: counts again what every owner with a quota keeps, sets its usage,
 * and marks or unmarks it, one line an owner.
 */
final class QuotaCommand {

    static final CommandDeclaration RECALC = WorkerExit.declareOn(new CommandDeclaration("store-worker quota recalc",
            "count again what every owner with a quota keeps", """
            The worker counts an owner's usage as it stores, and nothing else lowers it: mail
            removed by IMAP EXPUNGE or by an operator frees nothing until this counts again.
            For every owner below ldap.base.dn with a limit (its own mailStoreQuotaBytes or
            mailStoreQuotaMessages, or, when quota.bytes or quota.messages is set, every owner
            with a mail address), it counts the messages below the owner and their octets, sets
            mailStoreUsedBytes and mailStoreUsedMessages, and sets mailStoreOverQuota to TRUE
            when a limit is passed and to FALSE when none is, so that Postfix takes mail for it
            again. One line an owner. Run it as often as mail is removed, from a timer say; it
            may run beside the workers, whose counts it replaces.

            """).configurationFile(StoreConfig.DEFAULT_PATH), WorkerExit.Program.QUOTA);

    private QuotaCommand() {
    }

    static int run(String[] args, PrintStream out) {
        return RECALC.run(args, RECALC.sysexits(out), StoreConfig::load, (command, config) -> recalc(config, out).code());
    }

    private static WorkerExit recalc(StoreConfig config, PrintStream out) throws Exception {
        Filter owners = config.quotaBytes() > 0 || config.quotaMessages() > 0 ? Filter.createPresenceFilter("mail")
                : Filter.createEqualityFilter("objectClass", "mailStoreQuotaOwner");
        String[] attributes = Stream.concat(Stream.of("mail"), Arrays.stream(Quotas.OWNER_ATTRIBUTES)).toArray(String[]::new);
        try (LDAPConnectionPool pool = LdapServers.pool(config, null)) {
            Quotas counting = new Quotas(pool, config, new WorkerMetrics());
            int counted = 0;
            int over = 0;
            for (SearchResultEntry owner : pool.search(new SearchRequest(config.ldapBaseDn(), SearchScope.SUB, owners, attributes))
                    .getSearchEntries()) {
                Quotas.Limits limits = counting.limitsOf(owner);
                if (!limits.any()) {
                    continue;
                }
                Quotas.Usage usage = counting.recount(owner.getParsedDN(), limits);
                boolean passed = limits.passedBy(usage);
                out.println(owner.getDN() + ": " + usage.messages() + " messages, " + usage.bytes() + " octets"
                        + (passed ? ": over quota" : ""));
                counted++;
                over += passed ? 1 : 0;
            }
            out.println("counted " + counted + " owners with a quota, " + over + " over it");
            return WorkerExit.RECOUNTED;
        } catch (LDAPException e) {
            out.println(RECALC.name() + ": " + LdapFailures.describe(e));
            return LdapFailures.cause(e) == LdapFailures.Cause.OPERATOR ? WorkerExit.CONFIG : WorkerExit.BACKEND_UNAVAILABLE;
        }
    }
}
