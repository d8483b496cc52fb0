package io.gatehouse.config;

/** The admin listener. {@code token} is null when none is configured (allowed only on loopback). */
public record AdminConfig(HostPort bind, String token) {

  /**
   * Whether {@code host} (no port, no brackets, lower case) names the loopback interface:
   * {@code localhost}, {@code ::1} or an IPv4 literal in 127.0.0.0/8. What a bind needs to go
   * without a token, and what a tokenless API's requests must be addressed to.
   */
  public static boolean isLoopback(String host) {
    return Addresses.isLoopback(host);
  }
}
