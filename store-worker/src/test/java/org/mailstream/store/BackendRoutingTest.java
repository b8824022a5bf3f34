package org.mailstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BackendRoutingTest {

    private static final List<String> ADDRESSES = IntStream.range(0, 10_000).mapToObj(i -> "user" + i + "@example.com").toList();

    @Test
    void everyAddressIsOwnedByExactlyOneBackEnd() {
        List<BackendRouting> workers = List.of(routing("a", "a,b,c"), routing("b", "a,b,c"), routing("c", "a,b,c"));
        for (String address : ADDRESSES) {
            byte[] key = address.getBytes(StandardCharsets.UTF_8);
            assertEquals(1, workers.stream().filter(w -> w.owns(key)).count(), address);
        }
        assertEquals(1, workers.stream().filter(w -> w.owns(null)).count(), "a record without a key");
    }

    @Test
    void theAddressesSpreadEvenlyOverTheBackEnds() {
        Map<String, Long> counts = ADDRESSES.stream().collect(Collectors.groupingBy(routing("a", "a,b")::ownerOf, Collectors.counting()));
        assertTrue(counts.get("a") > 4_700 && counts.get("b") > 4_700, counts::toString);
    }

    @Test
    void addingABackEndTakesAddressesOnlyFromTheOthersNeverMovesThemBetweenThem() {
        Function<String, String> before = routing("a", "a,b")::ownerOf;
        Function<String, String> after = routing("a", "a,b,c")::ownerOf;
        long moved = ADDRESSES.stream().filter(a -> !before.apply(a).equals(after.apply(a))).count();
        assertTrue(ADDRESSES.stream().allMatch(a -> after.apply(a).equals(before.apply(a)) || after.apply(a).equals("c")));
        assertTrue(moved > 3_000 && moved < 3_700, "about a third moved: " + moved);
    }

    @Test
    void aPinnedAddressBelongsToItsPinnedBackEnd() {
        String address = ADDRESSES.stream().filter(a -> routing("a", "a,b").ownerOf(a).equals("a")).findFirst().orElseThrow();
        BackendRouting pinned = BackendRouting.of("b", List.of("a", "b"), List.of(address.replace("example.com", "Example.COM") + "=b"), "");
        assertTrue(pinned.owns(address.getBytes(StandardCharsets.UTF_8)), "the pin's domain is compared as the key's, lower-cased");
    }

    @Test
    void anAddressBelongsToOneBackEndWhateverTheCaseOfItsLocalPartAsItsOwnerLookupIgnoresCase() {
        BackendRouting routing = routing("a", "a,b,c,d");
        long apart = ADDRESSES.stream().filter(a -> !routing.ownerOf(a).equals(routing.ownerOf(a.toUpperCase(Locale.ROOT)))).count();
        assertEquals(0, apart);
        BackendRouting pinned = BackendRouting.of("b", List.of("a", "b"), List.of("Alice@example.com=b"), "");
        assertTrue(pinned.owns("ALICE@example.com".getBytes(StandardCharsets.UTF_8)), "a pin matches any case");
    }

    @Test
    void withoutBackEndsTheOnlyBackEndOwnsEverything() {
        BackendRouting single = BackendRouting.of("", List.of(), List.of(), "");
        assertTrue(single.owns("x@example.com".getBytes(StandardCharsets.UTF_8)) && single.owns(null));
    }

    @Test
    void aRoutingThatCouldLoseOrDoubleMailIsRefusedWithTheReason() {
        assertThrows(IllegalArgumentException.class, () -> BackendRouting.of("c", List.of("a", "b"), List.of(), ""), "not a back end");
        assertThrows(IllegalArgumentException.class, () -> BackendRouting.of("a", List.of("a", "a"), List.of(), ""), "named twice");
        assertThrows(IllegalArgumentException.class, () -> BackendRouting.of("a", List.of("a", "b"), List.of("x@example.com=z"), ""));
        assertThrows(IllegalArgumentException.class, () -> BackendRouting.of("a", List.of("a", "b"), List.of("x@example.com"), ""));
        assertThrows(IllegalArgumentException.class, () -> BackendRouting.of("a", List.of("a", "b"), List.of("no-domain=a"), ""));
        assertThrows(IllegalArgumentException.class, () -> BackendRouting.of("a", List.of("a", "b"),
                List.of("x@example.com=a", "x@example.com=b"), ""), "pinned twice");
        assertThrows(IllegalArgumentException.class, () -> BackendRouting.of("a", List.of(), List.of(), ""), "a name without a list");
    }

    @Test
    void anAddressWithAnExtensionGoesWhereItsMailboxGoesAndSoDoesItsPin() {
        BackendRouting routing = BackendRouting.of("a", List.of("a", "b", "c", "d"), List.of(), "+-");
        for (String address : ADDRESSES.subList(0, 200)) {
            String owner = routing.ownerOf(address);
            assertEquals(owner, routing.ownerOf(address.replace("@", "+news@")), address);
            assertEquals(owner, routing.ownerOf(address.replace("@", "-Lists+x@").toUpperCase(Locale.ROOT)), address);
        }
        BackendRouting pinned = BackendRouting.of("b", List.of("a", "b"), List.of("alice@example.com=b"), "+");
        assertEquals("b", pinned.ownerOf("alice+news@example.com"));
    }

    private static BackendRouting routing(String self, String backends) {
        return BackendRouting.of(self, List.of(backends.split(",")), List.of(), "");
    }
}
