package io.gatehouse.pool;

/** The pool is at its connection limit and its queue of waiting requests is full. */
public final class PoolOverloadedException extends Exception {
  public PoolOverloadedException(String message) {
    super(message, null, false, false);
  }
}
