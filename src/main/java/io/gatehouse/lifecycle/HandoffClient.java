package io.gatehouse.lifecycle;

import io.gatehouse.listener.InheritedSockets;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The successor's side of a hand-off (see {@link HandoffSocket}): asks the running instance for its
 * listening sockets, hands them to the listeners to adopt, then confirms (the old one drains) or
 * reports its failure (the old one keeps serving).
 */
final class HandoffClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HandoffClient.class);
  /** Marks the end of the connection in the queue of what the old instance sent. */
  private static final Object CLOSED = new Object();

  private final Channel channel;
  private final BlockingQueue<Object> received;
  private final Duration timeout;
  private final List<EpollServerSocketChannel> sockets = new ArrayList<>();
  private final List<EpollServerSocketChannel> unclaimed = new ArrayList<>();

  private HandoffClient(Channel channel, BlockingQueue<Object> received, Duration timeout) {
    this.channel = channel;
    this.received = received;
    this.timeout = timeout;
  }

  /**
   * Takes the listening sockets of the instance serving {@code path}.
   *
   * @return the hand-off in progress, or {@code null} when no instance runs there (no socket file,
   *     or nobody accepts on it): the caller starts normally
   * @throws IOException the path is not a socket, the instance refused (the message says why), or
   *     it stopped answering
   */
  static HandoffClient takeOver(Path path, EventLoopGroup group, Duration timeout)
      throws IOException, InterruptedException {
    HandoffSocket.checkIsSocketOrAbsent(path);
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      log.info("--takeover: no instance runs at {} (no socket there); starting normally", path);
      return null;
    }
    BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    ChannelFuture connect = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
        .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.BYTES)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast(new LineBasedFrameDecoder(HandoffSocket.MAX_LINE), new StringDecoder(StandardCharsets.UTF_8),
                new StringEncoder(StandardCharsets.UTF_8), new ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    received.add(msg); // lines (String) and, in FILE_DESCRIPTORS mode, FileDescriptors
                  }

                  @Override
                  public void channelInactive(ChannelHandlerContext ctx) {
                    received.add(CLOSED);
                  }

                  @Override
                  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close();
                  }
                });
          }
        })
        .connect(new DomainSocketAddress(path.toFile())).await();
    if (!connect.isSuccess()) {
      log.info("--takeover: no instance answers at {} ({}); starting normally", path, connect.cause().getMessage());
      return null;
    }
    HandoffClient client = new HandoffClient(connect.channel(), received, timeout);
    try {
      client.receiveSockets(path);
    } catch (IOException | InterruptedException | RuntimeException e) {
      client.close();
      throw e;
    }
    return client;
  }

  private void receiveSockets(Path path) throws IOException, InterruptedException {
    String offer = line();
    if (offer.startsWith(HandoffSocket.REFUSED)) {
      throw new IOException("--takeover refused by the instance at " + path + ": "
          + offer.substring(HandoffSocket.REFUSED.length()).trim());
    }
    if (!offer.startsWith(HandoffSocket.OFFER + " ")) {
      throw new IOException("--takeover: the instance at " + path + " sent '" + offer + "' (expected: OFFER n)");
    }
    int count = Integer.parseInt(offer.substring(HandoffSocket.OFFER.length()).trim());
    // Descriptors come as ancillary data; read in bytes mode they would be dropped by the kernel.
    ((EpollDomainSocketChannel) channel).config().setReadMode(DomainSocketReadMode.FILE_DESCRIPTORS);
    channel.writeAndFlush(HandoffSocket.SEND + "\n");
    for (int i = 0; i < count; i++) {
      Object next = next();
      if (!(next instanceof FileDescriptor fd)) {
        throw new IOException("--takeover: received " + i + " of " + count + " sockets, then " + describe(next));
      }
      EpollServerSocketChannel socket = new EpollServerSocketChannel(fd.intValue());
      sockets.add(socket);
      unclaimed.add(socket);
    }
    ((EpollDomainSocketChannel) channel).config().setReadMode(DomainSocketReadMode.BYTES);
    List<InetSocketAddress> addresses = new ArrayList<>();
    sockets.forEach(s -> addresses.add(s.localAddress()));
    log.info("--takeover: received {} listening sockets from the instance at {}: {}", count, path, addresses);
    if (Boolean.getBoolean("gatehouse.test.haltAfterHandoffReceive")) {
      Runtime.getRuntime().halt(137); // tests: a successor that dies holding the sockets, like kill -9
    }
  }

  /** The received sockets, for the listeners to adopt by address. */
  InheritedSockets sockets() {
    return address -> {
      for (EpollServerSocketChannel s : unclaimed) {
        if (sameAddress(s.localAddress(), address)) {
          unclaimed.remove(s);
          return s;
        }
      }
      return null;
    };
  }

  private static boolean sameAddress(InetSocketAddress bound, InetSocketAddress wanted) {
    return bound.getPort() == wanted.getPort() && !wanted.isUnresolved()
        && bound.getAddress().equals(wanted.getAddress());
  }

  /** Tells the old instance this process accepts on the sockets; returns once it drains. */
  void confirm() throws IOException, InterruptedException {
    closeUnclaimed();
    channel.writeAndFlush(HandoffSocket.ACCEPTING + "\n");
    String answer = line();
    if (!answer.equals(HandoffSocket.DRAINING)) {
      throw new IOException("--takeover: the old instance answered '" + answer + "' (expected: DRAINING)");
    }
  }

  /**
   * Why this process refuses a connection the old instance offers (a refusal's words, which an
   * earlier version of the old instance also reads: it never offers what does not parse).
   */
  static final String UNPARSED = "its description does not parse";

  /** Takes over a tunnel or connection the old instance moves here: its sockets' descriptors, and what came with them. */
  interface Adoption {
    /** Why {@code moving} cannot be served here (its listener is gone or now speaks TLS), or null. */
    String refusal(HandoffSocket.Moving moving);

    /** @param fds the client's socket, then (a tunnel) the upstream's */
    void adopt(HandoffSocket.Moving moving, int[] fds);
  }

  /**
   * After {@link #confirm}: asks the old instance for its tunnels and takes them over as its drain
   * moves them, on a thread of its own (the exchange is blocking and one tunnel at a time); the
   * connection closes when the old instance says END, closes it, or stops answering.
   */
  void adoptMoved(Adoption adoption) {
    channel.writeAndFlush(HandoffSocket.ADOPT + "\n");
    Thread thread = new Thread(() -> receiveTunnels(adoption), "gatehouse-handoff-tunnels");
    thread.setDaemon(true);
    thread.start();
  }

  private void receiveTunnels(Adoption adoption) {
    int tunnels = 0;
    int connections = 0;
    int responses = 0;
    try {
      while (true) {
        Object next = received.take();
        if (next == CLOSED || HandoffSocket.END.equals(next)) {
          break;
        }
        if (!(next instanceof String line) || !line.startsWith(HandoffSocket.TUNNEL + " ")) {
          log.warn("hand-off: the old instance sent {} (expected: TUNNEL or END); no more tunnels are taken over",
              next instanceof String ? "'" + next + "'" : describe(next));
          break;
        }
        HandoffSocket.Moving moving;
        try {
          moving = HandoffSocket.decode(line.substring(HandoffSocket.TUNNEL.length() + 1));
        } catch (IOException e) {
          channel.writeAndFlush(HandoffSocket.REFUSED + " " + UNPARSED + ": "
              + String.valueOf(e.getMessage()).replace('\n', ' ') + "\n");
          continue;
        }
        String refusal = adoption.refusal(moving);
        if (refusal != null) {
          channel.writeAndFlush(HandoffSocket.REFUSED + " " + refusal.replace('\n', ' ') + "\n");
          continue;
        }
        if (!adoptOne(moving, adoption)) {
          break;
        }
        if (moving.kind() == null) {
          tunnels++;
        } else {
          connections++;
          responses += moving.isResponse() ? 1 : 0;
        }
      }
    } catch (IOException | InterruptedException e) {
      log.warn("hand-off: taking tunnels and connections over stopped: {}", e.getMessage());
    } finally {
      close();
      if (tunnels + connections > 0) {
        log.info("hand-off: took over {} tunnels and {} keep-alive connections ({} with a response in flight) from the"
            + " old instance", tunnels, connections, responses);
      }
    }
  }

  /**
   * One tunnel or connection: its descriptors, held (not read) until the old instance says its
   * copies are closed; false when the exchange broke off (the held copies are closed: the old one
   * serves on).
   */
  private boolean adoptOne(HandoffSocket.Moving moving, Adoption adoption)
      throws IOException, InterruptedException {
    EpollDomainSocketChannel unix = (EpollDomainSocketChannel) channel;
    unix.config().setReadMode(DomainSocketReadMode.FILE_DESCRIPTORS);
    channel.writeAndFlush(HandoffSocket.SEND + "\n");
    FileDescriptor[] held = new FileDescriptor[moving.descriptors()];
    try {
      for (int i = 0; i < held.length; i++) {
        held[i] = descriptor();
      }
      unix.config().setReadMode(DomainSocketReadMode.BYTES);
      if (Boolean.getBoolean("gatehouse.test.refuseTunnels")) {
        // tests: a successor that lets go of the descriptors it got; the old instance serves on
        closeQuietly(held);
        channel.writeAndFlush(HandoffSocket.REFUSED + " refused for the test (gatehouse.test.refuseTunnels)\n");
        return true;
      }
      channel.writeAndFlush(HandoffSocket.READY + "\n");
      String moved = line();
      if (!moved.equals(HandoffSocket.MOVED)) {
        throw new IOException("the old instance sent '" + moved + "' (expected: MOVED)");
      }
      int[] fds = new int[held.length];
      for (int i = 0; i < held.length; i++) {
        fds[i] = held[i].intValue();
      }
      try {
        adoption.adopt(moving, fds);
      } catch (RuntimeException e) {
        // Ours are the only copies now: closing them ends the connection, as a crash here would.
        closeQuietly(held);
        log.warn("hand-off: a {} taken over could not be set up here, and ends: {}",
            moving.kind() == null ? "tunnel" : "connection", e.toString());
      }
      return true;
    } catch (IOException e) {
      // The old instance still has its copies (it closes them only before MOVED): closing ours
      // leaves the sockets as they are.
      closeQuietly(held);
      log.warn("hand-off: a {} was not taken over: {}", moving.kind() == null ? "tunnel" : "connection", e.getMessage());
      return false;
    }
  }

  private FileDescriptor descriptor() throws IOException, InterruptedException {
    Object next = next();
    if (next instanceof FileDescriptor fd) {
      return fd;
    }
    throw new IOException("expected a tunnel's descriptor from the old instance, got " + describe(next));
  }

  private static void closeQuietly(FileDescriptor... fds) {
    for (FileDescriptor fd : fds) {
      if (fd != null) {
        try {
          fd.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }
  }

  /** Tells the old instance this process failed; it keeps serving. */
  void fail(String why) {
    if (channel.isActive()) {
      channel.writeAndFlush(HandoffSocket.FAILED + " " + why.replace('\n', ' ') + "\n").awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    closeUnclaimed();
  }

  /** Sockets no listener of this process adopted (the new config dropped them): our copies close. */
  private void closeUnclaimed() {
    for (EpollServerSocketChannel s : unclaimed) {
      log.info("--takeover: no listener here for {}; closing this process's copy", s.localAddress());
      s.unsafe().closeForcibly();
    }
    unclaimed.clear();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
  }

  private String line() throws IOException, InterruptedException {
    Object next = next();
    if (next instanceof String s) {
      return s;
    }
    throw new IOException("--takeover: expected a line from the old instance, got " + describe(next));
  }

  private Object next() throws IOException, InterruptedException {
    Object next = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (next == null) {
      throw new IOException("--takeover: the old instance did not answer within " + timeout.toMillis() + " ms");
    }
    return next;
  }

  private static String describe(Object o) {
    return o == CLOSED ? "the connection closed" : o.getClass().getSimpleName();
  }
}
