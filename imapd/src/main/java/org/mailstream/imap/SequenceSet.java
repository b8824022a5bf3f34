package org.mailstream.imap;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntToLongFunction;
import java.util.regex.Pattern;

/** A sequence set (RFC 3501 9, sequence-set): numbers and ranges, with {@code *} for the largest in use. */
record SequenceSet(List<long[]> ranges) {

    private static final Pattern NUMBER = Pattern.compile("[1-9]\\d{0,9}");

    /** Parses {@code text} such as {@code 1:3,7,9:*}; {@code *} stands for {@link Long#MAX_VALUE} until {@link #contains} resolves it. */
    static SequenceSet parse(String text) throws Arguments.Bad {
        List<long[]> ranges = new ArrayList<>();
        for (String piece : text.split(",", -1)) {
            String[] ends = piece.split(":", -1);
            if (ends.length > 2) {
                throw new Arguments.Bad("not a sequence set: " + text);
            }
            long first = number(ends[0], text);
            long last = ends.length == 2 ? number(ends[1], text) : first;
            ranges.add(new long[] {Math.min(first, last), Math.max(first, last)});
        }
        return new SequenceSet(ranges);
    }

    private static long number(String text, String set) throws Arguments.Bad {
        if (text.equals("*")) {
            return Long.MAX_VALUE;
        }
        if (!NUMBER.matcher(text).matches() || Long.parseLong(text) > 4_294_967_295L) {
            throw new Arguments.Bad("not a sequence set: " + set);
        }
        return Long.parseLong(text);
    }

    /** Whether {@code number} is in the set, {@code *} being {@code largest}. */
    boolean contains(long number, long largest) {
        for (long[] range : ranges) {
            long first = range[0] == Long.MAX_VALUE ? largest : range[0];
            long last = range[1] == Long.MAX_VALUE ? largest : range[1];
            if (number >= Math.min(first, last) && number <= Math.max(first, last)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Which of {@code count} ascending numbers ({@code numberAt} gives the one at each position)
     * the set holds, as their positions, {@code *} being the last: found by binary search, so
     * that a FETCH of one UID in a large folder does not look at every message.
     */
    BitSet positions(int count, IntToLongFunction numberAt) {
        BitSet held = new BitSet(count);
        if (count == 0) {
            return held;
        }
        long largest = numberAt.applyAsLong(count - 1);
        for (long[] range : ranges) {
            long first = range[0] == Long.MAX_VALUE ? largest : range[0];
            long last = range[1] == Long.MAX_VALUE ? largest : range[1];
            held.set(firstAtLeast(Math.min(first, last), count, numberAt), firstAtLeast(Math.max(first, last) + 1, count, numberAt));
        }
        return held;
    }

    /** The first position whose number is at least {@code number}; {@code count} when none is. */
    private static int firstAtLeast(long number, int count, IntToLongFunction numberAt) {
        int low = 0;
        int high = count;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (numberAt.applyAsLong(middle) < number) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        return low;
    }

    /** Whether some number of the set, {@code *} aside, exceeds {@code count}: a sequence number that does not exist. */
    boolean exceeds(long count) {
        return ranges.stream().anyMatch(range -> (range[1] != Long.MAX_VALUE && range[1] > count)
                || (range[0] != Long.MAX_VALUE && range[0] > count));
    }
}
