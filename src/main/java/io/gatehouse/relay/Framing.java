package io.gatehouse.relay;

import io.gatehouse.http.ClientRequest;
import io.gatehouse.http.HopByHop;
import io.gatehouse.http.MessageFields;
import io.gatehouse.http.UpstreamResponse;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

/**
 * How a request and its response are framed on each side of the proxy (RFC 9112 §6, §9): decided
 * once from the client's request head, which is rewritten in place for the upstream, and applied to
 * the response head for the client. Hop-by-hop fields never cross; framing fields are set again by
 * the proxy. Immutable.
 *
 * @param hasBody the request has a body (chunked, or a length above zero)
 * @param clientKeepAlive the client asked to keep its connection
 * @param clientHttp10 the client speaks HTTP/1.0 (no chunked responses, no 1xx)
 * @param head the request is HEAD: its response has no body whatever it says
 * @param upgrade the request offers a WebSocket upgrade that is passed on
 */
record Framing(boolean hasBody, boolean clientKeepAlive, boolean clientHttp10, boolean head, boolean upgrade) {

  /** Decides the framing of {@code request} and rewrites its head for the upstream. */
  static Framing ofRequest(HttpRequest request) {
    // A request read by Gatehouse's own decoder, or made from an HTTP/2 stream's HEADERS, is read and
    // edited as its head's bytes (it then goes upstream by ranges); any other through its header objects.
    ClientRequest received = request instanceof ClientRequest ? (ClientRequest) request : null;
    int flags = received != null ? received.hopByHopFlags() : HopByHop.scan(request.headers());
    boolean http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
    boolean keepAlive = HopByHop.keepAlive(flags, http10);
    boolean chunked = (flags & HopByHop.CHUNKED) != 0;
    long length = received != null ? received.head().contentLength() : HttpUtil.getContentLength(request, 0L);
    boolean hasBody = chunked || ((flags & HopByHop.CONTENT_LENGTH) != 0 && length > 0);
    // RFC 9110 §7.8: Upgrade is hop-by-hop, but a proxy that can relay the new protocol passes the
    // offer on. Only WebSocket (RFC 6455 §4.1) is relayed, from a bodiless HTTP/1.1 request; other
    // offers (h2c) are dropped, so the upstream answers in HTTP/1.1.
    MessageFields fields = MessageFields.of(request);
    String upgrade = !HopByHop.upgradeOffered(flags) ? null
        : received != null ? received.received(HttpHeaderNames.UPGRADE) : fields.get(HttpHeaderNames.UPGRADE);
    boolean upgradeOffered = upgrade != null && !hasBody && !http10
        && HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(upgrade.trim());
    if (received == null) {
      HopByHop.strip(request.headers(), flags); // a ClientRequest never shows its hop-by-hop fields
    }
    if (chunked) {
      fields.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if (upgradeOffered) {
      fields.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      fields.set(HttpHeaderNames.UPGRADE, upgrade);
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    return new Framing(hasBody, keepAlive, http10, HttpMethod.HEAD.equals(request.method()), upgradeOffered);
  }

  /** Whether the upstream keeps its connection after {@code response}, from its {@link HopByHop#scan} flags. */
  static boolean upstreamKeepAlive(HttpResponse response, int flags) {
    return HopByHop.keepAlive(flags, response.protocolVersion().equals(HttpVersion.HTTP_1_0));
  }

  /**
   * Rewrites a final response head for the client.
   *
   * @param flags {@link HopByHop#scan} of the response's headers, before any change
   * @param keepOpen whether the client connection may stay open after it (request fully read,
   *     client asked for it, proxy not draining)
   * @return whether the client connection stays open after this response
   */
  boolean prepareResponse(HttpResponse response, int flags, boolean keepOpen, boolean addVia) {
    int code = response.status().code();
    boolean chunked = (flags & HopByHop.CHUNKED) != 0;
    boolean bodyless = head || code == 204 || code == 304;
    boolean delimited = chunked || (flags & HopByHop.CONTENT_LENGTH) != 0;
    if (!bodyless && !delimited && !clientHttp10) {
      chunked = true; // read-until-close upstream body: chunk it so the client connection survives
    } else if (!bodyless && !delimited) {
      keepOpen = false; // HTTP/1.0 client: the end of the body is the close
    } else if (chunked && clientHttp10) {
      // RFC 9112 §6.1: no Transfer-Encoding to an HTTP/1.0 client. The chunks' data goes as it
      // is (trailers cannot), and the close ends the body.
      chunked = false;
      keepOpen &= bodyless;
    }
    int additions = (chunked && !bodyless ? UpstreamResponse.ADD_CHUNKED : 0)
        | (!keepOpen ? UpstreamResponse.ADD_CLOSE : clientHttp10 ? UpstreamResponse.ADD_KEEP_ALIVE : 0)
        | (addVia ? UpstreamResponse.ADD_VIA : 0)
        | (hasDate(response) ? 0 : UpstreamResponse.ADD_DATE);
    // The common case: the head goes to the client as the upstream's bytes, hop-by-hop fields left
    // out and these added; no header objects. Otherwise the same edits on the headers.
    if (!(response instanceof UpstreamResponse parsed && parsed.forwardByRanges(additions))) {
      HopByHop.strip(response.headers(), flags);
      UpstreamResponse.addTo(response.headers(), additions, response.protocolVersion());
      response.setProtocolVersion(HttpVersion.HTTP_1_1);
    }
    return keepOpen;
  }

  /** RFC 9110 §6.6.1: a response forwarded without {@code Date} gets one from the proxy's clock. */
  private static boolean hasDate(HttpResponse response) {
    return response instanceof UpstreamResponse parsed ? parsed.hasDate() : response.headers().contains(HttpHeaderNames.DATE);
  }

  /**
   * A 1xx for the client, as a full message: the encoder frames a bodiless head only once it sees
   * the head's end, and the upstream 1xx's own (empty) end is dropped by the exchange. As a bare
   * head it stayed in the encoder (100 Continue never reached the client). A 101 keeps its
   * {@code Upgrade}; hop-by-hop fields go.
   */
  static HttpResponse informational(HttpResponse response) {
    String protocol = response.headers().get(HttpHeaderNames.UPGRADE);
    HopByHop.strip(response.headers());
    if (response.status().code() == 101) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      if (protocol != null) {
        response.headers().set(HttpHeaderNames.UPGRADE, protocol);
      }
    }
    ReferenceCountUtil.release(response);
    return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), Unpooled.EMPTY_BUFFER,
        response.headers(), EmptyHttpHeaders.INSTANCE);
  }
}
