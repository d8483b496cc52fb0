package io.gatehouse.relay;

import io.gatehouse.http.BodyPosition;
import io.gatehouse.http.ClientAddress;
import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.ServerCodec;
import io.gatehouse.http.UpstreamCodec;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * A response in flight (a long download, a server-sent event stream) on a plain HTTP/1 connection
 * that is being handed over to a successor process: instead of waiting for it to end, or cutting it
 * at the drain deadline, the old process moves it, client socket and upstream socket together, at
 * a point between two framing elements. {@link #freeze} stops the upstream's reading, takes both
 * channels off the event loop and describes where the response stands ({@link Frozen}): the
 * client's body framing (chunked or as it comes), the upstream body's place between two framing
 * elements ({@link BodyPosition}), the access-log record so far, and what the client has not taken
 * yet of what was read. The successor writes that first and reads on from there ({@link
 * ResumedResponse}) and, after the last byte, serves the connection's next requests. A freeze that
 * does not hold (the upstream's framing stopped mid-line, a next request was read) {@link #thaw}s:
 * the response goes on here, to be tried again later.
 */
public final class ResponseHandover implements ResponseMove {
  /**
   * What a successor needs to carry a response on.
   *
   * @param record the access-log record so far (bytes and time up to the freeze)
   * @param keepAlive whether the client connection stays open after the response
   * @param clientChunked whether the client's body is chunked by the proxy (else it goes as it comes)
   * @param upstreamBody where the upstream's body stands
   * @param idleNanos the listener's idle timeout: a client that takes nothing that long is cut
   * @param unsent bytes of the response (as framed to the client) this process had not written to
   *     the socket yet, which the successor writes first; null when there are none
   */
  public record Frozen(ExchangeRecord record, String listener, ClientAddress proxiedClient, boolean keepAlive,
      boolean clientChunked, BodyPosition upstreamBody, long idleNanos, byte[] unsent) {}

  private final Channel client;
  private final ProxyConnectionHandler handler;
  private final Handover handover;
  private HttpExchange exchange;
  private Channel upstream;

  ResponseHandover(Channel client, ProxyConnectionHandler handler, Handover handover) {
    this.client = client;
    this.handler = handler;
    this.handover = handover;
  }

  @Override
  public Channel client() {
    return client;
  }

  @Override
  public Channel upstream() {
    return upstream;
  }

  /**
   * Freezes the response in flight; completes with its description once both sockets are off the
   * event loop, or with null when there is none to move now (no response in flight, or one that
   * cannot move: see the class comment), in which case it goes on here.
   */
  @Override
  public Future<Frozen> freeze() {
    EventLoop loop = client.eventLoop();
    Promise<Frozen> frozen = loop.newPromise();
    loop.execute(() -> {
      HttpExchange ex = handler.respondingExchange();
      Channel up = ex == null ? null : ex.respondingUpstream();
      if (up == null || !movable(up) || !handover.nothingRead() || !handover.freezeResponse()) {
        frozen.setSuccess(null);
        return;
      }
      exchange = ex;
      upstream = up;
      ResponseFreeze.freeze(client, up,
          () -> exchange.respondingUpstream() == upstream && handover.nothingRead(), exchange::responseBodyBytes,
          this::describe, this::thaw, frozen);
    });
    return frozen;
  }

  /** Both legs are plain epoll sockets, the upstream one speaks HTTP/1, and the client's body is framed here. */
  private boolean movable(Channel up) {
    return SpliceCounter.plainSockets(client, up) && up.pipeline().get(UpstreamCodec.class) != null
        && client.pipeline().get(PipelineNames.HTTP_CODEC) instanceof ServerCodec codec
        && codec.responseBodyChunked() != null;
  }

  private Frozen describe(BodyPosition at, byte[] unsent) {
    ClientAddress address = ClientAddress.of(client);
    ServerCodec codec = (ServerCodec) client.pipeline().get(PipelineNames.HTTP_CODEC);
    return new Frozen(handler.recordSoFar(exchange), handler.context.listenerName(),
        address.fromProxyHeader() ? address : null, exchange.clientKeepAlive(), codec.responseBodyChunked(), at,
        handler.context.tunnelIdleNanos(), unsent);
  }

  @Override
  public void thaw() {
    client.eventLoop().execute(() -> {
      if (upstream == null) {
        return;
      }
      ResponseFreeze.thaw(client, upstream, () -> {
        handover.responseThawed();
        if (exchange.respondingUpstream() == upstream && upstream.isRegistered()) {
          upstream.config().setAutoRead(client.isWritable()); // (else it ended: the connection is another's now)
        }
      });
    });
  }

  /**
   * The successor holds both sockets: this process forgets the exchange (no access-log line of its
   * own: the successor writes the response's one line) and closes its copies, which sends nothing.
   */
  @Override
  public Future<?> movedAway() {
    EventLoop loop = client.eventLoop();
    Promise<Void> closed = loop.newPromise();
    loop.execute(() -> {
      handover.responseMovedAway();
      handler.responseMovedAway(exchange);
      ResponseFreeze.close(client, upstream, closed);
    });
    return closed;
  }
}
