package io.gatehouse.pool;

import io.netty.channel.Channel;

/** Receives the outcome of {@link ConnectionPool#acquire}; always called on the pool's event loop. */
public interface AcquireCallback {
  /** A connected channel; {@code reused} when it served an earlier exchange (it may be stale). */
  void acquired(Channel channel, boolean reused);

  void failed(Throwable cause);
}
