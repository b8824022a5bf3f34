package org.mailstream.store;

import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import java.util.Set;

/**
 * The one place that decides whose fault a failed LDAP operation is, and so what becomes of the
 * record: the entry's fault sends it to the dead-letter topic; the operator's (rights,
 * credentials, transport security the back end demands) and the back end's availability (down,
 * busy, timed out, anything else) pause storing and retry, because neither is the message's
 * fault. The operator's kind is named once in the log and the metrics, since no retry cures it.
 */
final class LdapFailures {

    /** Whose fault a failure is. */
    enum Cause { ENTRY, OPERATOR, AVAILABILITY }

    private static final Set<ResultCode> THE_ENTRY_IS_AT_FAULT = Set.of(
            ResultCode.OBJECT_CLASS_VIOLATION,
            ResultCode.INVALID_ATTRIBUTE_SYNTAX,
            ResultCode.CONSTRAINT_VIOLATION,
            ResultCode.NAMING_VIOLATION,
            ResultCode.INVALID_DN_SYNTAX,
            ResultCode.UNDEFINED_ATTRIBUTE_TYPE,
            ResultCode.ATTRIBUTE_OR_VALUE_EXISTS,
            ResultCode.ADMIN_LIMIT_EXCEEDED);

    private static final Set<ResultCode> THE_OPERATOR_IS_AT_FAULT = Set.of(
            ResultCode.INSUFFICIENT_ACCESS_RIGHTS,
            ResultCode.INVALID_CREDENTIALS,
            ResultCode.INAPPROPRIATE_AUTHENTICATION,
            ResultCode.STRONG_AUTH_REQUIRED,
            ResultCode.CONFIDENTIALITY_REQUIRED);

    private LdapFailures() {
    }

    static Cause cause(LDAPException failure) {
        ResultCode code = failure.getResultCode();
        return THE_ENTRY_IS_AT_FAULT.contains(code) ? Cause.ENTRY
                : THE_OPERATOR_IS_AT_FAULT.contains(code) ? Cause.OPERATOR : Cause.AVAILABILITY;
    }

    static String describe(LDAPException failure) {
        String diagnostic = failure.getDiagnosticMessage();
        return failure.getResultCode() + (diagnostic == null || diagnostic.isBlank() ? "" : ": " + diagnostic);
    }
}
