package io.gatehouse.testing;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * One response as read byte-exactly by {@link RawHttpClient}. Header names keep their case and
 * order; lookups ignore case.
 *
 * @param informational the 1xx responses received before this one, in order
 * @param framing how the body was delimited
 */
public record RawResponse(
        String version,
        int status,
        String reason,
        List<Map.Entry<String, String>> headers,
        byte[] body,
        List<Map.Entry<String, String>> trailers,
        List<RawResponse> informational,
        Framing framing) {

    public enum Framing { NONE, CONTENT_LENGTH, CHUNKED, CLOSE }

    /** First value of the header, or null. */
    public String header(String name) {
        return first(headers, name);
    }

    public List<String> headers(String name) {
        return headers.stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).toList();
    }

    public String trailer(String name) {
        return first(trailers, name);
    }

    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    private static String first(List<Map.Entry<String, String>> fields, String name) {
        return fields.stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue)
                .findFirst().orElse(null);
    }
}
