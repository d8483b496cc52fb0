package io.gatehouse.forward;

import io.gatehouse.config.HostPort;
import io.gatehouse.http.Reason;
import io.gatehouse.pool.AcquireCallback;
import io.gatehouse.pool.ConnectFailures;
import io.gatehouse.pool.UpstreamPool;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.UpstreamConnector;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Connects an exchange to an origin whose addresses were resolved (and checked) beforehand: attempt
 * {@code n} uses the n-th address, so every address is tried before the request fails with 502.
 * Pools are keyed by the resolved address, so the proxy connects exactly where the access check
 * looked (no second DNS answer can slip in between) and keep-alive connections are shared by every
 * host name served from that address. Called on the client's event loop only.
 */
final class OriginConnector implements UpstreamConnector {
  private final EventLoop loop;
  private final UpstreamPools pools;
  private final List<InetSocketAddress> addresses;
  private final ForwardSettings settings;
  private UpstreamPool pool;
  private int index = -1;
  private String label = "-";

  OriginConnector(EventLoop loop, UpstreamPools pools, List<InetSocketAddress> addresses, ForwardSettings settings) {
    this.loop = loop;
    this.pools = pools;
    this.addresses = addresses;
    this.settings = settings;
  }

  @Override
  public void connect(int attempt, boolean fresh, ConnectCallback callback) {
    index = Math.min(attempt, addresses.size() - 1);
    InetSocketAddress address = addresses.get(index);
    HostPort key = new HostPort(address.getAddress().getHostAddress(), address.getPort());
    label = key.toString();
    pool = pools.get(loop, settings.originPeer(key));
    pool.acquire(new AcquireCallback() {
      @Override
      public void acquired(Channel channel, boolean reused) {
        callback.connected(channel, reused);
      }

      @Override
      public void failed(Throwable cause) {
        callback.failed(ConnectFailures.reason(cause), cause);
      }
    }, !fresh);
  }


  /**
   * Only failures to connect move on to the next address: a reset after the request was sent may
   * have been acted on by the origin, and the relay already replays stale pooled connections.
   */
  @Override
  public boolean mayRetry(int attempt, Reason failure) {
    return (failure == Reason.UPSTREAM_CONNECT_FAILED || failure == Reason.UPSTREAM_TIMEOUT)
        && attempt + 1 < addresses.size();
  }

  @Override
  public void finish(Channel upstream, boolean reusable, Reason failure, int status) {
    if (upstream != null && pool != null) {
      if (reusable) {
        pool.release(upstream);
      } else {
        pool.discard(upstream);
      }
    }
  }

  @Override
  public String upstreamLabel() {
    return label;
  }
}
