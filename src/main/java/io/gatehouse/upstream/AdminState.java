package io.gatehouse.upstream;

/** What an operator asked for; independent of {@link Health}. */
public enum AdminState {
  /** Takes new requests. */
  ACTIVE,
  /** No new requests; in-flight ones finish and idle pooled connections close. */
  DRAINING,
  /** No requests at all. */
  DISABLED
}
