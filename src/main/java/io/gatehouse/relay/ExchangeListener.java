package io.gatehouse.relay;

import io.gatehouse.http.Reason;

/** The client connection's view of an exchange: told when it ends, and asked to reply locally. */
public interface ExchangeListener {
  /** The exchange failed before any response byte reached the client: send a local reply. */
  void replyLocally(HttpExchange exchange, Reason reason, String detail);

  /** True once the connection is draining: the response then says {@code Connection: close}. */
  boolean draining();

  /** The exchange is over (response complete, aborted, or replied locally). */
  void exchangeDone(HttpExchange exchange, boolean keepClientOpen);
}
