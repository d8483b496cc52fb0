package io.gatehouse.relay;

import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.function.Supplier;

/**
 * The terminal handler of a client side, as a listener creates it for each: an HTTP/1 connection's
 * pipeline calls its channel-handler methods, an HTTP/2 connection's stream table calls
 * {@link #start} with the stream's {@link Downstream} and then the {@link DownstreamReader} entry
 * points. {@link ProxyConnectionHandler} is the one of the proxies.
 */
public abstract class DownstreamHandler extends ChannelInboundHandlerAdapter implements DownstreamReader {
  /** Starts serving {@code side}, a client side without a pipeline: asks for its first message. */
  public abstract void start(Downstream side);

  /** Where the side's exchanges stand, for its drain; a handler without exchanges is always idle. */
  Supplier<Downstream.Stage> stages() {
    return () -> Downstream.Stage.IDLE;
  }
}
