package org.mailstream.imap;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parameters split over several (RFC 2231 3: {@code name*0*=utf-8''Gr%C3; name*1=.pdf}) joined
 * into one, named {@code name*} when its first segment is encoded, values left encoded for the
 * client to decode; parameters of that form listed after the plain ones, as Dovecot lists them.
 */
final class Rfc2231 {

    private static final Pattern SEGMENT = Pattern.compile("(.+?)\\*(\\d+)(\\*?)");

    private Rfc2231() {
    }

    static List<MimePart.Parameter> joined(List<MimePart.Parameter> written) {
        List<MimePart.Parameter> plain = new ArrayList<>();
        Map<String, TreeMap<Integer, MimePart.Parameter>> segmented = new LinkedHashMap<>();
        Map<String, MimePart.Parameter> extended = new LinkedHashMap<>();
        for (MimePart.Parameter parameter : written) {
            Matcher segment = SEGMENT.matcher(parameter.name());
            if (segment.matches()) {
                segmented.computeIfAbsent(segment.group(1).toLowerCase(Locale.ROOT), name -> new TreeMap<>())
                        .put(Integer.parseInt(segment.group(2)), new MimePart.Parameter(segment.group(3), parameter.value()));
            } else if (parameter.name().endsWith("*")) {
                extended.put(parameter.name().toLowerCase(Locale.ROOT), parameter);
            } else {
                plain.add(parameter);
            }
        }
        List<MimePart.Parameter> joined = new ArrayList<>(plain);
        joined.addAll(extended.values());
        segmented.forEach((name, segments) -> {
            StringBuilder value = new StringBuilder();
            segments.values().forEach(segment -> value.append(segment.value()));
            boolean encoded = segments.firstEntry().getValue().name().equals("*");
            joined.add(new MimePart.Parameter(encoded ? name + "*" : name, value.toString()));
        });
        return joined;
    }
}
