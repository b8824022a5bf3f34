package org.mailstream.directory;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPSearchException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import java.util.List;

/** A search that asks for a few entries, to learn whether there are any: reaching its size limit is an answer, not a failure. */
public final class LimitedSearch {

    private LimitedSearch() {
    }

    /** The entries {@code request} found, up to its size limit. */
    public static List<SearchResultEntry> entries(LDAPConnection connection, SearchRequest request) throws LDAPSearchException {
        try {
            return connection.search(request).getSearchEntries();
        } catch (LDAPSearchException e) {
            if (e.getResultCode() != ResultCode.SIZE_LIMIT_EXCEEDED) {
                throw e;
            }
            return e.getSearchEntries();
        }
    }
}
