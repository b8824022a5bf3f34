package org.mailstream.imap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Message flags (RFC 3501 2.3.2): the system flags, written with their backslash and in the
 * RFC's case whatever case a client used, and keywords, atoms of the client's choosing. The
 * directory compares them ignoring case (mailStoreFlag), as IMAP does.
 */
final class Flags {

    static final String SEEN = "\\Seen";
    static final String DELETED = "\\Deleted";

    private static final Map<String, String> SYSTEM = Set.of("\\Answered", "\\Flagged", DELETED, SEEN, "\\Draft").stream()
            .collect(Collectors.toMap(flag -> flag.toLowerCase(Locale.ROOT), flag -> flag));

    /** What SELECT lists in FLAGS and PERMANENTFLAGS (with \* for keywords of the client's own). */
    static final String SYSTEM_LIST = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)";
    static final String PERMANENT_LIST = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)";

    /** An atom (no list, quoting, wildcard or response-code characters): what a keyword may be. */
    private static final Pattern KEYWORD = Pattern.compile("[\\x21-\\x7e&&[^(){%*\"\\\\\\]]]{1,100}");

    private Flags() {
    }

    /** A flag a client may set, in its canonical form. */
    static String parse(String flag) throws Arguments.Bad {
        if (flag.startsWith("\\")) {
            String system = SYSTEM.get(flag.toLowerCase(Locale.ROOT));
            if (system == null) {
                // \Recent is the server's to set; others are no flags at all.
                throw new Arguments.Bad("no such flag a client may set: " + flag);
            }
            return system;
        }
        if (!KEYWORD.matcher(flag).matches()) {
            throw new Arguments.Bad("not a keyword (an atom of at most 100 characters): " + flag);
        }
        return flag;
    }

    /**
     * The flags of a list a client sent, each {@link #parse parsed}, and each once: the directory
     * compares them ignoring case, and refuses a change that names one value twice.
     */
    static List<String> parseAll(List<String> sent) throws Arguments.Bad {
        Set<String> named = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        List<String> flags = new ArrayList<>();
        for (String flag : sent) {
            String parsed = parse(flag);
            if (named.add(parsed)) {
                flags.add(parsed);
            }
        }
        return flags;
    }

    /** {@code flags} as stored, system flags written canonically, in a stable order. */
    static Set<String> canonical(Collection<String> flags) {
        Set<String> canonical = new TreeSet<>();
        for (String flag : flags) {
            canonical.add(SYSTEM.getOrDefault(flag.toLowerCase(Locale.ROOT), flag));
        }
        return canonical;
    }

    /** Whether {@code flags} holds {@code flag}, ignoring case. */
    static boolean has(Set<String> flags, String flag) {
        return flags.stream().anyMatch(candidate -> candidate.equalsIgnoreCase(flag));
    }

    /** The parenthesized list a FETCH FLAGS response gives. */
    static String list(Collection<String> flags) {
        return flags.stream().collect(Collectors.joining(" ", "(", ")"));
    }
}
