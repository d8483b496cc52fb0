package io.gatehouse.config;

/**
 * Which headers a listener adds to requests it sends upstream.
 *
 * @param xForwarded X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host
 * @param forwarded RFC 7239 {@code Forwarded}
 * @param via RFC 9110 §7.6.3 {@code Via}
 */
public record ForwardedHeadersConfig(boolean xForwarded, boolean forwarded, boolean via) {
  public static final ForwardedHeadersConfig DEFAULT = new ForwardedHeadersConfig(true, false, true);
}
