package org.mailstream.store;

import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPException;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.config.ConfigException;

/**
 * A configured search filter such as {@code (|(mail=%s)(mailAlternateAddress=%s))}, parsed
 * once. Each {@code %s} marks an assertion value; {@link #forValue(String)} rebuilds the filter
 * tree with the value in those places through UnboundID's filter API, so that a recipient like
 * {@code *)(uid=*} stays one literal value and can never change the filter's shape.
 */
final class FilterTemplate {

    // A stand-in that survives filter parsing unchanged and cannot occur in an address.
    private static final String PLACEHOLDER = "\u0000mailstream-placeholder\u0000";
    private static final String PLACEHOLDER_TEXT = "\\00mailstream-placeholder\\00";

    private final Filter template;

    FilterTemplate(String name, String text) {
        if (!text.contains("%s")) {
            throw new ConfigException(name + " has no %s where the address goes");
        }
        try {
            this.template = Filter.create(text.replace("%s", PLACEHOLDER_TEXT));
        } catch (LDAPException e) {
            throw new ConfigException(name + " is not an LDAP filter: " + e.getMessage());
        }
        if (forValue("a@example.com").toString().contains(PLACEHOLDER_TEXT)) {
            throw new ConfigException(name + ": %s may stand only for a whole value of an equality or approximate match");
        }
    }

    Filter forValue(String value) {
        return substitute(template, place -> place.getFilterType() == Filter.FILTER_TYPE_EQUALITY
                ? Filter.createEqualityFilter(place.getAttributeName(), value)
                : Filter.createApproximateMatchFilter(place.getAttributeName(), value));
    }

    /** The filter with any value where the address goes: what finds some owner, for the pre-flight check. */
    Filter anyValue() {
        return substitute(template, place -> Filter.createPresenceFilter(place.getAttributeName()));
    }

    /** {@code filter} with each component that holds the placeholder replaced by {@code replace} of it. */
    private static Filter substitute(Filter filter, UnaryOperator<Filter> replace) {
        return switch (filter.getFilterType()) {
            case Filter.FILTER_TYPE_AND -> Filter.createANDFilter(substituteAll(filter.getComponents(), replace));
            case Filter.FILTER_TYPE_OR -> Filter.createORFilter(substituteAll(filter.getComponents(), replace));
            case Filter.FILTER_TYPE_NOT -> Filter.createNOTFilter(substitute(filter.getNOTComponent(), replace));
            case Filter.FILTER_TYPE_EQUALITY, Filter.FILTER_TYPE_APPROXIMATE_MATCH ->
                    PLACEHOLDER.equals(filter.getAssertionValue()) ? replace.apply(filter) : filter;
            default -> filter;
        };
    }

    private static Filter[] substituteAll(Filter[] filters, UnaryOperator<Filter> replace) {
        return Arrays.stream(filters).map(f -> substitute(f, replace)).toArray(Filter[]::new);
    }
}
