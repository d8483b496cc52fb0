package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * Which trailer fields are passed on. RFC 9110 §6.5.1: fields that frame, route or authenticate a
 * message, or control its connection, cannot be processed after the content, and a sender must not
 * send a field in a trailer section unless its definition allows it. A trailer section is also a
 * way past what the proxy checks or writes in the header section: a recipient that merges trailers
 * into the header section (§6.5.2 lets it, for fields defined as mergeable) would read a
 * {@code Content-Length}, a {@code Host} or an {@code X-Forwarded-For} from the client. Those are
 * dropped where trailers are read off the wire (HTTP/1.1 chunked bodies on both legs, HTTP/2
 * trailers from clients and upstreams); every other trailer field goes on as it came.
 */
final class TrailerFields {
  private static final AsciiString[] DROPPED = {
    HttpHeaderNames.CONTENT_LENGTH,
    HttpHeaderNames.HOST,
    HttpHeaderNames.AUTHORIZATION,
    HttpHeaderNames.PROXY_AUTHORIZATION,
    HttpHeaderNames.PROXY_AUTHENTICATE,
    HttpHeaderNames.WWW_AUTHENTICATE,
    AsciiString.cached("forwarded"),
    AsciiString.cached("x-forwarded-for"),
    AsciiString.cached("x-forwarded-host"),
    AsciiString.cached("x-forwarded-proto"),
    HttpHeaderNames.VIA,
  };

  private TrailerFields() {}

  /** Removes from {@code trailers} the fields that are not passed on. */
  static void strip(HttpHeaders trailers) {
    if (trailers.isEmpty()) {
      return;
    }
    for (String name : trailers.names()) { // a copy: removing while walking it is safe
      if (!forwarded(name)) {
        trailers.remove(name);
      }
    }
  }

  /** Whether a trailer field named {@code name} (any case) is passed on. */
  static boolean forwarded(CharSequence name) {
    if (HopByHop.isFixed(name)) {
      return false; // framing and connection control: Transfer-Encoding, Trailer, Connection, TE, ...
    }
    for (AsciiString dropped : DROPPED) {
      if (dropped.length() == name.length() && dropped.contentEqualsIgnoreCase(name)) {
        return false;
      }
    }
    return true;
  }
}
