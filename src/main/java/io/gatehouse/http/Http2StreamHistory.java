package io.gatehouse.http;

import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * What one HTTP/2 connection remembers of its client's streams after Netty has forgotten them:
 * which identifiers were opened and which streams ended with a RST_STREAM either way (noted by
 * {@link Http2FrameChecks}), so that a frame on an
 * unknown stream can be told apart (RFC 9113 §5.1, §5.1.1). Confined to the connection's event
 * loop, so the fields are plain.
 *
 * <p>Memory is bounded. Opened identifiers are kept as runs of consecutive client identifiers (a
 * client that opens 1, 3, 5, ... needs one run); past {@value #MAX_RUNS} runs the two oldest merge,
 * so a hostile client that skips identifiers at most turns a PROTOCOL_ERROR into STREAM_CLOSED, both
 * connection errors. Resets are kept for the last {@value #RESETS} streams; a late frame on an older one is a
 * connection error, which only a client that keeps sending long after a reset meets.
 */
final class Http2StreamHistory extends Http2ConnectionAdapter {
  static final int MAX_RUNS = 64;
  static final int RESETS = 128;

  /** Runs {@code [runStart[i], runEnd[i]]} of opened odd identifiers, oldest first. */
  private final int[] runStart = new int[MAX_RUNS];
  private final int[] runEnd = new int[MAX_RUNS];
  private int runs;
  private final int[] resets = new int[RESETS];
  private int nextReset;
  private int resetsKept;

  @Override
  public void onStreamAdded(Http2Stream stream) {
    int id = stream.id();
    if ((id & 1) == 0) {
      return; // server-initiated: this proxy never pushes
    }
    if (runs > 0 && runEnd[runs - 1] + 2 == id) {
      runEnd[runs - 1] = id;
      return;
    }
    if (runs == MAX_RUNS) {
      runEnd[0] = runEnd[1];
      System.arraycopy(runStart, 2, runStart, 1, MAX_RUNS - 2);
      System.arraycopy(runEnd, 2, runEnd, 1, MAX_RUNS - 2);
      runs--;
    }
    runStart[runs] = id;
    runEnd[runs] = id;
    runs++;
  }

  boolean wasOpened(int id) {
    for (int i = runs - 1; i >= 0; i--) {
      if (id >= runStart[i] && id <= runEnd[i]) {
        return true;
      }
    }
    return false;
  }

  boolean wasReset(int id) {
    for (int i = 0; i < resetsKept; i++) {
      if (resets[i] == id) {
        return true;
      }
    }
    return false;
  }

  void rememberReset(int id) {
    resets[nextReset] = id;
    nextReset = (nextReset + 1) % RESETS;
    resetsKept = Math.min(resetsKept + 1, RESETS);
  }
}
