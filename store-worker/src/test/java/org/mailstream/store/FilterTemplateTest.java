package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.unboundid.ldap.sdk.Filter;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FilterTemplateTest {

    private static final FilterTemplate DEFAULT = new FilterTemplate("f", "(|(mail=%s)(mailAlternateAddress=%s))");

    @ParameterizedTest
    @ValueSource(strings = {"*)(uid=*@example.com", "*", "a,ou=x@example.com", "bob\u0000@example.com", "back\\slash@example.com",
        "bob@example.com)(|(objectClass=*", "(", ")"})
    void aHostileAddressStaysOneLiteralAssertionValueInEveryPlace(String address) {
        Filter filter = DEFAULT.forValue(address);

        assertEquals(Filter.FILTER_TYPE_OR, filter.getFilterType());
        assertEquals(2, filter.getComponents().length);
        for (Filter component : filter.getComponents()) {
            assertEquals(Filter.FILTER_TYPE_EQUALITY, component.getFilterType());
            assertEquals(address, component.getAssertionValue());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"(mail=bob@example.com)", "(mail=*%s)", "(mail=%s", "mail=%s)"})
    void aTemplateWithoutAWholeValuePlaceholderOrThatIsNoFilterIsRefused(String template) {
        assertThrows(ConfigException.class, () -> new FilterTemplate("ldap.mailbox.filter", template));
    }

    @org.junit.jupiter.api.Test
    void partsOfTheTemplateWithoutThePlaceholderAreKept() {
        FilterTemplate template = new FilterTemplate("f", "(&(objectClass=inetOrgPerson)(!(mail=%s)))");
        assertEquals("(&(objectClass=inetOrgPerson)(!(mail=x@y)))", template.forValue("x@y").toString());
    }
}
