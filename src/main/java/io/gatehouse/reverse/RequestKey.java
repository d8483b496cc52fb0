package io.gatehouse.reverse;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;

/**
 * What a request is counted or hashed by (a rate-limit key, a {@code consistent_hash} key),
 * compiled once per generation from the config's {@code clientIp | route | header:NAME | cookie}.
 * Returns null when the request has no such key.
 */
@FunctionalInterface
public interface RequestKey {
  String of(HttpRequest request, String clientIp);

  static RequestKey clientIp() {
    return (request, clientIp) -> clientIp;
  }

  /** The same key for every request (a route-wide limit). */
  static RequestKey constant(String key) {
    return (request, clientIp) -> key;
  }

  static RequestKey header(String name) {
    io.netty.util.AsciiString lower = io.netty.util.AsciiString.cached(name.toLowerCase(java.util.Locale.ROOT));
    return (request, clientIp) -> io.gatehouse.http.MessageFields.of(request).get(lower);
  }

  static RequestKey cookie(String name) {
    return (request, clientIp) -> {
      String cookies = io.gatehouse.http.MessageFields.of(request).get(HttpHeaderNames.COOKIE);
      if (cookies != null) {
        for (Cookie cookie : ServerCookieDecoder.LAX.decode(cookies)) {
          if (cookie.name().equals(name)) {
            return cookie.value();
          }
        }
      }
      return null;
    };
  }
}
