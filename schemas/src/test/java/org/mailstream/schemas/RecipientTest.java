package org.mailstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RecipientTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bob@example.com          | bob@example.com",
        "Bob@Example.COM          | Bob@example.com",
        "first.last+tag@EXAMPLE.com | first.last+tag@example.com",
        "\"q@uoted\"@example.com  | \"q@uoted\"@example.com",
        "*)(uid=*@example.com     | *)(uid=*@example.com",
        "a,ou=x@example.com       | a,ou=x@example.com",
        "back\\slash@example.com  | back\\slash@example.com",
        "jörg@bücher.example      | jörg@bücher.example",
        "postmaster@[192.0.2.1]   | postmaster@[192.0.2.1]",
    })
    void theKeyLowerCasesTheDomainAndKeepsTheLocalPart(String address, String key) {
        assertEquals(key, Recipient.parse(address).key());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bob", "@example.com", "bob@", "bob@exa mple.com", "bob@-example.com",
        "bob@example..com", "bob\u0000@example.com", "bob\r\n@example.com", "bob@example.com\n"})
    void anAddressThatIsNotSyntacticallyValidIsRefused(String address) {
        assertThrows(IllegalArgumentException.class, () -> Recipient.parse(address));
    }

    @org.junit.jupiter.api.Test
    void anOverlongLocalPartIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Recipient.parse("x".repeat(65) + "@example.com"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "null", value = {
        "alice+news@example.com    | +   | alice@example.com    | news",
        "ALICE+News@Example.com    | +   | ALICE@Example.com    | News",
        "alice+a+b@example.com     | +   | alice@example.com    | a+b",
        "alice-news@example.com    | +-  | alice@example.com    | news",
        "alice+@example.com        | +   | alice@example.com    | ''",
        "alice@example.com         | +   | alice@example.com    | null",
        "alice+news@example.com    | ''  | alice+news@example.com | null",
        "+news@example.com         | +   | +news@example.com    | null",
        "mailer-daemon@example.com | -   | mailer-daemon@example.com | null",
        "postmaster+x@example.com  | +   | postmaster@example.com | x",
        "owner-list@example.com    | -   | owner-list@example.com | null",
        "list-request@example.com  | -   | list-request@example.com | null",
        "a+b,cn=x@example.com      | +   | a@example.com        | 'b,cn=x'",
    })
    void theExtensionIsWhatFollowsTheFirstDelimiterAsPostfixSplitsIt(String address, String delimiters, String mailbox,
            String extension) {
        Recipient recipient = Recipient.parse(address);
        assertEquals(mailbox, recipient.withoutExtension(delimiters).toString());
        assertEquals(extension, recipient.extension(delimiters));
    }
}
