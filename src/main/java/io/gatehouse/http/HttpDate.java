package io.gatehouse.http;

import io.netty.handler.codec.DateFormatter;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Date;

/**
 * The {@code Date} field (RFC 9110 §6.6.1) of the current second, formatted once per second and
 * shared by every event loop: the proxy's own replies carry it (an origin with a clock must send
 * it), and so does a relayed response that came without one (a recipient with a clock must add it
 * before forwarding the response).
 */
public final class HttpDate {
  /** One second's value: its IMF-fixdate text and its {@code date: ...\r\n} line. */
  public record Now(long second, AsciiString value, byte[] line) {}

  private static volatile Now now = format(System.currentTimeMillis() / 1000);

  private HttpDate() {}

  /** The value for this second (formatted by the first caller in it; a racing second format is harmless). */
  public static Now now() {
    long second = System.currentTimeMillis() / 1000;
    Now cached = now;
    if (cached.second() != second) {
      cached = format(second);
      now = cached;
    }
    return cached;
  }

  private static Now format(long second) {
    String value = DateFormatter.format(new Date(second * 1000));
    return new Now(second, AsciiString.cached(value), ("date: " + value + "\r\n").getBytes(StandardCharsets.US_ASCII));
  }
}
