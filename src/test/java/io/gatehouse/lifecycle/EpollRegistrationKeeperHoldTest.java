package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How the keeper passes a registration's interest to Netty's epoll handler: the first interest
 * submitted on the loop waits for the loop's next turn, and only the last one is applied, so that
 * Netty adds a new descriptor once ({@code EPOLL_CTL_ADD}) instead of adding then modifying it. The
 * socket-level behaviour is covered by {@link EpollRegistrationKeeperTest} and every end-to-end test;
 * this pins the rules against a recording stand-in for Netty's handler.
 */
class EpollRegistrationKeeperHoldTest {
  private static final EpollIoOps RDHUP = EpollIoOps.EPOLLRDHUP;
  private static final EpollIoOps RDHUP_IN = EpollIoOps.EPOLLRDHUP.with(EpollIoOps.EPOLLIN);

  /** Netty's side: what reached it, in order. */
  private final List<Integer> submitted = new ArrayList<>();
  private final List<String> calls = new ArrayList<>();
  private boolean cancelled;
  /** The loop's thread: the one running the test method (JUnit runs it apart from set-up, for its timeout). */
  private volatile Thread loop;
  private final IoHandler handler = new EpollRegistrationKeeper().wrap(new RecordingHandler(), new ThreadAwareExecutor() {
    @Override
    public boolean isExecutorThread(Thread thread) {
      return thread == loop;
    }

    @Override
    public void execute(Runnable command) {
      command.run();
    }
  });

  @Test
  void theInterestsOfOneTurnReachEpollOnceAsTheLastOneBeforeTheWait() throws Exception {
    loop = Thread.currentThread();
    IoRegistration registration = handler.register(new NoHandle());
    registration.submit(RDHUP); // Netty, at registration
    registration.submit(RDHUP_IN); // the proxy's first read, same turn
    assertThat(submitted).isEmpty();
    handler.run(null);
    assertThat(submitted).containsExactly(RDHUP_IN.value());
    assertThat(calls).containsExactly("submit", "run");
  }

  @Test
  void onceAddedEveryInterestGoesThroughAtOnce() throws Exception {
    loop = Thread.currentThread();
    IoRegistration registration = handler.register(new NoHandle());
    registration.submit(RDHUP);
    handler.run(null);
    registration.submit(RDHUP_IN);
    registration.submit(RDHUP);
    assertThat(submitted).containsExactly(RDHUP.value(), RDHUP_IN.value(), RDHUP.value());
  }

  @Test
  void theSameInterestTwiceReachesEpollOnce() throws Exception {
    loop = Thread.currentThread();
    IoRegistration registration = handler.register(new NoHandle());
    registration.submit(RDHUP_IN);
    handler.run(null);
    registration.submit(RDHUP); // a finished connect clears EPOLLOUT...
    registration.submit(RDHUP); // ...and the set-up that follows submits the same mask again
    registration.submit(RDHUP_IN);
    registration.submit(EpollIoOps.NONE);
    registration.submit(EpollIoOps.NONE);
    assertThat(submitted).containsExactly(RDHUP_IN.value(), RDHUP.value(), RDHUP_IN.value(), EpollIoOps.EPOLLET.value());
  }

  @Test
  void afterAnInterestFromAnotherThreadNothingIsSkipped() throws Exception {
    loop = Thread.currentThread();
    IoRegistration registration = handler.register(new NoHandle());
    registration.submit(RDHUP_IN);
    handler.run(null);
    CompletableFuture.runAsync(() -> registration.submit(RDHUP)).get(10, TimeUnit.SECONDS);
    registration.submit(RDHUP_IN); // the set holds RDHUP now, whatever the loop submitted last
    registration.submit(RDHUP_IN);
    assertThat(submitted).containsExactly(RDHUP_IN.value(), RDHUP.value(), RDHUP_IN.value(), RDHUP_IN.value());
  }

  @Test
  void noEventOnAnAddedDescriptorKeepsItInTheSet() throws Exception {
    loop = Thread.currentThread();
    IoRegistration registration = handler.register(new NoHandle());
    registration.submit(RDHUP_IN);
    handler.run(null);
    registration.submit(EpollIoOps.NONE);
    assertThat(submitted).containsExactly(RDHUP_IN.value(), EpollIoOps.EPOLLET.value());
  }

  @Test
  void aRegistrationCancelledBeforeTheWaitIsNeverAdded() throws Exception {
    loop = Thread.currentThread();
    IoRegistration registration = handler.register(new NoHandle());
    registration.submit(RDHUP);
    registration.cancel();
    handler.run(null);
    assertThat(cancelled).isTrue();
    assertThat(submitted).isEmpty();
  }

  @Test
  void anInterestFromAnotherThreadIsNotHeld() throws Exception {
    loop = Thread.currentThread();
    IoRegistration registration = handler.register(new NoHandle());
    CompletableFuture.runAsync(() -> registration.submit(RDHUP_IN)).get(10, TimeUnit.SECONDS);
    assertThat(submitted).containsExactly(RDHUP_IN.value());
  }

  private final class RecordingHandler implements IoHandler {
    @Override
    public int run(IoHandlerContext context) {
      calls.add("run");
      return 0;
    }

    @Override
    public void wakeup() {}

    @Override
    public IoRegistration register(IoHandle handle) {
      return new IoRegistration() {
        @Override
        public <T> T attachment() {
          return null;
        }

        @Override
        public long submit(IoOps ops) {
          calls.add("submit");
          submitted.add(((EpollIoOps) ops).value());
          return ((EpollIoOps) ops).value();
        }

        @Override
        public boolean isValid() {
          return !cancelled;
        }

        @Override
        public boolean cancel() {
          cancelled = true;
          return true;
        }
      };
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
      return true;
    }
  }

  private static final class NoHandle implements IoHandle {
    @Override
    public void handle(IoRegistration registration, IoEvent ioEvent) {}

    @Override
    public void close() {}
  }
}
