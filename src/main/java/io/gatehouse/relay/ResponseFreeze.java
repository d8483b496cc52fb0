package io.gatehouse.relay;

import io.gatehouse.http.BodyPosition;
import io.gatehouse.http.UpstreamCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
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
   * Completes {@code done} with {@code describe}'s description of the frozen response, or thaws
   * ({@code thaw}) and completes it with null.
   *
   * @param holds whether the response is still one to move (same exchange, nothing of a next request read)
   * @param progress the response bytes relayed so far: a move happens with none relayed since the check
   */
  static void freeze(Channel client, Channel upstream, long waitNanos, BooleanSupplier holds, LongSupplier progress,
      Function<BodyPosition, ResponseHandover.Frozen> describe, Runnable thaw, Promise<ResponseHandover.Frozen> done) {
    upstream.config().setAutoRead(false);
    client.flush();
    awaitWritten(client, upstream, System.nanoTime() + waitNanos, holds, progress, describe, thaw, done);
  }

  private static void awaitWritten(Channel client, Channel upstream, long deadline, BooleanSupplier holds,
      LongSupplier progress, Function<BodyPosition, ResponseHandover.Frozen> describe, Runnable thaw,
      Promise<ResponseHandover.Frozen> done) {
    boolean open = client.isActive() && upstream.isActive() && holds.getAsBoolean();
    if (open && !SpliceCounter.nothingQueued(client) && System.nanoTime() - deadline < 0) {
      client.eventLoop().schedule(() -> awaitWritten(client, upstream, deadline, holds, progress, describe, thaw, done),
          1, TimeUnit.MILLISECONDS);
      return;
    }
    if (!open || !SpliceCounter.nothingQueued(client)) {
      thaw.run(); // it ended meanwhile, a side closed, or a slow reader: later
      done.setSuccess(null);
      return;
    }
    long sent = progress.getAsLong();
    ChannelFuture clientOff = client.deregister();
    upstream.deregister().addListener(upstreamOff -> {
      BodyPosition at = upstream.pipeline().get(UpstreamCodec.class).bodyPosition();
      boolean still = clientOff.isSuccess() && upstreamOff.isSuccess() && at != null && client.isActive()
          && upstream.isActive() && holds.getAsBoolean() && progress.getAsLong() == sent
          && SpliceCounter.nothingQueued(client);
      if (still) {
        done.setSuccess(describe.apply(at));
      } else {
        thaw.run();
        done.setSuccess(null);
      }
    });
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
