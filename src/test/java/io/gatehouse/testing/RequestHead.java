package io.gatehouse.testing;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * What a {@link FakeUpstream} responder sees: the request line and headers, before the body has
 * been read. The body, once read, is in {@link FakeUpstream#requests()}.
 *
 * @param connectionId 1-based id of the upstream-side connection the request arrived on
 * @param indexOnConnection 0 for the first request on a connection, 1 for the next, ...
 * @param sequence 0-based position of this request among all requests the upstream received
 */
public record RequestHead(
        int connectionId, int indexOnConnection, long sequence, String method, String uri, HttpHeaders headers) {

    public String header(String name) {
        return headers.get(name);
    }
}
