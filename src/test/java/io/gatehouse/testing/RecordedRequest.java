package io.gatehouse.testing;

import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;

/**
 * A request as a {@link FakeUpstream} received it. The body is counted in full but only its first
 * {@link FakeUpstream#BODY_PREFIX_LIMIT} bytes are kept, so a huge upload costs no memory.
 *
 * @param complete false when the connection ended before the request body did
 */
public record RecordedRequest(
        int connectionId,
        int indexOnConnection,
        String method,
        String uri,
        String protocolVersion,
        HttpHeaders headers,
        HttpHeaders trailers,
        long bodyLength,
        byte[] bodyPrefix,
        boolean complete) {

    public String header(String name) {
        return headers.get(name);
    }

    /** The kept body prefix as UTF-8; the whole body unless {@link #bodyTruncated()}. */
    public String bodyAsString() {
        return new String(bodyPrefix, StandardCharsets.UTF_8);
    }

    public boolean bodyTruncated() {
        return bodyLength > bodyPrefix.length;
    }
}
