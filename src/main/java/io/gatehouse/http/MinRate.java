package io.gatehouse.http;

/**
 * A minimum transfer rate, judged over windows of <em>waiting</em> time: only the time one side
 * waits on the client counts (a read asked for and not answered; a response that cannot be
 * written), never the time the proxy itself holds back. Each window must move {@code
 * bytesPerSecond x window} bytes; a window that does starts the next one. This is Apache
 * mod_reqtimeout's {@code MinRate} and nginx's {@code send_timeout} turned into one rule: a client
 * trickling a byte now and then (R.U.D.Y., slow read) keeps no timeout from firing, but falls
 * short of any rate.
 *
 * <p>Plain fields: owned by one connection's handler, on its event loop.
 */
final class MinRate {
  private static final long NOT_WAITING = Long.MIN_VALUE;

  private final long bytesPerSecond;
  private final long windowNanos;
  /** Waiting time of the current window, the ongoing wait not included. */
  private long waited;
  private long waitingSince = NOT_WAITING;
  private long bytes;

  /** @param bytesPerSecond 0 = no minimum (never too slow) */
  MinRate(long bytesPerSecond, long windowNanos) {
    this.bytesPerSecond = bytesPerSecond;
    this.windowNanos = windowNanos;
  }

  /** Starts a fresh window, not waiting. */
  void reset() {
    waited = 0;
    bytes = 0;
    waitingSince = NOT_WAITING;
  }

  void startWaiting(long now) {
    if (waitingSince == NOT_WAITING) {
      waitingSince = now;
    }
  }

  void stopWaiting(long now) {
    if (waitingSince != NOT_WAITING) {
      waited += now - waitingSince;
      waitingSince = NOT_WAITING;
    }
  }

  void moved(long count) {
    bytes += count;
  }

  /** When the current window fills if the wait goes on; {@code Long.MAX_VALUE} when nothing is timed. */
  long windowEnd() {
    return bytesPerSecond <= 0 || waitingSince == NOT_WAITING
        ? Long.MAX_VALUE : waitingSince + (windowNanos - waited);
  }

  /**
   * Whether a full window of waiting moved fewer bytes than the rate asks for. A full window that
   * did not is closed and the next one begins; before the window is full, never too slow.
   */
  boolean tooSlow(long now) {
    if (bytesPerSecond <= 0) {
      return false;
    }
    long total = waited + (waitingSince == NOT_WAITING ? 0 : now - waitingSince);
    if (total < windowNanos) {
      return false;
    }
    if ((double) bytes * 1e9 < (double) bytesPerSecond * total) {
      return true;
    }
    waited = 0;
    bytes = 0;
    if (waitingSince != NOT_WAITING) {
      waitingSince = now;
    }
    return false;
  }
}
