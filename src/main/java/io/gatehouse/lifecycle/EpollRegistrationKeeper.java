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

/**
 * Netty's epoll {@link IoHandler} with one change: a channel's descriptor stays in the epoll set for
 * as long as the channel is registered.
 *
 * <p>Why: when a channel wants no event at all (no EPOLLIN because it is not reading, no EPOLLOUT
 * because nothing waits to be flushed, EPOLLRDHUP already handled), Netty 4.2.18's registration
 * removes the descriptor ({@code EPOLL_CTL_DEL}, netty#16689) but still counts it as added, so the
 * next interest it submits is an {@code EPOLL_CTL_MOD} that fails with ENOENT. A connection reaches
 * that state when its peer half-closed (RFC 9293 §3.6) and it stops reading: then the first write
 * that fills its socket asks for EPOLLOUT, fails, and Netty shuts the output and drops what is
 * left. A CONNECT or WebSocket tunnel whose client sent its FIN while the origin was still sending
 * lost the end of the download that way.
 *
 * <p>So "no event" is submitted as EPOLLET alone: the descriptor stays in the set, nothing is asked
 * for, and EPOLLERR/EPOLLHUP, which epoll always reports, come once per edge instead of on every
 * wait (a descriptor left with an empty level-triggered mask spins on them, netty#16683, which is
 * why Netty removes it). A registration that never asked for anything is left to Netty as it is
 * (Netty adds a descriptor only once there is something to wait for).
 */
final class EpollRegistrationKeeper implements IoHandlerFactory {
  private final IoHandlerFactory epoll = EpollIoHandler.newFactory();

  @Override
  public IoHandler newHandler(ThreadAwareExecutor executor) {
    return new Handler(epoll.newHandler(executor));
  }

  @Override
  public boolean isChangingThreadSupported() {
    return epoll.isChangingThreadSupported();
  }

  private record Handler(IoHandler epoll) implements IoHandler {
    @Override
    public void initialize() {
      epoll.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
      return epoll.run(context);
    }

    @Override
    public void prepareToDestroy() {
      epoll.prepareToDestroy();
    }

    @Override
    public void destroy() {
      epoll.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
      return new Registration(epoll.register(handle));
    }

    @Override
    public void wakeup() {
      epoll.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
      return epoll.isCompatible(handleType);
    }
  }

  private static final class Registration implements IoRegistration {
    private final IoRegistration epoll;
    /**
     * Some interest was submitted, so Netty has added the descriptor. Plain: a channel submits its
     * interest on its own event loop only.
     */
    private boolean added;

    Registration(IoRegistration epoll) {
      this.epoll = epoll;
    }

    @Override
    public long submit(IoOps ops) {
      if (((EpollIoOps) ops).value() != EpollIoOps.NONE.value()) {
        added = true;
      } else if (added) {
        ops = EpollIoOps.EPOLLET;
      }
      return epoll.submit(ops);
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
      return epoll.cancel();
    }
  }
}
