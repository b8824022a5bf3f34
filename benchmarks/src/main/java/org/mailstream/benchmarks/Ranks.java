package org.mailstream.benchmarks;

import java.util.Comparator;
import java.util.List;

/**
 * The order statistics every benchmark prints, by one definition: the nearest rank, so a figure
 * is always one of the samples (a run's time with that run's own CPU, never an average of two
 * runs), and the median of an even number of samples is the lower of the middle two.
 */
final class Ranks {

    private Ranks() {
    }

    /** The {@code percent}th percentile of {@code samples} in {@code order}: 50 the median, 100 the largest. */
    static <T> T percentile(List<T> samples, Comparator<? super T> order, int percent) {
        if (samples.isEmpty() || percent < 1 || percent > 100) {
            throw new IllegalArgumentException("the " + percent + "th percentile of " + samples.size() + " samples");
        }
        List<T> sorted = samples.stream().sorted(order).toList();
        return sorted.get((int) Math.ceil(sorted.size() * percent / 100.0) - 1);
    }

    static <T extends Comparable<? super T>> T percentile(List<T> samples, int percent) {
        return percentile(samples, Comparator.naturalOrder(), percent);
    }

    static <T> T median(List<T> samples, Comparator<? super T> order) {
        return percentile(samples, order, 50);
    }

    static <T extends Comparable<? super T>> T median(List<T> samples) {
        return percentile(samples, 50);
    }
}
