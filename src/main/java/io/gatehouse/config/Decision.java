package io.gatehouse.config;

/** The verdict of an access rule. */
public enum Decision {
  ALLOW,
  DENY
}
