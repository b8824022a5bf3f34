package org.mailstream.store;

import org.mailstream.local.Slapd;

/**
 * The access rules' tests against the database Debian's slapd package configures (its stock rule
 * lets anyone read everything), after docs/ldap.md's directory set-up: schema added,
 * mailstore.database.ldif applied with ldapmodify -Y EXTERNAL.
 */
class AccessRulesOnDebianDatabaseIT extends AccessRulesIT {

    @Override
    Slapd slapd() {
        return Slapd.startFromDebianPackageConfiguration();
    }
}
