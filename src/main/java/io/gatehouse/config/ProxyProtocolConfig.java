package io.gatehouse.config;

import java.util.List;

/**
 * A listener's PROXY protocol (v1 text or v2 binary, HAProxy's spec): connections from
 * {@code trustedFrom} must open with a PROXY header, whose source address then stands for the
 * client; connections from anywhere else are plain HTTP (a header from them is refused as such).
 *
 * @param trustedFrom CIDR blocks or single addresses of the balancers, validated, never empty
 */
public record ProxyProtocolConfig(List<String> trustedFrom) {
  public ProxyProtocolConfig {
    trustedFrom = List.copyOf(trustedFrom);
  }
}
