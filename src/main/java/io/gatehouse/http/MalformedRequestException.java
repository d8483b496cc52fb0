package io.gatehouse.http;

/** A request the proxy refuses to interpret; its message is the reason given to the client. */
public final class MalformedRequestException extends RuntimeException {
  public MalformedRequestException(String reason) {
    super(reason, null, false, false);
  }
}
