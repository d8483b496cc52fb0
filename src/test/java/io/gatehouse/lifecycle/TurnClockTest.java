package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The request path's clock: one reading per I/O turn of an event loop, a fresh reading in the loop's
 * tasks and off the loops. Real sockets on a real event loop, with the server's transport (epoll
 * here) and with NIO.
 */
class TurnClockTest {
  private static final long SPIN_NANOS = TimeUnit.MILLISECONDS.toNanos(3);

  /** Two readings taken {@link #SPIN_NANOS} apart, and where they were taken. */
  record Readings(String where, String thread, long first, long second) {}

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"server transport", "nio"})
  void one_reading_per_io_turn_and_fresh_readings_in_tasks_and_off_the_loop(String transport) throws Exception {
    boolean nio = transport.equals("nio");
    IoHandlerFactory io = nio ? NioIoHandler.newFactory() : Transport.best().ioHandlerFactory();
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, TurnClock.loopThreads(), TurnClock.turns(io));
    BlockingQueue<Readings> readings = new LinkedBlockingQueue<>();
    try {
      Channel server = new ServerBootstrap().group(group)
          .channel(nio ? NioServerSocketChannel.class : Transport.best().serverChannel())
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              ReferenceCountUtil.release(msg);
              readings.add(twoReadings("read"));
              ctx.executor().execute(() -> readings.add(twoReadings("task")));
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort())) {
        OutputStream out = client.getOutputStream();
        out.write('a');
        out.flush();
        Readings firstRead = take(readings, "read");
        Readings firstTask = take(readings, "task");
        Thread.sleep(5);
        out.write('b'); // read in a later turn of the loop
        out.flush();
        Readings secondRead = take(readings, "read");
        take(readings, "task");

        assertThat(firstRead.thread()).startsWith("multiThreadIoEventLoopGroup-"); // Netty's own name
        // Inside one I/O turn, every reading is the turn's: the 3 ms between them do not show.
        assertThat(firstRead.second()).isEqualTo(firstRead.first());
        assertThat(secondRead.second()).isEqualTo(secondRead.first());
        // The next turn reads the clock again.
        assertThat(secondRead.first() - firstRead.first()).isGreaterThanOrEqualTo(SPIN_NANOS + TimeUnit.MILLISECONDS.toNanos(5));
        // The loop's tasks read it each time, as does every other thread.
        assertThat(firstTask.second() - firstTask.first()).isGreaterThanOrEqualTo(SPIN_NANOS);
        Readings here = twoReadings("test thread");
        assertThat(here.second() - here.first()).isGreaterThanOrEqualTo(SPIN_NANOS);
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  private static Readings twoReadings(String where) {
    long first = TurnClock.nanoTime();
    long until = System.nanoTime() + SPIN_NANOS;
    while (System.nanoTime() - until < 0) {
      Thread.onSpinWait();
    }
    return new Readings(where, Thread.currentThread().getName(), first, TurnClock.nanoTime());
  }

  private static Readings take(BlockingQueue<Readings> readings, String where) throws InterruptedException {
    Readings next = readings.poll(5, TimeUnit.SECONDS);
    assertThat(next).as("readings from the loop's " + where).isNotNull();
    assertThat(next.where()).isEqualTo(where);
    return next;
  }
}
