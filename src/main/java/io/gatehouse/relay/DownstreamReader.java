package io.gatehouse.relay;

/**
 * What a client side without a pipeline of its own (an HTTP/2 stream of its connection's
 * {@code listener.Http2StreamTable}, see {@link Http2StreamSide}) tells whoever reads it: the proxy
 * handler while the stream carries a request, a {@link Http2StreamTunnel} once a CONNECT made it a
 * tunnel. Called on the side's event loop.
 */
public interface DownstreamReader {
  /** A message the reader asked for ({@link Downstream#read}): a request head, a part of its body, or its end. */
  void onMessage(Object msg);

  /** An event of the side (a timeout, the drain's deadline); whether the reader took it. */
  boolean onEvent(Object evt);

  /** The side became writable or not. */
  void onWritabilityChanged();

  /** The side closed (a stream: ended or reset): what is in progress ends. */
  void onClosed();
}
