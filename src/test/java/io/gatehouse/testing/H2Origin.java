package io.gatehouse.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/2 origin on loopback (Netty's frame codec and multiplexer, as a gRPC or Jetty server
 * would speak it): cleartext with prior knowledge, or TLS with ALPN {@code h2} only. It records every
 * request (pseudo-headers and fields, body, the connection it came on) and answers by path:
 *
 * <ul>
 *   <li>{@code /trailers}: 200 {@code application/grpc}, a body, then trailers {@code grpc-status: 0};
 *   <li>{@code /trailers-only}: one HEADERS with END_STREAM ({@code grpc-status: 5});
 *   <li>{@code /big/N}: N bytes of body in DATA frames of 16 KiB;
 *   <li>{@code /refuse-once}: the first such request gets RST_STREAM REFUSED_STREAM, later ones 200;
 *   <li>{@code /reset}: RST_STREAM INTERNAL_ERROR;
 *   <li>{@code /goaway}: 200, then GOAWAY (NO_ERROR) on the connection;
 *   <li>{@code /lying-length}, {@code /lying-length-data}: {@code content-length: 5}, then the stream ends
 *       with no body (with the HEADERS, or with an empty DATA);
 *   <li>{@code /slow/MS}: 200 after MS milliseconds;
 *   <li>anything else: 200 whose body is the request body, or {@code origin PATH} when it had none.
 * </ul>
 */
public final class H2Origin implements AutoCloseable {
  /** A request as the origin read it. */
  public record Request(Map<String, String> headers, byte[] body, int connection) {
    public String get(String name) {
      return headers.get(name);
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger openConnections = new AtomicInteger();
  private final AtomicInteger refusals = new AtomicInteger();
  private final AtomicInteger maxOpenStreams = new AtomicInteger();
  private final AtomicInteger openStreams = new AtomicInteger();
  private final List<Channel> accepted = new CopyOnWriteArrayList<>();

  private H2Origin(SslContext tls, long maxConcurrentStreams) throws InterruptedException {
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            int id = connections.incrementAndGet();
            openConnections.incrementAndGet();
            accepted.add(ch);
            ch.closeFuture().addListener(f -> openConnections.decrementAndGet());
            if (tls != null) {
              ch.pipeline().addLast(tls.newHandler(ch.alloc()));
            }
            Http2Settings settings = Http2Settings.defaultSettings();
            if (maxConcurrentStreams > 0) {
              settings.maxConcurrentStreams(maxConcurrentStreams);
            }
            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).build(),
                new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel stream) {
                    stream.pipeline().addLast(new StreamHandler(id));
                  }
                }));
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  /** Cleartext HTTP/2 with prior knowledge. */
  public static H2Origin start() throws InterruptedException {
    return new H2Origin(null, 0);
  }

  /** Cleartext, announcing {@code SETTINGS_MAX_CONCURRENT_STREAMS}. */
  public static H2Origin start(long maxConcurrentStreams) throws InterruptedException {
    return new H2Origin(null, maxConcurrentStreams);
  }

  /** TLS with ALPN offering {@code h2} only. */
  public static H2Origin startTls(TestCerts certs) throws Exception {
    return startTls(certs, ApplicationProtocolNames.HTTP_2);
  }

  /**
   * TLS with ALPN offering {@code protocols} (a server that answers a client offering only
   * {@code h2} with {@code http/1.1} is one that does not speak HTTP/2 over TLS).
   */
  public static H2Origin startTls(TestCerts certs, String... protocols) throws Exception {
    SslContext tls = SslContextBuilder.forServer(certs.certificate().toFile(), certs.privateKey().toFile())
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.CHOOSE_MY_LAST_PROTOCOL,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols))
        .build();
    return new H2Origin(tls, 0);
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  public String address() {
    return "127.0.0.1:" + port();
  }

  public List<Request> requests() {
    return requests;
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** Connections open now. */
  public int openConnections() {
    return openConnections.get();
  }

  /** The most streams that were open at once on all connections. */
  public int maxOpenStreams() {
    return maxOpenStreams.get();
  }

  /**
   * The connections open now stop reading, without closing: to the proxy the peer is gone silently
   * (a host that died, a middlebox that dropped the flow). Nothing is acknowledged any more, PINGs
   * included. Connections accepted later are served as usual.
   */
  public void freezeOpenConnections() {
    for (Channel ch : accepted) {
      ch.eventLoop().submit(() -> ch.config().setAutoRead(false)).awaitUninterruptibly();
    }
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** One stream: collects the request, then answers by path. */
  private final class StreamHandler extends ChannelInboundHandlerAdapter {
    private final int connection;
    private final Map<String, String> headers = new TreeMap<>();
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    StreamHandler(int connection) {
      this.connection = connection;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      maxOpenStreams.accumulateAndGet(openStreams.incrementAndGet(), Math::max);
      ctx.channel().closeFuture().addListener(f -> openStreams.decrementAndGet());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        boolean end;
        if (msg instanceof Http2HeadersFrame frame) {
          frame.headers().forEach(e -> headers.merge(e.getKey().toString(), e.getValue().toString(), (a, b) -> a + ", " + b));
          end = frame.isEndStream();
        } else if (msg instanceof Http2DataFrame data) {
          ByteBuf content = data.content();
          byte[] bytes = new byte[content.readableBytes()];
          content.readBytes(bytes);
          body.writeBytes(bytes);
          end = data.isEndStream();
        } else {
          return;
        }
        if (end) {
          requests.add(new Request(Map.copyOf(headers), body.toByteArray(), connection));
          answer(ctx, headers.getOrDefault(":path", "/"));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void answer(ChannelHandlerContext ctx, String path) {
      if (path.equals("/refuse-once") && refusals.getAndIncrement() == 0) {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
        return;
      }
      if (path.equals("/reset")) {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
        return;
      }
      if (path.startsWith("/slow/")) {
        long ms = Long.parseLong(path.substring(6));
        ctx.executor().schedule(() -> plain(ctx, "slow " + ms), ms, TimeUnit.MILLISECONDS);
        return;
      }
      if (path.equals("/trailers")) {
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-type", "application/grpc")));
        ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("payload", StandardCharsets.UTF_8)));
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(
            new DefaultHttp2Headers().add("grpc-status", "0").add("grpc-message", "ok"), true));
        return;
      }
      if (path.equals("/lying-length")) { // a body of 5 announced, the stream ended with the HEADERS
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-length", "5"), true));
        return;
      }
      if (path.equals("/lying-length-data")) { // a body of 5 announced, then an empty last DATA
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-length", "5")));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        return;
      }
      if (path.equals("/trailers-only")) {
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
            .add("content-type", "application/grpc").add("grpc-status", "5").add("grpc-message", "not found"), true));
        return;
      }
      if (path.startsWith("/big/")) {
        int n = Integer.parseInt(path.substring(5));
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
            .add("content-length", Integer.toString(n))));
        byte[] chunk = new byte[16 * 1024];
        for (int i = 0; i < chunk.length; i++) {
          chunk[i] = (byte) ('a' + i % 26);
        }
        int left = n;
        while (left > 0) {
          int len = Math.min(left, chunk.length);
          left -= len;
          ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(chunk, 0, len), left == 0));
        }
        ctx.flush();
        return;
      }
      byte[] reply = body.size() > 0 ? body.toByteArray() : ("origin " + path).getBytes(StandardCharsets.UTF_8);
      ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
          .add("content-type", "text/plain").add("x-origin", "h2")));
      ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(reply), true));
      if (path.equals("/goaway")) {
        ctx.channel().parent().writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
      }
    }

    private void plain(ChannelHandlerContext ctx, String text) {
      ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-type", "text/plain")));
      ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), true));
    }
  }
}
