package io.gatehouse.upstream;

/** What health checks (and startup) say about an endpoint; admin-facing as {@code up/down/starting}. */
public enum Health {
  /** Passed its checks, or the cluster has no active checks. */
  UP,
  /** Failed its checks: never picked. */
  DOWN,
  /** Not yet checked: picked optimistically, so a fresh config serves before the first probe ends. */
  STARTING
}
