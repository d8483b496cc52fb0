package io.gatehouse.relay;

import io.netty.handler.codec.http.HttpContent;
import java.util.ArrayDeque;

/**
 * Request body parts read from the client and not yet sent upstream: the start of a body read
 * before an upstream connection is taken, or a part that arrived between two attempts. The
 * exchange bounds it by reading no further once it holds its limit. Event-loop confined.
 */
final class PendingBody {
  private final ArrayDeque<HttpContent> parts = new ArrayDeque<>(4);
  private long bytes;

  void add(HttpContent part) {
    parts.add(part);
    bytes += part.content().readableBytes();
  }

  /** The oldest part, handed over to the caller; null when none is held. */
  HttpContent poll() {
    HttpContent part = parts.poll();
    if (part != null) {
      bytes -= part.content().readableBytes();
    }
    return part;
  }

  long bytes() {
    return bytes;
  }

  void release() {
    HttpContent part;
    while ((part = parts.poll()) != null) {
      part.release();
    }
    bytes = 0;
  }
}
