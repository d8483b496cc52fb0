package io.gatehouse.listener;

import io.gatehouse.http.ClientTimeoutHandler;
import io.netty.channel.ChannelHandler;

/** Creates the terminal handler (forward or reverse) of each new client connection of a listener. */
@FunctionalInterface
public interface ProxyHandlerFactory {
  ChannelHandler create(ClientTimeoutHandler timeouts);
}
