package io.gatehouse.relay;

import io.gatehouse.http.BodyPosition;
import io.gatehouse.http.UpstreamCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.io.ByteArrayOutputStream;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The steps a {@link ResponseMove} takes with its two sockets, whichever side relays the response:
 * the upstream stops reading, everything read from it is written to the client, both channels
 * leave the event loop, and once that ran (a later task: the response may have moved on meanwhile)
 * the response is described, provided it still can move and the upstream's decoder stands between
 * two framing elements; or both join the loop again. On the channels' event loop.
 */
final class ResponseFreeze {
  private ResponseFreeze() {}

  /**
   * The most bytes of the proxy's own a move carries for the client (those the kernel has not taken
   * yet; the kernel's send buffer goes with the socket). Above the high water mark (64 KiB) by what
   * one read of the upstream may add; the hand-off's line holds 1 MiB.
   */
  static final int MAX_UNSENT_BYTES = 256 * 1024;

  /**
   * Completes {@code done} with {@code describe}'s description of the frozen response, or thaws
   * ({@code thaw}) and completes it with null. It does not wait for what was read to be written
   * out: a client that has not taken it yet (a slow reader: the kernel lets a writer on only once
   * about a third of its send buffer, often megabytes, drained) moves with those bytes carried in the
   * description, for the successor to write first.
   *
   * @param holds whether the response is still one to move (same exchange, nothing of a next request read)
   * @param progress the response bytes relayed so far: a move happens with none relayed since the check
   * @param describe the description, from where the upstream's body stands and the client's unsent bytes (or null)
   */
  static void freeze(Channel client, Channel upstream, BooleanSupplier holds, LongSupplier progress,
      BiFunction<BodyPosition, byte[], ResponseHandover.Frozen> describe, Runnable thaw,
      Promise<ResponseHandover.Frozen> done) {
    upstream.config().setAutoRead(false);
    client.flush();
    if (!client.isActive() || !upstream.isActive() || !holds.getAsBoolean()) {
      thaw.run(); // it ended meanwhile, or a side closed
      done.setSuccess(null);
      return;
    }
    long sent = progress.getAsLong();
    ChannelFuture clientOff = client.deregister();
    upstream.deregister().addListener(upstreamOff -> {
      BodyPosition at = upstream.pipeline().get(UpstreamCodec.class).bodyPosition();
      boolean still = clientOff.isSuccess() && upstreamOff.isSuccess() && at != null && client.isActive()
          && upstream.isActive() && holds.getAsBoolean() && progress.getAsLong() == sent;
      boolean allWritten = SpliceCounter.nothingQueued(client);
      byte[] unsent = still && !allWritten ? unsent(client) : null;
      if (still && (allWritten || unsent != null)) {
        done.setSuccess(describe.apply(at, unsent));
      } else {
        thaw.run();
        done.setSuccess(null);
      }
    });
  }

  /**
   * A copy of the bytes waiting in {@code client}'s outbound buffer, in order, or null when they
   * cannot travel (more than {@link #MAX_UNSENT_BYTES}, or a message that is not bytes). The channel
   * is off its event loop: nothing writes them here any more (its close, once moved, drops them).
   */
  static byte[] unsent(Channel client) {
    ChannelOutboundBuffer out = client.unsafe().outboundBuffer();
    if (out == null) {
      return null;
    }
    out.addFlush(); // every message counted, whether or not a flush was asked for it yet
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    boolean[] carried = {true};
    try {
      out.forEachFlushedMessage(msg -> {
        if (!(msg instanceof ByteBuf buf) || bytes.size() + buf.readableBytes() > MAX_UNSENT_BYTES) {
          carried[0] = false;
          return false;
        }
        buf.getBytes(buf.readerIndex(), bytes, buf.readableBytes()); // a partly written one from where it stands
        return true;
      });
    } catch (Exception e) {
      return null;
    }
    return carried[0] && bytes.size() > 0 ? bytes.toByteArray() : null;
  }

  /** Both channels join the event loop again, then {@code resumed}; on failure both close. */
  static void thaw(Channel client, Channel upstream, Runnable resumed) {
    EventLoop loop = client.eventLoop();
    Future<?> c = client.isRegistered() ? loop.newSucceededFuture(null) : loop.register(client);
    Future<?> u = upstream.isRegistered() ? loop.newSucceededFuture(null) : loop.register(upstream);
    c.addListener(cf -> u.addListener(uf -> {
      if (!cf.isSuccess() || !uf.isSuccess()) {
        client.close();
        upstream.close();
      }
      resumed.run();
    }));
  }

  /** Closes this process's copies of both sockets (which sends nothing: the successor holds them). */
  static Future<?> close(Channel client, Channel upstream, Promise<Void> closed) {
    ChannelFuture c = client.close();
    upstream.close().addListener(u -> c.addListener(f -> closed.setSuccess(null)));
    return closed;
  }
}
