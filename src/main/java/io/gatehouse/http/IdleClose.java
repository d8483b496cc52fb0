package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP/1 connection that stayed idle for {@code limits.idleTimeout}: FIN (after TLS's
 * close_notify), then, if the client has not closed its side within {@link #RESET_AFTER_MILLIS},
 * a reset (SO_LINGER 0).
 *
 * <p>Why not a plain close: for the proxy a connection is idle once its last response left for the
 * kernel, and a response that fitted whole in the socket's send buffer left at once, read or not. A
 * slow reader (slowhttptest -X with a resource smaller than the buffer) then holds that response in
 * the kernel: closed normally, the socket goes to FIN-WAIT-1 and the kernel sends the rest on at the
 * reader's pace, a megabyte or more per connection, for as long as the reader keeps taking a few
 * bytes. A client that read everything sees the FIN and closes (browsers, pooled HTTP clients do at
 * once); one still reading cannot reach the FIN, and is reset, which drops what it left unread.
 * Netty exposes no count of the bytes still queued in the socket ({@code SIOCOUTQ}), which would
 * tell the two apart sooner.
 *
 * <p>What was written before the call (an HTTP/2 GOAWAY) goes out before the FIN. An HTTP/2 stream,
 * or a channel that is no socket, just closes.
 */
public final class IdleClose {
  /** How long a client has to answer the FIN before it is reset. */
  public static final long RESET_AFTER_MILLIS = 2000;

  private IdleClose() {}

  /** Call on the channel's event loop, from a handler that sits after TLS. */
  public static void close(ChannelHandlerContext ctx) {
    Channel channel = ctx.channel();
    if (!(channel instanceof DuplexChannel duplex) || duplex.isOutputShutdown()) {
      ctx.close();
      return;
    }
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    // Each completes once everything queued before it has left for the kernel.
    ChannelFuture notified = tls != null ? tls.closeOutbound() : ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
    notified.addListener(sent -> {
      if (!sent.isSuccess() || !channel.isActive()) {
        channel.close();
        return;
      }
      // The client's FIN then ends its input, and the connection closes (ProxyConnectionHandler).
      HalfClose.shutdownOutput(channel).addListener(shut -> {
        if (!shut.isSuccess()) {
          channel.close();
        }
      });
    });
    channel.eventLoop().schedule(() -> {
      if (channel.isOpen()) {
        AbortiveClose.reset(channel);
      }
    }, RESET_AFTER_MILLIS, TimeUnit.MILLISECONDS);
  }
}
