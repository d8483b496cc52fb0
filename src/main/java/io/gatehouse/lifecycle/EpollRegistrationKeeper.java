package io.gatehouse.lifecycle;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's epoll {@link IoHandler} with two changes to how a channel's interest reaches the epoll set.
 *
 * <p><b>A registered descriptor stays in the set.</b> When a channel wants no event at all (no
 * EPOLLIN because it is not reading, no EPOLLOUT because nothing waits to be flushed, EPOLLRDHUP
 * already handled), Netty 4.2.18's registration removes the descriptor ({@code EPOLL_CTL_DEL},
 * netty#16689) but still counts it as added, so the next interest it submits is an
 * {@code EPOLL_CTL_MOD} that fails with ENOENT. A connection reaches that state when its peer
 * half-closed (RFC 9293 §3.6) and it stops reading: then the first write that fills its socket asks
 * for EPOLLOUT, fails, and Netty shuts the output and drops what is left. A CONNECT or WebSocket
 * tunnel whose client sent its FIN while the origin was still sending lost the end of the download
 * that way. So "no event" is submitted as EPOLLET alone: the descriptor stays in the set, nothing is
 * asked for, and EPOLLERR/EPOLLHUP, which epoll always reports, come once per edge instead of on
 * every wait (a descriptor left with an empty level-triggered mask spins on them, netty#16683, which
 * is why Netty removes it). A registration that never asked for anything is left to Netty as it is
 * (Netty adds a descriptor only once there is something to wait for).
 *
 * <p><b>A new descriptor joins the set once, with its final interest.</b> Netty adds an accepted
 * connection with EPOLLRDHUP as soon as it is registered ({@code EPOLL_CTL_ADD}), and the read the
 * proxy asks for a moment later, in the same turn of the event loop, changes it to add EPOLLIN
 * ({@code EPOLL_CTL_MOD}); an outgoing connection goes the same way with EPOLLOUT. Nothing waits on
 * the set until the loop's next {@code epoll_wait}, so the first interest of a registration made on
 * its loop is held until then and only the last one is applied: one {@code epoll_ctl} instead of
 * two per connection (about 2% of the event loop's time with a new connection per request,
 * docs/benchmarks.md). An event that arrived before the add is not lost: {@code EPOLL_CTL_ADD}
 * reports a descriptor that is already ready.
 *
 * <p><b>An interest equal to the one in the set is not submitted again.</b> Netty submits the
 * channel's whole interest whenever it might have changed, and some of its steps submit the same
 * one twice: a finished connect clears EPOLLOUT, then the connected channel's set-up submits that
 * same mask again ({@code EPOLL_CTL_MOD} with nothing changed: one system call in the ~40 of a
 * CONNECT tunnel). Only on the loop's thread, and only while nothing ever came from another
 * thread, so the mask the keeper remembers is the one in the set.
 */
final class EpollRegistrationKeeper implements IoHandlerFactory {
  private final IoHandlerFactory epoll = EpollIoHandler.newFactory();

  @Override
  public IoHandler newHandler(ThreadAwareExecutor executor) {
    return wrap(epoll.newHandler(executor), executor);
  }

  /** The keeper's rules around {@code epoll}, Netty's handler of the loop {@code executor}. */
  IoHandler wrap(IoHandler epoll, ThreadAwareExecutor executor) {
    return new Handler(epoll, executor);
  }

  @Override
  public boolean isChangingThreadSupported() {
    return epoll.isChangingThreadSupported();
  }

  private static final class Handler extends ForwardingIoHandler {
    private final ThreadAwareExecutor executor;
    /** Registrations whose first interest waits for the next {@code epoll_wait}; this loop only. */
    private final ArrayDeque<Registration> held = new ArrayDeque<>();

    Handler(IoHandler epoll, ThreadAwareExecutor executor) {
      super(epoll);
      this.executor = executor;
    }

    /** Applies the held interests, then waits and dispatches: nothing waits on the set before this. */
    @Override
    public int run(IoHandlerContext context) {
      for (Registration next; (next = held.poll()) != null; ) {
        next.applyHeld();
      }
      return io.run(context);
    }

    @Override
    public void prepareToDestroy() {
      held.clear();
      io.prepareToDestroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
      return new Registration(io.register(handle), handle, this);
    }

    /**
     * Queues {@code registration} to apply its first interest at {@link #run}; false (nothing queued)
     * off this loop's thread, where the interest must go through at once.
     */
    boolean hold(Registration registration) {
      if (!onLoop()) {
        return false;
      }
      held.add(registration);
      return true;
    }

    /** Whether the caller runs on this loop's thread. */
    boolean onLoop() {
      return executor.isExecutorThread(Thread.currentThread());
    }
  }

  private static final class Registration implements IoRegistration {
    private static final Logger log = LoggerFactory.getLogger(EpollRegistrationKeeper.class);

    private final IoRegistration epoll;
    private final IoHandle handle;
    private final Handler handler;
    /**
     * Some interest was submitted to Netty, so it has added the descriptor. Plain, as {@link #held}:
     * a channel submits its interest on its own event loop only.
     */
    private boolean added;
    /** The first interest, not yet submitted: it waits for the loop's next {@code epoll_wait}. */
    private IoOps held;
    /** The mask last submitted from the loop's thread (-1: none, or not known). */
    private int inSet = -1;
    /** An interest was once submitted from another thread: {@link #inSet} is not trusted any more. */
    private volatile boolean foreign;

    Registration(IoRegistration epoll, IoHandle handle, Handler handler) {
      this.epoll = epoll;
      this.handle = handle;
      this.handler = handler;
    }

    @Override
    public long submit(IoOps ops) {
      int value = ((EpollIoOps) ops).value();
      if (!added) {
        if (held != null) {
          held = ops; // still before the next epoll_wait: the latest interest replaces it
          return value;
        }
        if (value != EpollIoOps.NONE.value() && handler.hold(this)) {
          held = ops;
          return value;
        }
      }
      return submitNow(ops);
    }

    private long submitNow(IoOps ops) {
      if (((EpollIoOps) ops).value() != EpollIoOps.NONE.value()) {
        added = true;
      } else if (added) {
        ops = EpollIoOps.EPOLLET;
      }
      int value = ((EpollIoOps) ops).value();
      if (!handler.onLoop()) {
        foreign = true;
        return epoll.submit(ops);
      }
      if (value == inSet && !foreign) {
        return value; // already the descriptor's interest
      }
      long result = epoll.submit(ops);
      inSet = value;
      return result;
    }

    /** Submits the held interest, unless the registration was cancelled since. */
    void applyHeld() {
      IoOps ops = held;
      held = null;
      if (ops == null || !epoll.isValid()) {
        return;
      }
      try {
        submitNow(ops);
      } catch (RuntimeException e) {
        // As Netty does when an interest cannot be set: the descriptor or the epoll set is broken.
        log.debug("cannot add a descriptor to the epoll set; closing its channel", e);
        try {
          handle.close();
        } catch (Exception closing) {
          log.debug("closing after a failed epoll_ctl", closing);
        }
      }
    }

    @Override
    public <T> T attachment() {
      return epoll.attachment();
    }

    @Override
    public boolean isValid() {
      return epoll.isValid();
    }

    @Override
    public boolean cancel() {
      held = null; // if still held, never added: nothing to take out of the set (Netty's removal then fails quietly)
      return epoll.cancel();
    }
  }
}
