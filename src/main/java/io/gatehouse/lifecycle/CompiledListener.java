package io.gatehouse.lifecycle;

import io.gatehouse.listener.ListenerSettings;
import io.gatehouse.relay.ConnectionContext;

/**
 * One listener's part of a generation.
 *
 * @param connection read once per accepted connection: codec limits, client timeouts and minimum
 *     rates, TLS contexts, HTTP/2 options, the proxy handler factory
 * @param requests read once per request by every open connection of the listener: body limit,
 *     request buffering, per-client request rate, tunnel idle timeout
 */
record CompiledListener(ListenerSettings connection, ConnectionContext requests) {}
