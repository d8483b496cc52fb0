package io.gatehouse.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ssl.SSLException;

/**
 * A scriptable HTTP/1.1 origin on 127.0.0.1 for end-to-end tests: real sockets, no mocks.
 *
 * <pre>{@code
 * try (FakeUpstream upstream = FakeUpstream.start("a")) {
 *     upstream.respond(req -> req.uri().startsWith("/down") ? Reply.status(503) : Reply.ok());
 *     ... drive the proxy at upstream.address() ...
 *     assertThat(upstream.requests()).extracting(RecordedRequest::uri).containsExactly("/x");
 * }
 * }</pre>
 *
 * <p>By default every request gets 200 with the upstream's name as body and {@code X-Upstream:
 * name}. Requests on one connection are answered in order; pipelined requests are not supported.
 */
public final class FakeUpstream implements AutoCloseable {

    /** Bytes of each request body kept in {@link RecordedRequest#bodyPrefix()}; the rest is counted. */
    public static final int BODY_PREFIX_LIMIT = 64 * 1024;

    static final String CODEC = "codec";
    static final String CHUNKED_WRITER = "chunkedWriter";
    static final String EXCHANGE = "exchange";
    private static final Duration BLOCKING_WAIT = Duration.ofSeconds(5);

    private final String name;
    private final EventLoopGroup group;
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peakOpen = new AtomicInteger();
    private final AtomicLong requestSequence = new AtomicLong();
    private final List<RecordedRequest> requests = Collections.synchronizedList(new ArrayList<>());
    private final Channel serverChannel;
    private volatile Function<RequestHead, Reply> responder = head -> Reply.ok();
    private volatile Duration keepAliveTimeout;

    private FakeUpstream(String name, int port, SslContext sslContext) {
        this.name = Objects.requireNonNull(name, "name");
        this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                        ch.closeFuture().addListener(f -> open.decrementAndGet());
                        if (sslContext != null) {
                            ch.pipeline().addLast(sslContext.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(CODEC, new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(64 * 1024)
                                        .setMaxHeaderSize(64 * 1024)))
                                .addLast(CHUNKED_WRITER, new ChunkedWriteHandler())
                                .addLast(EXCHANGE, new UpstreamConnectionHandler(
                                        FakeUpstream.this, connectionIds.incrementAndGet()));
                    }
                });
        ChannelFuture bind = bootstrap.bind(new InetSocketAddress("127.0.0.1", port));
        if (!bind.awaitUninterruptibly(BLOCKING_WAIT.toMillis()) || !bind.isSuccess()) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            SocketException cause = new SocketException("bind 127.0.0.1:" + port + " failed");
            cause.initCause(bind.cause());
            throw new UncheckedIOException(cause);
        }
        this.serverChannel = bind.channel();
    }

    public static FakeUpstream start() {
        return start("upstream");
    }

    public static FakeUpstream start(String name) {
        return start(name, 0);
    }

    /** Starts on a given port, e.g. to bring back an upstream on the port a killed one had. */
    public static FakeUpstream start(String name, int port) {
        return new FakeUpstream(name, port, null);
    }

    /** An HTTPS origin serving {@code certs} (HTTP/1.1 only). */
    public static FakeUpstream startTls(String name, TestCerts certs) {
        try {
            SslContext ssl = SslContextBuilder.forServer(certs.certificate().toFile(), certs.privateKey().toFile())
                    .build();
            return new FakeUpstream(name, 0, ssl);
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build server TLS context from " + certs, e);
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** "127.0.0.1:port", the form backend addresses take in config. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    /** Sets the reply for every following request; called on the I/O thread at each request head. */
    public FakeUpstream respond(Function<RequestHead, Reply> responder) {
        this.responder = Objects.requireNonNull(responder, "responder");
        return this;
    }

    /** Replies in this order (the first reply to the next request); the last one repeats. */
    public FakeUpstream respondInOrder(Reply... replies) {
        if (replies.length == 0) {
            throw new IllegalArgumentException("replies: empty (expected: at least one)");
        }
        AtomicInteger next = new AtomicInteger();
        return respond(head -> replies[Math.min(next.getAndIncrement(), replies.length - 1)]);
    }

    /** Every request received so far, completed or cut short, in arrival order (a snapshot). */
    public List<RecordedRequest> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    public RecordedRequest lastRequest() {
        synchronized (requests) {
            if (requests.isEmpty()) {
                throw new IllegalStateException("upstream " + name + " has received no request");
            }
            return requests.get(requests.size() - 1);
        }
    }

    public void clearRequests() {
        requests.clear();
    }

    public int connectionsAccepted() {
        return connectionIds.get();
    }

    /** The most connections that were open at the same time. */
    public int peakOpenConnections() {
        return peakOpen.get();
    }

    public int openConnections() {
        return connections.size();
    }

    /**
     * Closes after this much idleness every connection that is between requests, like an origin's
     * keep-alive timeout. Applies from the next time a connection becomes idle after a response
     * (never to a connection that has not carried a request yet); null disables.
     */
    public void setKeepAliveTimeout(Duration timeout) {
        this.keepAliveTimeout = timeout;
    }

    /**
     * Closes (FIN) every connection between requests (one that has served at least one request and
     * is not in the middle of another), as an origin dropping idle keep-alive connections would.
     * Returns how many it closed.
     */
    public int closeIdleConnections() {
        List<Future<Boolean>> closing = new ArrayList<>();
        for (Channel ch : connections) {
            UpstreamConnectionHandler handler = ch.pipeline().get(UpstreamConnectionHandler.class);
            if (handler != null) {
                closing.add(ch.eventLoop().submit(handler::closeIfIdle));
            }
        }
        int closed = 0;
        for (Future<Boolean> f : closing) {
            if (f.awaitUninterruptibly(BLOCKING_WAIT.toMillis()) && f.isSuccess() && f.getNow()) {
                closed++;
            }
        }
        return closed;
    }

    /** Closes the listening socket and every connection, as a crashed origin would; not restartable. */
    public void kill() {
        serverChannel.close().awaitUninterruptibly(BLOCKING_WAIT.toMillis());
        connections.close().awaitUninterruptibly(BLOCKING_WAIT.toMillis());
    }

    @Override
    public void close() {
        kill();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(BLOCKING_WAIT.toMillis());
    }

    @Override
    public String toString() {
        return "FakeUpstream[" + name + " @ " + (serverChannel.isOpen() ? address() : "closed") + "]";
    }

    Reply replyFor(RequestHead head) {
        try {
            Reply reply = responder.apply(head);
            return reply != null ? reply : Reply.status(500).body("responder returned null");
        } catch (RuntimeException | Error e) {
            return Reply.status(500).body("responder threw " + e);
        }
    }

    long nextRequestSequence() {
        return requestSequence.getAndIncrement();
    }

    void record(RecordedRequest request) {
        requests.add(request);
    }

    Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }
}
