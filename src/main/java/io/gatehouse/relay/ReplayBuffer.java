package io.gatehouse.relay;

import io.netty.handler.codec.http.HttpContent;
import java.util.ArrayDeque;

/**
 * Retained copies of the request body parts sent on a reused upstream connection, so that the
 * request can be sent again on a fresh connection if the reused one turns out to have been closed
 * by the upstream while idle. Bounded: past {@code limit} bytes it lets go of everything and the
 * request is no longer replayable (large bodies stream without a copy). Event-loop confined.
 */
final class ReplayBuffer {
  private final int limit;
  private ArrayDeque<HttpContent> parts;
  private long bytes;
  private boolean overflowed;

  ReplayBuffer(int limit) {
    this.limit = limit;
  }

  /** Keeps a retained duplicate of {@code content}, unless the limit is passed. */
  void add(HttpContent content) {
    if (overflowed) {
      return;
    }
    int n = content.content().readableBytes();
    if (bytes + n > limit) {
      overflowed = true;
      release();
      return;
    }
    if (parts == null) {
      parts = new ArrayDeque<>(4);
    }
    parts.add(content.retainedDuplicate());
    bytes += n;
  }

  /** Whether every part added is still held (nothing was dropped for the limit). */
  boolean complete() {
    return !overflowed;
  }

  /** Hands the parts over (the caller writes or releases them) and starts afresh. */
  ArrayDeque<HttpContent> take() {
    ArrayDeque<HttpContent> taken = parts;
    parts = null;
    bytes = 0;
    overflowed = false;
    return taken;
  }

  /** Releases whatever is held; the buffer can be used again. */
  void release() {
    if (parts != null) {
      HttpContent part;
      while ((part = parts.poll()) != null) {
        part.release();
      }
      parts = null;
    }
    bytes = 0;
  }
}
