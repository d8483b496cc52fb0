package io.gatehouse.health;

import io.gatehouse.config.HealthCheckConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.upstream.EndpointState;
import io.gatehouse.upstream.Health;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes one endpoint address, one probe at a time, on one event loop, and applies rise/fall to
 * its {@link EndpointState}. The streak counters, the probe in progress and the next timer are
 * touched only on {@link #loop}, so they are plain fields; {@link #config} and {@link #stopped}
 * are written by the reloading thread, hence volatile.
 *
 * <p>A {@link Health#STARTING} endpoint (never checked) is decided by its first probe: it was
 * being picked optimistically, so one failure takes it out at once, and one success confirms it.
 */
final class EndpointProbe {
  private static final Logger log = LoggerFactory.getLogger(EndpointProbe.class);
  /** Intervals vary by up to this share either way, so probes of many endpoints do not align. */
  private static final double JITTER = 0.1;

  private final HostPort address;
  private final EndpointState state;
  private final EventLoop loop;
  private final ProbeConnector connector;
  private final LongSupplier clock;
  private volatile HealthCheckConfig config;
  private volatile boolean stopped;

  private int successes;
  private int failures;
  /** Identity of the probe in progress; a late event of an earlier probe is ignored. */
  private Object current;
  private Channel channel;
  private ScheduledFuture<?> timer;

  EndpointProbe(HostPort address, EndpointState state, HealthCheckConfig config, EventLoop loop,
      ProbeConnector connector, LongSupplier clock) {
    this.address = address;
    this.state = state;
    this.config = config;
    this.loop = loop;
    this.connector = connector;
    this.clock = clock;
  }

  EndpointState state() {
    return state;
  }

  /** Schedules the first probe after a short random delay (spreads a fleet's first probes). */
  void start() {
    long interval = config.interval().toNanos();
    long first = (long) (ThreadLocalRandom.current().nextDouble() * interval * JITTER);
    loop.execute(() -> schedule(first));
  }

  /** The next probe uses {@code next}; streaks are kept (the endpoint is the same server). */
  void update(HealthCheckConfig next) {
    config = next;
  }

  void stop() {
    stopped = true;
    loop.execute(() -> {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
      current = null;
      if (channel != null) {
        channel.close();
        channel = null;
      }
    });
  }

  private void schedule(long delayNanos) {
    if (stopped) {
      return;
    }
    timer = loop.schedule(this::probe, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }

  private void probe() {
    timer = null;
    if (stopped) {
      return;
    }
    HealthCheckConfig cfg = config;
    Object attempt = new Object();
    current = attempt;
    long timeoutNanos = cfg.timeout().toNanos();
    boolean http2 = cfg.path() != null && connector.http2(address);
    ChannelInitializer<Channel> handler = new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (http2) {
          ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
              .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)).build(), new Http2ProbeHandler(attempt, cfg));
        } else if (cfg.path() != null) {
          ch.pipeline().addLast(new HttpClientCodec(4096, 8192, 8192), new HttpProbeHandler(attempt, cfg));
        } else {
          ch.pipeline().addLast(new ClosedHandler(attempt));
        }
      }
    };
    timer = loop.schedule(() -> done(attempt, false, "timeout"), timeoutNanos, TimeUnit.NANOSECONDS);
    ChannelFuture f = connector.connect(loop, address, timeoutNanos, handler);
    channel = f.channel();
    f.addListener(cf -> {
      if (!cf.isSuccess()) {
        done(attempt, false, "connect failed: " + cf.cause());
      } else if (f.channel().localAddress() != null && f.channel().localAddress().equals(f.channel().remoteAddress())) {
        // TCP self-connect (a closed loopback port handed out as the source port, RFC 9293 §3.5
        // simultaneous open): nothing listens there, which must not pass a TCP check.
        done(attempt, false, "connect failed: self-connect, nothing listens");
      } else if (cfg.path() == null) {
        done(attempt, true, null); // TCP check: the connect is the check
      }
    });
  }

  private void done(Object attempt, boolean ok, String why) {
    if (attempt != current) {
      return;
    }
    current = null;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    if (channel != null) {
      channel.close();
      channel = null;
    }
    record(ok, why);
    HealthCheckConfig cfg = config;
    long interval = cfg.interval().toNanos();
    double jitter = 1 + JITTER * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    schedule((long) (interval * jitter));
  }

  private void record(boolean ok, String why) {
    if (stopped) {
      return;
    }
    HealthCheckConfig cfg = config;
    Health health = state.health();
    if (ok) {
      failures = 0;
      successes++;
      if (health != Health.UP && (health == Health.STARTING || successes >= cfg.rise())) {
        state.setHealth(Health.UP, clock.getAsLong());
        log.info("endpoint {} is up ({} successful checks)", address, successes);
      }
    } else {
      successes = 0;
      failures++;
      if (health != Health.DOWN && (health == Health.STARTING || failures >= cfg.fall())) {
        state.setHealth(Health.DOWN, clock.getAsLong());
        log.warn("endpoint {} is down ({} failed checks, last: {})", address, failures, why);
      }
    }
  }

  /** An HTTP check's final status (HTTP/1.1 or HTTP/2): healthy when it is in the expected range. */
  private void finalStatus(Object attempt, HealthCheckConfig cfg, int code) {
    done(attempt, code >= cfg.expectStatusMin() && code <= cfg.expectStatusMax(), "status " + code);
  }

  /** HTTP check: one {@code GET}, healthy when the status is in the expected range. */
  private final class HttpProbeHandler extends ChannelInboundHandlerAdapter {
    private final Object attempt;
    private final HealthCheckConfig cfg;

    HttpProbeHandler(Object attempt, HealthCheckConfig cfg) {
      this.attempt = attempt;
      this.cfg = cfg;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, cfg.path());
      request.headers()
          .set(HttpHeaderNames.HOST, cfg.host() != null ? cfg.host() : address.toString())
          .set(HttpHeaderNames.USER_AGENT, "gatehouse-health-check")
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
          .set(HttpHeaderNames.CONTENT_LENGTH, 0);
      ctx.writeAndFlush(request);
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse response) {
          int code = response.status().code();
          if (response.decoderResult().isFailure()) {
            done(attempt, false, "malformed response");
          } else if (code >= 100 && code < 200) {
            return; // interim response: wait for the final one
          } else {
            finalStatus(attempt, cfg, code);
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      done(attempt, false, "connection closed before a response");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      done(attempt, false, cause.toString());
    }
  }

  /**
   * HTTP check of an endpoint spoken to in HTTP/2: one {@code GET} on the connection's first stream
   * (prior knowledge, or {@code h2} by ALPN over TLS), healthy when the status is in the expected range.
   */
  private final class Http2ProbeHandler extends io.netty.handler.codec.http2.Http2ChannelDuplexHandler {
    private final Object attempt;
    private final HealthCheckConfig cfg;

    Http2ProbeHandler(Object attempt, HealthCheckConfig cfg) {
      this.attempt = attempt;
      this.cfg = cfg;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      boolean tls = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
      Http2Headers headers = new DefaultHttp2Headers()
          .method("GET").scheme(tls ? "https" : "http").path(cfg.path())
          .authority(cfg.host() != null ? cfg.host() : address.toString());
      headers.add("user-agent", "gatehouse-health-check");
      ctx.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true).stream(newStream()));
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame frame && frame.stream() != null) {
          CharSequence status = frame.headers().status();
          int code = status == null ? 0 : Integer.parseInt(status.toString());
          if (code >= 100 && code < 200) {
            return; // interim response: wait for the final one
          }
          finalStatus(attempt, cfg, code);
        } else if (msg instanceof Http2ResetFrame reset) {
          done(attempt, false, "stream reset (error code " + reset.errorCode() + ")");
        } else if (msg instanceof Http2GoAwayFrame) {
          done(attempt, false, "GOAWAY before a response");
        }
      } catch (NumberFormatException e) {
        done(attempt, false, "malformed :status");
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2ResetFrame reset) {
        done(attempt, false, "stream reset (error code " + reset.errorCode() + ")");
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      done(attempt, false, "connection closed before a response");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      done(attempt, false, cause.toString());
    }
  }

  /** TCP check: nothing to read; anything received is discarded. */
  private final class ClosedHandler extends ChannelInboundHandlerAdapter {
    private final Object attempt;

    ClosedHandler(Object attempt) {
      this.attempt = attempt;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      done(attempt, false, cause.toString());
    }
  }
}
