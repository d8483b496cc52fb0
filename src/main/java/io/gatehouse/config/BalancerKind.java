package io.gatehouse.config;

/** Load-balancing strategies; the YAML spelling is the lower-case name. */
public enum BalancerKind {
  ROUND_ROBIN,
  WEIGHTED,
  LEAST_REQUEST,
  P2C,
  EWMA,
  CONSISTENT_HASH;

  public String yamlName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
