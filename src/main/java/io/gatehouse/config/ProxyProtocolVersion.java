package io.gatehouse.config;

/**
 * Which PROXY protocol header a cluster's connections open with (HAProxy's spec, section 2.1 for
 * the text form, 2.2 for the binary form); the YAML spelling is the lower-case name.
 */
public enum ProxyProtocolVersion {
  V1,
  V2
}
