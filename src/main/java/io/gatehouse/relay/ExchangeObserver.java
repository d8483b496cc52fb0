package io.gatehouse.relay;

/** Told of every finished exchange: the access log and metrics. Must not block (event loop). */
public interface ExchangeObserver {
  void exchangeFinished(ExchangeRecord record);

  /**
   * Whether records need the request's Referer and User-Agent (only the access log prints them):
   * without it they are not read, two header scans and two strings less per request.
   */
  default boolean needsRefererAndUserAgent() {
    return true;
  }

  /** A local reply was sent with {@code reason} (counted per reason). */
  default void localReply(io.gatehouse.http.Reason reason) {}

  ExchangeObserver NONE = new ExchangeObserver() {
    @Override
    public void exchangeFinished(ExchangeRecord record) {}

    @Override
    public boolean needsRefererAndUserAgent() {
      return false;
    }
  };
}
