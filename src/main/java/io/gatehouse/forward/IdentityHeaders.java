package io.gatehouse.forward;

import io.gatehouse.http.ClientIdentity;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.gatehouse.http.MessageFields;
import io.netty.util.AsciiString;
import java.net.InetAddress;

/**
 * What the origin learns about the client. Anonymous: nothing (identity headers the client or an
 * earlier proxy added are removed too). Otherwise: {@code Via} (RFC 9110 §7.6.3) and {@code
 * X-Forwarded-For}, as Squid sends them.
 */
final class IdentityHeaders {
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  /** Fields that name the client or the proxies in between; none reaches the origin when anonymous. */
  private static final AsciiString[] IDENTIFYING = {
    HttpHeaderNames.VIA,
    X_FORWARDED_FOR,
    AsciiString.cached("x-forwarded-host"),
    AsciiString.cached("x-forwarded-proto"),
    AsciiString.cached("x-forwarded-port"),
    AsciiString.cached("forwarded"),
    AsciiString.cached("x-real-ip"),
    AsciiString.cached("client-ip"),
    AsciiString.cached("true-client-ip"),
    HttpHeaderNames.FROM,
  };

  private IdentityHeaders() {}

  /** {@code via}: this hop's {@code Via} value, naming the protocol the request was received in ({@link ClientIdentity#via}). */
  static void apply(MessageFields headers, InetAddress client, boolean anonymize, boolean forwarded, String via) {
    // Proxy-* fields are for this proxy alone (RFC 9110 §11.7): credentials never travel on.
    headers.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
    headers.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
    headers.remove(HttpHeaderNames.PROXY_CONNECTION);
    if (anonymize) {
      for (AsciiString name : IDENTIFYING) {
        headers.remove(name);
      }
      return;
    }
    String ip = client.getHostAddress();
    ClientIdentity.addXForwardedFor(headers, ip);
    if (forwarded) {
      ClientIdentity.addForwarded(headers, ip, "http", null);
    }
    ClientIdentity.addVia(headers, via);
  }
}
