package io.gatehouse.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The timer logic of {@link Http2ConnectionTimeouts} on the event loop's own clock
 * (EmbeddedChannel, time frozen and moved by hand), over a real {@link DefaultHttp2Connection}
 * whose streams the test opens and closes. The end-to-end cases (real TLS clients, real frames)
 * are in {@code Http2AbuseTest}; here each deadline is checked to the millisecond, including a
 * timer that fires for a deadline that has moved since it was armed.
 */
class Http2ConnectionTimeoutsTest {
  private static final long TIMEOUT_MS = 2000;
  private final DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
  private EmbeddedChannel channel;
  private int nextStream = 1;

  @BeforeEach
  void start() {
    channel = new EmbeddedChannel();
    channel.freezeTime();
    channel.pipeline().addLast(new Http2ConnectionTimeouts(connection, TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS)));
  }

  private void advance(long millis) {
    channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
  }

  private Http2Stream open() throws Exception {
    Http2Stream stream = connection.remote().createStream(nextStream, false);
    nextStream += 2;
    return stream;
  }

  @Test
  void aConnectionThatNeverOpensAStreamGetsGoAwayAtTheTimeout() {
    advance(TIMEOUT_MS - 1);
    assertThat(channel.isOpen()).isTrue();
    assertThat((Object) channel.readOutbound()).isNull();
    advance(1);
    Http2GoAwayFrame goAway = channel.readOutbound();
    assertThat(goAway.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
    goAway.release();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void theIdleTimeCountsFromTheLastStreamsEndNotFromWhenTheTimerWasArmed() throws Exception {
    advance(1500);
    Http2Stream first = open(); // the timer armed at the start still fires at 2000
    advance(1000);
    assertThat(channel.isOpen()).as("a stream is open at 2500").isTrue();
    first.close(); // idle from 2500
    advance(TIMEOUT_MS - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(channel.isOpen()).isFalse();
    releaseOutbound();
  }

  @Test
  void aStreamOpenedAndClosedAgainMovesTheDeadlineOn() throws Exception {
    open().close(); // idle from 0
    advance(1200);
    open().close(); // idle from 1200: the timer armed for 2000 must re-arm for 3200
    advance(1999);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(channel.isOpen()).isFalse();
    releaseOutbound();
  }

  @Test
  void anOpenStreamKeepsTheConnectionHoweverLong() throws Exception {
    Http2Stream stream = open();
    advance(10 * TIMEOUT_MS);
    assertThat(channel.isOpen()).isTrue();
    stream.close();
    advance(TIMEOUT_MS);
    assertThat(channel.isOpen()).isFalse();
    releaseOutbound();
  }

  @Test
  void aConnectionThatStaysUnwritableIsResetWithoutGoAway() throws Exception {
    open(); // not idle: only the stall rule applies
    advance(500);
    stall();
    advance(TIMEOUT_MS - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(channel.isOpen()).isFalse();
    assertThat((Object) channel.readOutbound()).as("nothing more is written to a client that reads nothing").isNull();
  }

  @Test
  void writabilityBackInTimeEndsTheStall() throws Exception {
    open();
    stall();
    advance(1500);
    channel.flush(); // the client took it: writable again
    assertThat(channel.isWritable()).isTrue();
    advance(1000); // past the first stall's deadline
    assertThat(channel.isOpen()).isTrue();
    stall(); // a new stall counts from now
    advance(TIMEOUT_MS - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(channel.isOpen()).isFalse();
  }

  /** More than the high-water mark queued and not flushed: the channel turns unwritable. */
  private void stall() {
    channel.write(Unpooled.wrappedBuffer(new byte[128 * 1024]));
    assertThat(channel.isWritable()).isFalse();
  }

  private void releaseOutbound() {
    for (Object message; (message = channel.readOutbound()) != null; ) {
      io.netty.util.ReferenceCountUtil.release(message);
    }
  }
}
