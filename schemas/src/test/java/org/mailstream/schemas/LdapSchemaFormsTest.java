package org.mailstream.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.schema.AttributeTypeDefinition;
import com.unboundid.ldap.sdk.schema.ObjectClassDefinition;
import com.unboundid.ldap.sdk.schema.Schema;
import com.unboundid.ldap.sdk.schema.SchemaElement;
import com.unboundid.ldif.LDIFReader;
import java.io.InputStream;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LdapSchemaFormsTest {

    private static final String RESOURCES = "/org/mailstream/schemas/";

    @Test
    void theOpenLdapAndInMemoryFormsDefineTheSameAttributeTypes() throws Exception {
        Map<String, String> openLdap = byOid(cnConfig().getAttributeValues("olcAttributeTypes"), AttributeTypeDefinition::new);
        Map<String, String> inMemory = byOid(subschema().getAttributeValues("attributeTypes"), AttributeTypeDefinition::new);
        assertEquals(30, inMemory.size());
        assertEquals(openLdap, inMemory);
    }

    @Test
    void theOpenLdapAndInMemoryFormsDefineTheSameObjectClasses() throws Exception {
        Map<String, String> openLdap = byOid(cnConfig().getAttributeValues("olcObjectClasses"), ObjectClassDefinition::new);
        Map<String, String> inMemory = byOid(subschema().getAttributeValues("objectClasses"), ObjectClassDefinition::new);
        assertEquals(5, inMemory.size());
        assertEquals(openLdap, inMemory);
    }

    @Test
    void everyNameCarriesTheMailStorePrefix() throws Exception {
        Schema schema = new Schema(subschema());
        schema.getAttributeTypes().forEach(t -> assertTrue(t.getNameOrOID().startsWith("mailStore"), t.toString()));
        schema.getObjectClasses().forEach(c -> assertTrue(c.getNameOrOID().startsWith("mailStore"), c.toString()));
    }

    @Test
    void theInMemoryServerStoresAMessageEntryAndRefusesOneWithoutRawBytes() throws Exception {
        InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig("dc=example,dc=com");
        config.setSchema(Schema.mergeSchemas(Schema.getDefaultStandardSchema(), new Schema(subschema())));
        InMemoryDirectoryServer server = new InMemoryDirectoryServer(config);
        try {
            server.add("dn: dc=example,dc=com", "objectClass: domain", "dc: example");
            server.add("dn: ou=people,dc=example,dc=com", "objectClass: organizationalUnit", "ou: people");
            server.add("dn: uid=bob,ou=people,dc=example,dc=com", "objectClass: inetOrgPerson",
                    "uid: bob", "cn: Bob", "sn: Bob", "mail: bob@example.com");
            server.add("dn: cn=INBOX,uid=bob,ou=people,dc=example,dc=com", "objectClass: mailStoreFolder", "cn: INBOX");
            String id = "ab".repeat(32);
            Entry message = new Entry("mailStoreId=" + id + ",cn=INBOX,uid=bob,ou=people,dc=example,dc=com");
            message.addAttribute("objectClass", "mailStoreMessage");
            message.addAttribute("mailStoreId", id);
            message.addAttribute("mailStoreRaw", new byte[] {'S', 'u', 'b', 0, (byte) 0xff, '\r'});
            message.addAttribute("mailStoreSize", "6");
            message.addAttribute("mailStoreSha256", id);
            message.addAttribute("mailStoreReceived", "20261125120000Z");
            message.addAttribute("mailStoreRecipient", "bob@example.com");

            server.add(message);
            assertArrayEquals(message.getAttributeValueBytes("mailStoreRaw"),
                    server.getEntry(message.getDN()).getAttributeValueBytes("mailStoreRaw"));

            message.removeAttribute("mailStoreRaw");
            message.setDN("mailStoreId=" + "cd".repeat(32) + ",cn=INBOX,uid=bob,ou=people,dc=example,dc=com");
            LDAPException refused = assertThrows(LDAPException.class, () -> server.add(message));
            assertEquals(ResultCode.OBJECT_CLASS_VIOLATION, refused.getResultCode());
        } finally {
            server.shutDown(true);
        }
    }

    private static Entry cnConfig() throws Exception {
        return readEntry("mailstore.cnconfig.ldif");
    }

    private static Entry subschema() throws Exception {
        return readEntry("mailstore.subschema.ldif");
    }

    private static Entry readEntry(String name) throws Exception {
        try (InputStream in = LdapSchemaFormsTest.class.getResourceAsStream(RESOURCES + name);
             LDIFReader reader = new LDIFReader(in)) {
            return reader.readEntry();
        }
    }

    private interface Parser {
        SchemaElement parse(String definition) throws LDAPException;
    }

    /**
     * Definitions keyed by OID, each normalised by UnboundID's own parser and printer, so that
     * the comparison is of meaning, not of spelling; OpenLDAP's "{n}" ordinals are dropped.
     */
    private static Map<String, String> byOid(String[] definitions, Parser parser) throws LDAPException {
        Map<String, String> result = new TreeMap<>();
        for (String definition : definitions) {
            SchemaElement element = parser.parse(definition.replaceFirst("^\\{\\d+}", ""));
            String oid = element instanceof AttributeTypeDefinition a ? a.getOID() : ((ObjectClassDefinition) element).getOID();
            result.put(oid, element.toString());
        }
        return result;
    }
}
