package org.mailstream.store;

import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import java.util.Set;

/**
 * The one place that decides whether a failed LDAP operation may succeed later. Only result
 * codes that say the entry itself is unacceptable are permanent, and send the record to the
 * dead-letter topic; everything else, including a directory that is down, busy, misconfigured or
 * denies access, pauses storing and is retried, because none of it is the message's fault.
 */
final class LdapFailures {

    private static final Set<ResultCode> THE_ENTRY_IS_AT_FAULT = Set.of(
            ResultCode.OBJECT_CLASS_VIOLATION,
            ResultCode.INVALID_ATTRIBUTE_SYNTAX,
            ResultCode.CONSTRAINT_VIOLATION,
            ResultCode.NAMING_VIOLATION,
            ResultCode.INVALID_DN_SYNTAX,
            ResultCode.UNDEFINED_ATTRIBUTE_TYPE,
            ResultCode.ATTRIBUTE_OR_VALUE_EXISTS,
            ResultCode.ADMIN_LIMIT_EXCEEDED);

    private LdapFailures() {
    }

    static boolean isRetriable(LDAPException failure) {
        return !THE_ENTRY_IS_AT_FAULT.contains(failure.getResultCode());
    }

    static String describe(LDAPException failure) {
        String diagnostic = failure.getDiagnosticMessage();
        return failure.getResultCode() + (diagnostic == null || diagnostic.isBlank() ? "" : ": " + diagnostic);
    }
}
