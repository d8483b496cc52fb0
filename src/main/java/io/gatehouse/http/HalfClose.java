package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.nio.channels.NotYetConnectedException;
import java.util.function.BooleanSupplier;

/**
 * Sends FIN on a connection whose queued writes are all flushed: the half-close of tunnels (a side's
 * input ended), of lingering connections after a local reply, and of idle ones ({@link IdleClose}).
 * Netty's {@link DuplexChannel#shutdownOutput()} builds a {@code ChannelOutputShutdownException}
 * with a full stack trace at every call, to fail writes still queued, which these callers never
 * have (they shut after a flush completed, or with nothing written): the JVM's stack walk for it
 * was about 2% of a CONNECT tunnel's CPU (perf, docs/benchmarks.md). On epoll and kqueue the socket
 * is shut directly; Netty's view stays right, since {@code isOutputShutdown()} reads the socket's own
 * state. Call on the channel's loop.
 */
public final class HalfClose {
  private HalfClose() {}

  public static ChannelFuture shutdownOutput(Channel channel) {
    if (channel instanceof UnixChannel unix && unix.fd() instanceof Socket socket) {
      try {
        socket.shutdown(false, true);
        return channel.newSucceededFuture();
      } catch (IOException | NotYetConnectedException e) {
        // ENOTCONN: the peer has already reset the connection (a client that closed at once on an
        // HTTP/2 GOAWAY, say), which Netty's channel learns only at its next read
        return channel.newFailedFuture(e);
      }
    }
    return ((DuplexChannel) channel).shutdownOutput();
  }

  /**
   * A tunnel's half-close of {@code channel} (its peer sent all it will): FIN once the bytes queued
   * before it are flushed. Closed instead when it went inactive meanwhile, when the FIN fails (a
   * reset), or when {@code inputDone} says the other way has ended too (both ways done); else it
   * stays half-open, reading, and {@code halfOpen} runs.
   */
  public static void afterQueuedBytes(Channel channel, BooleanSupplier inputDone, Runnable halfOpen) {
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) flushed -> {
      if (!channel.isActive()) {
        channel.close();
        return;
      }
      shutdownOutput(channel).addListener(done -> {
        if (inputDone.getAsBoolean() || !done.isSuccess()) {
          channel.close();
        } else {
          halfOpen.run();
        }
      });
    });
  }
}
