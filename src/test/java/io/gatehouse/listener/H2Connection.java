package io.gatehouse.listener;

import io.gatehouse.config.LimitsConfig;
import io.gatehouse.metrics.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.gatehouse.relay.Downstream;
import io.gatehouse.relay.DownstreamHandler;
import io.gatehouse.relay.Http2StreamSide;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One client connection's real HTTP/2 pipeline ({@link ClientPipeline#addHttp2}) on an embedded
 * channel, with a recording handler in place of the proxy handler: what it is handed is what would
 * go to an upstream. It answers each complete request with 200. Every buffer the pipeline allocates
 * comes from an allocator that remembers it, so a buffer not released once the connection is closed
 * is found at once, with the input that leaked it.
 */
final class H2Connection {
  /** A request as the proxy handler received it. */
  record Forwarded(int stream, HttpRequest head, long bodyBytes, boolean complete, io.netty.handler.codec.http.HttpHeaders trailers) {}

  final List<String> findings = new ArrayList<>();
  final Map<Integer, Forwarded> forwarded = new HashMap<>();
  private final List<ByteBuf> allocated = new ArrayList<>();
  private final AbstractByteBufAllocator alloc = new AbstractByteBufAllocator(false) {
    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return remember(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return remember(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
      return remember(super.compositeHeapBuffer(maxNumComponents));
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
      return remember(super.compositeDirectBuffer(maxNumComponents));
    }
  };
  private final LocalServerChannel server = new LocalServerChannel();
  private final EmbeddedChannel channel;
  private final ByteArrayOutputStream output = new ByteArrayOutputStream();

  H2Connection() {
    ListenerSettings settings = new ListenerSettings(null, LimitsConfig.DEFAULT, null, timeouts -> new Recorder(), List.of());
    ClientPipeline pipeline = new ClientPipeline(() -> settings,
        new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), new ConnectionLimiter(100, 100),
        System::nanoTime, new ConnectionErrors("h2-fuzz", new ProxyMetrics(false), System::nanoTime));
    // A server channel as parent: Netty's multiplexer takes stream 1 of a connection without one
    // for an HTTP/1.1 upgrade's.
    channel = new EmbeddedChannel(server, DefaultChannelId.newInstance(), true, false);
    channel.config().setAllocator(alloc);
    pipeline.addHttp2(channel.pipeline(), settings);
    channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        findings.add("exception reached the end of the connection's pipeline: " + cause);
      }
    });
  }

  private <T extends ByteBuf> T remember(T buf) {
    allocated.add(buf);
    return buf;
  }

  /** Writes {@code bytes} as the client, in pieces of {@code split} bytes, and runs what they cause. */
  void receive(byte[] bytes, int split) {
    for (int at = 0; at < bytes.length && channel.isOpen(); at += split) {
      ByteBuf buf = alloc.heapBuffer();
      buf.writeBytes(bytes, at, Math.min(split, bytes.length - at));
      channel.writeInbound(buf);
      channel.runPendingTasks();
      drain();
    }
  }

  boolean isOpen() {
    return channel.isOpen();
  }

  /** The frames the server sent, as (type, flags, stream, payload). */
  List<int[]> frames() {
    List<int[]> frames = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(output.toByteArray());
    while (b.remaining() >= 9) {
      int length = ((b.get() & 0xff) << 16) | ((b.get() & 0xff) << 8) | (b.get() & 0xff);
      int type = b.get() & 0xff;
      int flags = b.get() & 0xff;
      int stream = b.getInt() & 0x7fffffff;
      int first4 = length >= 4 && b.remaining() >= 4 ? b.getInt(b.position()) : -1;
      b.position(Math.min(b.limit(), b.position() + length));
      frames.add(new int[] {type, flags, stream, first4});
    }
    return frames;
  }

  /** Closes the connection and reports the buffers still referenced once it is closed. */
  void closeAndCheckBuffers() {
    channel.close();
    channel.runPendingTasks();
    drain();
    channel.finishAndReleaseAll();
    int live = 0;
    for (ByteBuf buf : allocated) {
      if (buf.refCnt() > 0) {
        live++;
        buf.release(buf.refCnt());
      }
    }
    if (live > 0) {
      findings.add(live + " buffer(s) of " + allocated.size() + " still referenced after the connection closed");
    }
  }

  private void drain() {
    Object out;
    while ((out = channel.readOutbound()) != null) {
      if (out instanceof ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        output.writeBytes(bytes);
      }
      ReferenceCountUtil.release(out);
    }
    Object in;
    while ((in = channel.readInbound()) != null) {
      ReferenceCountUtil.release(in); // the client's SETTINGS and PING frames, passed on
    }
  }

  /** In the proxy handler's place: records what it is handed and answers a complete request. */
  private final class Recorder extends DownstreamHandler {
    private Downstream side;
    private int stream;
    private HttpRequest head;
    private long bodyBytes;

    @Override
    public void start(Downstream side) {
      this.side = side;
      stream = ((Http2StreamSide) side).streamId();
      side.read();
    }

    @Override
    public void onMessage(Object msg) {
      try {
        if (msg instanceof HttpRequest request) {
          if (head != null) {
            findings.add("stream " + stream + ": a second request head " + request);
          }
          head = request;
          forwarded.put(stream, new Forwarded(stream, request, 0, false, null));
        }
        if (msg instanceof HttpContent content) {
          bodyBytes += content.content().readableBytes();
          if (head == null) {
            findings.add("stream " + stream + ": body before a request head");
          } else if (msg instanceof LastHttpContent last) {
            forwarded.put(stream, new Forwarded(stream, head, bodyBytes, true, last.trailingHeaders()));
            answer();
          } else {
            forwarded.put(stream, new Forwarded(stream, head, bodyBytes, false, null));
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
      side.read();
    }

    private void answer() {
      DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
          alloc.heapBuffer().writeByte('k'));
      HttpUtil.setContentLength(response, 1);
      side.writeAndFlush(response);
    }

    @Override
    public boolean onEvent(Object evt) {
      return false;
    }

    @Override
    public void onWritabilityChanged() {}

    @Override
    public void onClosed() {}
  }

  private static boolean isHttp2(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof io.netty.handler.codec.http2.Http2Exception) {
        return true;
      }
    }
    return false;
  }

  /** The streams the client opened with HEADERS that ended their request, minus those it reset itself. */
  static Set<Integer> endedByClient(H2Script script) {
    Set<Integer> ended = new HashSet<>();
    script.streams.forEach((id, sent) -> {
      if (sent.request != null && sent.endStream && !sent.resetByClient) {
        ended.add(id);
      }
    });
    return ended;
  }

  static final int HEADERS = 0x1;
  static final int RST_STREAM = 0x3;
  static final int GOAWAY = 0x7;
  static final String CONTENT_LENGTH = HttpHeaderNames.CONTENT_LENGTH.toString();
}
