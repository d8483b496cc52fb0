package io.gatehouse.deploy;

/**
 * The store the deployments (or the routes' weights) are shared through cannot be reached now:
 * nothing was written. A judge keeps the last applied step and tries again; an operator's call is
 * answered 503.
 */
public class StoreDownException extends RuntimeException {
  public StoreDownException(String message) {
    super(message, null, false, false);
  }
}
