package io.gatehouse.relay;

import io.gatehouse.http.Reason;

/** The client connection's view of an exchange: told when it ends, and asked to reply locally. */
public interface ExchangeListener {
  /** The exchange failed before any response byte reached the client: send a local reply. */
  void replyLocally(HttpExchange exchange, Reason reason, String detail);

  /** True once the connection is draining: the response then says {@code Connection: close}. */
  boolean draining();

  /**
   * The upstream switched protocols (101, already written to the client): both connections are
   * to become a byte tunnel. {@code upstream} still has its HTTP codec.
   */
  void exchangeUpgraded(HttpExchange exchange, io.netty.channel.Channel upstream);

  /** The exchange is over (response complete, aborted, or replied locally). */
  void exchangeDone(HttpExchange exchange, boolean keepClientOpen);
}
