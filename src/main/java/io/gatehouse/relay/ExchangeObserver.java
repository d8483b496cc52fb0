package io.gatehouse.relay;

/** Told of every finished exchange: the access log and metrics. Must not block (event loop). */
public interface ExchangeObserver {
  void exchangeFinished(ExchangeRecord record);

  /** A local reply was sent with {@code reason} (counted per reason). */
  default void localReply(io.gatehouse.http.Reason reason) {}

  ExchangeObserver NONE = record -> {};
}
