package io.gatehouse.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.LimitsConfig;
import io.gatehouse.metrics.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.gatehouse.relay.Downstream;
import io.gatehouse.relay.DownstreamHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The responses of several streams of one HTTP/2 connection, finished outside a read of that
 * connection (they come from the upstream connections' reads), leave in one flush: one TLS record
 * and one write(2) for all, not one per stream.
 */
class Http2FlushTest {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  @Test
  void responses_of_streams_finished_in_one_turn_share_one_flush() {
    List<Downstream> streams = new ArrayList<>();
    ProxyHandlerFactory answerLater = timeouts -> new DownstreamHandler() {
      private Downstream side;

      @Override
      public void start(Downstream side) {
        this.side = side;
        side.read();
      }

      @Override
      public void onMessage(Object msg) {
        if (msg instanceof HttpRequest) {
          streams.add(side);
        }
        ReferenceCountUtil.release(msg);
      }

      @Override
      public boolean onEvent(Object evt) {
        return false;
      }

      @Override
      public void onWritabilityChanged() {}

      @Override
      public void onClosed() {}
    };
    ListenerSettings settings = new ListenerSettings(null, LimitsConfig.DEFAULT, null, answerLater, List.of());
    ClientPipeline pipeline = new ClientPipeline(() -> settings,
        new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), new ConnectionLimiter(100, 100),
        System::nanoTime, new ConnectionErrors("h2", new ProxyMetrics(false), System::nanoTime));
    AtomicLong flushes = new AtomicLong();
    EmbeddedChannel connection = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
      @Override
      public void flush(ChannelHandlerContext ctx) {
        flushes.incrementAndGet();
        ctx.flush();
      }
    });
    pipeline.addHttp2(connection.pipeline(), settings);

    // Streams 3 and 5: Netty's multiplexer takes a connection without a server parent channel (this
    // embedded one) for a client's, and stream 1 for an HTTP/1.1 upgrade's.
    connection.writeInbound(Unpooled.wrappedBuffer(PREFACE, frame(0x4, 0, 0, new byte[0]),
        frame(0x1, 0x5, 3, get("/a")), frame(0x1, 0x5, 5, get("/b"))));
    connection.runPendingTasks();
    assertThat(streams).hasSize(2);
    assertThat((Object) connection.readInbound()).isInstanceOf(Http2SettingsFrame.class); // the client's, passed on
    releaseOutbound(connection);

    flushes.set(0);
    // As the upstream connections' reads deliver each response, outside a read of this connection.
    // (All writes first: an embedded channel runs its pending tasks at every write.)
    for (Downstream stream : streams) {
      DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
          Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
      response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 2);
      stream.write(response);
    }
    streams.forEach(Downstream::flush);
    connection.runPendingTasks();

    assertThat(flushes).hasValue(1);
    assertThat(releaseOutbound(connection)).isGreaterThan(2 * (9 + 2)); // both streams' frames went out
    connection.close(); // sends GOAWAY
    releaseOutbound(connection);
    assertThat(connection.finishAndReleaseAll()).isFalse();
  }

  private static int releaseOutbound(EmbeddedChannel connection) {
    int bytes = 0;
    Object out;
    while ((out = connection.readOutbound()) != null) {
      bytes += ((ByteBuf) out).readableBytes();
      ReferenceCountUtil.release(out);
    }
    return bytes;
  }

  /** A GET's header block, HPACK literals without indexing (RFC 7541 §6.2.2). */
  private static byte[] get(String path) {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    String[][] fields = {{":method", "GET"}, {":scheme", "https"}, {":path", path}, {":authority", "localhost"}};
    for (String[] field : fields) {
      block.write(0);
      for (String s : field) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        block.write(bytes.length);
        block.writeBytes(bytes);
      }
    }
    return block.toByteArray();
  }

  /** A frame as RFC 9113 §4.1 lays it out. */
  private static byte[] frame(int type, int flags, int streamId, byte[] payload) {
    ByteBuffer frame = ByteBuffer.allocate(9 + payload.length);
    frame.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
    frame.put((byte) type).put((byte) flags).putInt(streamId).put(payload);
    return frame.array();
  }
}
