package io.gatehouse.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One {@link FakeUpstream} connection: records each request and plays its {@link Reply}.
 * Sits last in the pipeline: {@code [ssl] -> codec -> chunkedWriter -> exchange}.
 *
 * <p>All fields are confined to the channel's event loop, so they need no {@code volatile}.
 */
final class UpstreamConnectionHandler extends ChannelInboundHandlerAdapter {

    private static final int ECHO_HIGH_WATER_MARK = 32 * 1024 * 1024;

    private final FakeUpstream upstream;
    private final int connectionId;
    private int requestsOnConnection;

    private boolean inRequest;
    private boolean responding;
    private HttpRequest request;
    private RequestHead head;
    private Reply reply;
    private boolean keepAlive;
    private boolean responseStarted;
    private boolean echoing;
    private boolean readSuspended;
    private long bodyLength;
    private ByteArrayOutputStream bodyPrefix;
    private ScheduledFuture<?> idleClose;
    private ChannelHandlerContext ctx;

    UpstreamConnectionHandler(FakeUpstream upstream, int connectionId) {
        this.upstream = upstream;
        this.connectionId = connectionId;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // No keep-alive timer before the first request: like real origins, whose keep-alive
        // timeout starts after a response (a new connection gets a header timeout instead).
        // Closing brand-new connections would make every client connection a lottery.
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest req) {
                onRequestHead(ctx, req);
            }
            if (msg instanceof HttpContent content) {
                onRequestContent(ctx, content);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (readSuspended && ctx.channel().isWritable()) {
            readSuspended = false;
            ctx.channel().config().setAutoRead(true);
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelIdleTimer();
        if (inRequest) {
            recordRequest(new DefaultHttpHeaders(), false);
            inRequest = false;
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets and aborted exchanges are what tests provoke; the close is the observable outcome.
        ctx.close();
    }

    /** Closes the connection if it is between requests; runs on the event loop. */
    boolean closeIfIdle() {
        if (inRequest || responding || requestsOnConnection == 0 || ctx == null || !ctx.channel().isOpen()) {
            return false;
        }
        cancelIdleTimer();
        ctx.close();
        return true;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    private void onRequestHead(ChannelHandlerContext ctx, HttpRequest req) {
        if (req.decoderResult().isFailure()) {
            DefaultFullHttpResponse bad = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST, Unpooled.EMPTY_BUFFER);
            bad.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        cancelIdleTimer();
        inRequest = true;
        responding = false;
        responseStarted = false;
        echoing = false;
        bodyLength = 0;
        bodyPrefix = new ByteArrayOutputStream();
        request = req;
        keepAlive = HttpUtil.isKeepAlive(req);
        head = new RequestHead(connectionId, requestsOnConnection++, upstream.nextRequestSequence(),
                req.method().name(), req.uri(), new DefaultHttpHeaders().set(req.headers()));
        reply = upstream.replyFor(head);

        if (HttpUtil.is100ContinueExpected(req) && reply.send100Continue && reply.action != Reply.Action.HANG) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
        }
        if (reply.action == Reply.Action.ECHO) {
            startEcho(ctx);
        } else if (reply.early) {
            startResponse(ctx);
        }
    }

    private void onRequestContent(ChannelHandlerContext ctx, HttpContent content) {
        if (!inRequest) {
            return;
        }
        ByteBuf buf = content.content();
        int n = buf.readableBytes();
        bodyLength += n;
        int keep = Math.min(n, FakeUpstream.BODY_PREFIX_LIMIT - bodyPrefix.size());
        if (keep > 0) {
            byte[] bytes = new byte[keep];
            buf.getBytes(buf.readerIndex(), bytes);
            bodyPrefix.writeBytes(bytes);
        }
        if (echoing && n > 0) {
            ctx.writeAndFlush(new DefaultHttpContent(buf.retainedDuplicate()));
            if (!ctx.channel().isWritable()) {
                readSuspended = true;
                ctx.channel().config().setAutoRead(false);
            }
        }
        if (content instanceof LastHttpContent last) {
            inRequest = false;
            recordRequest(new DefaultHttpHeaders().set(last.trailingHeaders()), true);
            if (echoing) {
                echoing = false;
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                        .addListener((ChannelFuture f) -> onResponseWritten(ctx, reply, f));
            } else if (!responseStarted) {
                startResponse(ctx);
            } else if (!responding) {
                armIdleTimer(ctx);
            }
        }
    }

    private void recordRequest(HttpHeaders trailers, boolean complete) {
        upstream.record(new RecordedRequest(head.connectionId(), head.indexOnConnection(), head.method(),
                head.uri(), request.protocolVersion().text(), head.headers(), trailers, bodyLength,
                bodyPrefix.toByteArray(), complete));
    }

    private void startEcho(ChannelHandlerContext ctx) {
        // Clients such as java.net.http send the whole request before reading the response, so
        // echo buffers generously and only pushes back (stops reading) past ECHO_HIGH_WATER_MARK.
        ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(ECHO_HIGH_WATER_MARK / 2,
                ECHO_HIGH_WATER_MARK));
        responseStarted = true;
        responding = true;
        echoing = true;
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers()
                .set("X-Upstream", upstream.name())
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (contentType != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        addHeaders(response.headers(), reply.headers);
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.writeAndFlush(response);
    }

    private void startResponse(ChannelHandlerContext ctx) {
        responseStarted = true;
        responding = true;
        Reply current = reply;
        if (current.firstByteDelay.isZero() || current.firstByteDelay.isNegative()) {
            play(ctx, current);
        } else {
            ctx.executor().schedule(() -> play(ctx, current), current.firstByteDelay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void play(ChannelHandlerContext ctx, Reply current) {
        if (!ctx.channel().isActive()) {
            return;
        }
        switch (current.action) {
            case RESET -> {
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
            }
            case CLOSE -> ctx.close();
            case HALF_CLOSE -> ((DuplexChannel) ctx.channel()).shutdownOutput();
            case HANG, ECHO -> { }
            case RESPOND -> new ResponseWriter(ctx, current).start();
        }
    }

    private void onResponseWritten(ChannelHandlerContext ctx, Reply played, ChannelFuture written) {
        if (!written.isSuccess()) {
            ctx.close();
            return;
        }
        responding = false;
        if (!keepAlive || played.closeAfter || played.closeDelimited || played.declaredContentLength != null) {
            ctx.close();
        } else if (played.halfCloseAfter) {
            ((DuplexChannel) ctx.channel()).shutdownOutput();
        } else if (!inRequest) {
            armIdleTimer(ctx);
        }
    }

    private void armIdleTimer(ChannelHandlerContext ctx) {
        cancelIdleTimer();
        Duration timeout = upstream.keepAliveTimeout();
        if (timeout != null && !timeout.isZero() && !timeout.isNegative()) {
            idleClose = ctx.executor().schedule(
                    this::closeIfIdle, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void cancelIdleTimer() {
        if (idleClose != null) {
            idleClose.cancel(false);
            idleClose = null;
        }
    }

    private static void addHeaders(HttpHeaders target, List<Map.Entry<String, String>> fields) {
        for (Map.Entry<String, String> field : fields) {
            target.add(field.getKey(), field.getValue());
        }
    }

    /** Writes one {@link Reply.Action#RESPOND} reply as a sequence of parts, pausing where asked. */
    private final class ResponseWriter {
        private final ChannelHandlerContext ctx;
        private final Reply reply;
        private final List<Supplier<Object>> parts = new ArrayList<>();
        private final List<Duration> pauses = new ArrayList<>();

        ResponseWriter(ChannelHandlerContext ctx, Reply reply) {
            this.ctx = ctx;
            this.reply = reply;
        }

        void start() {
            for (Reply.Informational info : reply.informational) {
                add(Duration.ZERO, () -> {
                    DefaultFullHttpResponse r = new DefaultFullHttpResponse(
                            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(info.status()), Unpooled.EMPTY_BUFFER);
                    addHeaders(r.headers(), info.headers());
                    return r;
                });
            }
            HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status));
            HttpHeaders headers = response.headers();
            headers.set("X-Upstream", upstream.name());
            addHeaders(headers, reply.headers);
            if (!keepAlive || reply.announceClose) {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            boolean bodiless = HttpMethod.HEAD.equals(request.method())
                    || reply.status < 200 || reply.status == 204 || reply.status == 304;
            List<byte[]> chunks = reply.bodyIsName
                    ? List.of(upstream.name().getBytes(StandardCharsets.UTF_8))
                    : reply.chunks;
            long length = reply.generatedLength >= 0
                    ? reply.generatedLength
                    : chunks.stream().mapToLong(c -> c.length).sum();
            if (reply.closeDelimited) {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (reply.chunked) {
                headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else if (reply.status != 204 && reply.status >= 200 && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                headers.set(HttpHeaderNames.CONTENT_LENGTH,
                        reply.declaredContentLength != null ? reply.declaredContentLength : length);
            }
            add(Duration.ZERO, () -> response);

            if (bodiless) {
                add(Duration.ZERO, () -> LastHttpContent.EMPTY_LAST_CONTENT);
            } else if (reply.generatedLength >= 0) {
                add(Duration.ZERO, () -> new HttpChunkedInput(new GeneratedBody(reply.generatedLength), lastContent()));
            } else {
                for (int i = 0; i < chunks.size(); i++) {
                    byte[] chunk = chunks.get(i);
                    if (chunk.length > 0) {
                        add(i == 0 ? Duration.ZERO : reply.chunkDelay,
                                () -> new DefaultHttpContent(Unpooled.wrappedBuffer(chunk)));
                    }
                }
                add(chunks.size() > 1 ? reply.chunkDelay : Duration.ZERO, this::lastContent);
            }
            writeFrom(0);
        }

        private LastHttpContent lastContent() {
            if (reply.trailers.isEmpty()) {
                return LastHttpContent.EMPTY_LAST_CONTENT;
            }
            LastHttpContent last = new DefaultLastHttpContent();
            addHeaders(last.trailingHeaders(), reply.trailers);
            return last;
        }

        private void add(Duration pauseBefore, Supplier<Object> part) {
            pauses.add(pauseBefore);
            parts.add(part);
        }

        /** Parts are built lazily so nothing is allocated for a connection that closed meanwhile. */
        private void writeFrom(int index) {
            for (int i = index; i < parts.size(); i++) {
                if (!ctx.channel().isActive()) {
                    return;
                }
                Duration pause = pauses.get(i);
                if (i > index && !pause.isZero() && !pause.isNegative()) {
                    ctx.flush();
                    int resumeAt = i;
                    ctx.executor().schedule(() -> writeFrom(resumeAt), pause.toNanos(), TimeUnit.NANOSECONDS);
                    return;
                }
                ChannelFuture written = ctx.write(parts.get(i).get());
                if (i == parts.size() - 1) {
                    written.addListener((ChannelFuture f) -> onResponseWritten(ctx, reply, f));
                }
            }
            ctx.flush();
        }
    }
}
