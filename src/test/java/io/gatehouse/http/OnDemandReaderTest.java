package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OnDemandReaderTest {
  /** Counts reads that reach the socket side. */
  private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
    final AtomicInteger reads = new AtomicInteger();

    @Override
    public void read(ChannelHandlerContext ctx) {
      reads.incrementAndGet();
      ctx.read();
    }
  }

  @Test
  void deliversOneMessagePerReadAndQueuesTheRest() {
    OnDemandReader reader = new OnDemandReader();
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAutoRead(false);
    ch.pipeline().addLast(reader);
    ch.pipeline().read();
    ch.pipeline().fireChannelRead("one").fireChannelRead("two").fireChannelRead("three");
    assertThat((Object) ch.readInbound()).isEqualTo("one");
    assertThat((Object) ch.readInbound()).isNull();
    assertThat(reader.queued()).isEqualTo(2);
    ch.pipeline().read();
    assertThat((Object) ch.readInbound()).isEqualTo("two");
    ch.pipeline().read();
    assertThat((Object) ch.readInbound()).isEqualTo("three");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  /** The Netty 4.2 FlowControlHandler forgets the demand here; a split request head then stalls. */
  @Test
  void aReadCompleteWithoutMessageKeepsTheDemandAndReadsAgain() {
    ReadCounter counter = new ReadCounter();
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAutoRead(false);
    ch.pipeline().addLast(counter, new OnDemandReader());
    ch.pipeline().read();
    int before = counter.reads.get();
    ch.pipeline().fireChannelReadComplete(); // e.g. half a request head: nothing decoded yet
    assertThat(counter.reads.get()).isGreaterThan(before);
    ch.pipeline().fireChannelRead("request");
    assertThat((Object) ch.readInbound()).isEqualTo("request");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void releasesQueuedMessagesWhenTheChannelCloses() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAutoRead(false);
    ch.pipeline().addLast(new OnDemandReader());
    io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.buffer(4).writeInt(1);
    ch.pipeline().fireChannelRead(buf);
    assertThat(buf.refCnt()).isEqualTo(1);
    ch.close();
    assertThat(buf.refCnt()).isZero();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  /** A half-close after pipelined requests reaches the handler only after all of them (RFC 9112 §9.6). */
  @Test
  void endOfInputWaitsBehindTheMessagesDecodedBeforeIt() {
    java.util.List<Object> seen = new java.util.ArrayList<>();
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAutoRead(false);
    ch.pipeline().addLast(new OnDemandReader(), new io.netty.channel.ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        seen.add(msg);
      }

      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        seen.add(evt);
      }
    });
    ch.pipeline().read();
    ch.pipeline().fireChannelRead("one").fireChannelRead("two")
        .fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
    assertThat(seen).containsExactly("one");
    ch.pipeline().read();
    assertThat(seen).containsExactly("one", "two");
    ch.pipeline().read();
    assertThat(seen).containsExactly("one", "two", io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }
}
