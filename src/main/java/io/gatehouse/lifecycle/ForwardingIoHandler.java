package io.gatehouse.lifecycle;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoRegistration;

/**
 * An event loop's {@link IoHandler} that passes every call to the one it wraps: the base of the
 * wrappers that change one step of it ({@link EpollRegistrationKeeper}, {@link TurnClock}).
 */
abstract class ForwardingIoHandler implements IoHandler {
  protected final IoHandler io;

  ForwardingIoHandler(IoHandler io) {
    this.io = io;
  }

  @Override
  public void initialize() {
    io.initialize();
  }

  @Override
  public int run(IoHandlerContext context) {
    return io.run(context);
  }

  @Override
  public void prepareToDestroy() {
    io.prepareToDestroy();
  }

  @Override
  public void destroy() {
    io.destroy();
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    return io.register(handle);
  }

  @Override
  public void wakeup() {
    io.wakeup();
  }

  @Override
  public boolean isCompatible(Class<? extends IoHandle> handleType) {
    return io.isCompatible(handleType);
  }
}
