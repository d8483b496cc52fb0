package io.gatehouse.pool;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.SocketAddress;

/**
 * Where an exchange's upstream channel comes from, for one peer on one event loop: a whole HTTP/1.1
 * connection ({@link ConnectionPool}) or a stream of a shared HTTP/2 connection
 * ({@link Http2ConnectionPool}). Either way the relay gets a {@link Channel} whose pipeline ends in
 * the upstream handler and speaks HTTP/1 messages, so it has one code path for both. Every method
 * runs on {@link #eventLoop()}.
 */
public interface UpstreamPool {
  EventLoop eventLoop();

  SocketAddress remote();

  /**
   * Hands out a channel for one exchange: an idle connection, a new one, or a new stream;
   * {@code allowReuse=false} asks for a new connection (the replay of a request whose reused one
   * turned out dead).
   */
  void acquire(AcquireCallback callback, boolean allowReuse);

  /** The exchange on {@code ch} ended cleanly: the connection may serve another one. */
  void release(Channel ch);

  /** The exchange on {@code ch} did not end cleanly: never reused. */
  void discard(Channel ch);

  /** Closes connections that carry no exchange now (drain); busy ones close when their exchanges end. */
  void closeIdle();

  /** Stops handing out channels: closes idle connections and fails waiting callers. */
  void close();

  /** Connections open or being opened on this loop. */
  int openConnections();

  /**
   * Registers the registry's "forget me", run on this loop once the pool has had no connection and
   * no waiting caller for its idle time ({@link PoolRegistry}).
   */
  void whenUnused(Runnable forget);
}
