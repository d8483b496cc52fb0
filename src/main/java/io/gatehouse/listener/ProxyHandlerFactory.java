package io.gatehouse.listener;

import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.relay.DownstreamHandler;

/** Creates the terminal handler (forward or reverse) of each new client connection of a listener. */
@FunctionalInterface
public interface ProxyHandlerFactory {
  DownstreamHandler create(ClientTimeouts timeouts);
}
