package io.gatehouse.relay;

import io.gatehouse.http.ClientAddress;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * A plain HTTP/1 keep-alive client connection on its way to a successor process at a hand-off: from
 * its slot in the drain it keeps alive (no {@code Connection: close}), and the first time it is idle
 * with nothing of a next request read, it takes itself off the event loop ({@link #readyToMove}).
 * The hand-off's thread then sends its socket; the client never sees a close, and its next request
 * is read by the successor. The socket carries no HTTP state between two requests: the successor
 * builds the listener's HTTP/1 pipeline on it and reads on. A connection that does not move
 * ({@link #stayHere}) drains as without a successor.
 */
public final class ConnectionHandover {
  private final Channel channel;
  private final Handover handover;
  private final String listener;
  private final ClientAddress client;

  private ConnectionHandover(Channel channel, Handover handover, String listener, ClientAddress client) {
    this.channel = channel;
    this.handover = handover;
    this.listener = listener;
    this.client = client;
  }

  /**
   * The hand-off of {@code ch} if it is an HTTP/1 connection that took itself off its event loop
   * between two requests, so that its socket can be sent now; else null. Any thread.
   */
  public static ConnectionHandover readyToMove(Channel ch) {
    ProxyConnectionHandler handler = ProxyConnectionHandler.started(ch);
    if (handler == null || !handler.handover().readyToMove()) {
      return null;
    }
    // Written on the loop before readyToMove (volatile) was set: visible here.
    return new ConnectionHandover(ch, handler.handover(), handler.context.listenerName(), ClientAddress.of(ch));
  }

  public Channel channel() {
    return channel;
  }

  /** The listener that accepted it: the successor serves it with its listener of that name. */
  public String listener() {
    return listener;
  }

  /** Its client, when a PROXY protocol header said who that is (the socket cannot tell the successor); else null. */
  public ClientAddress proxiedClient() {
    return client.fromProxyHeader() ? client : null;
  }

  /** It stays in this process and drains as without a successor. */
  public void stayHere() {
    channel.eventLoop().execute(handover::stayHere);
  }

  /** The successor holds the socket: this process's copy closes. Completes once it is closed. */
  public Future<?> movedAway() {
    return handover.movedAway();
  }
}
