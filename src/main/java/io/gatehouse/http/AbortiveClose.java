package io.gatehouse.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;

/**
 * Closes a TCP connection with a reset (SO_LINGER 0) instead of a FIN. For a peer that must not take
 * the cut for a clean end (a tunnel's other side), and for a client that does not read what it was
 * sent: a plain close leaves the unread bytes queued in the kernel, and the socket in FIN-WAIT-1
 * sends them on at the reader's pace for as long as it keeps taking a few (a megabyte or more per
 * connection, for hours); the reset drops them at once.
 *
 * <p>The close skips the handlers' own closing steps: TLS's close_notify and HTTP/2's GOAWAY would
 * wait for their write to leave, which a client that does not read never lets happen (SslHandler
 * gives up after 3 s with a WARN line per connection; HTTP/2's close would wait for ever). A
 * channel that is no socket (an HTTP/2 stream, an embedded channel) just closes.
 */
public final class AbortiveClose {
  private AbortiveClose() {}

  /** Resets {@code channel} now; its handlers see it become inactive. */
  public static void reset(Channel channel) {
    ChannelHandlerContext first = channel.pipeline().firstContext();
    if (!linger(channel) || first == null) {
      channel.close();
      return;
    }
    first.close(); // from the first handler's place: straight to the socket
  }

  /**
   * Makes the next close of {@code channel}, whoever of its handlers after TLS calls it, a reset
   * that skips TLS's close_notify.
   */
  public static void armOnClose(Channel channel) {
    if (!linger(channel)) {
      return;
    }
    ChannelHandlerContext tls = channel.pipeline().context(SslHandler.class);
    if (tls != null && channel.pipeline().get(SkipTlsClose.class) == null) {
      channel.pipeline().addAfter(tls.name(), null, new SkipTlsClose(tls));
    }
  }

  /** SO_LINGER 0 on a socket still open; whether it was one. */
  private static boolean linger(Channel channel) {
    if (channel instanceof DuplexChannel && channel.isOpen()) {
      channel.config().setOption(ChannelOption.SO_LINGER, 0);
      return true;
    }
    return false;
  }

  /** Sends a close that reaches it on from TLS's own place, past TLS (toward the socket). */
  private static final class SkipTlsClose extends ChannelOutboundHandlerAdapter {
    private final ChannelHandlerContext tls;

    SkipTlsClose(ChannelHandlerContext tls) {
      this.tls = tls;
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
      tls.close(promise);
    }
  }
}
