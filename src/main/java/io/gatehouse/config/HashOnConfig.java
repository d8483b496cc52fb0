package io.gatehouse.config;

/** What {@code consistent_hash} hashes: the client IP, a request header or a cookie. */
public record HashOnConfig(Source source, String name) {
  public enum Source {
    CLIENT_IP,
    HEADER,
    COOKIE
  }

  public static final HashOnConfig CLIENT_IP = new HashOnConfig(Source.CLIENT_IP, null);
}
