package io.gatehouse.lifecycle;

import io.gatehouse.listener.AcceptErrors;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running instance's side of a hand-off (see {@link HandoffSocket} for the protocol): listens
 * on {@code handoff.socket}, accepts a successor of the same user only, one at a time, sends it the
 * listening sockets and, once it says it accepts on them, tells the server to drain.
 */
final class HandoffServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HandoffServer.class);

  private final Path path;
  private final Channel channel;
  private final Object fileKey;
  /** A descriptor held back so that a successor can connect even when this process is at its limit. */
  private final AcceptErrors.Spare spare;

  private HandoffServer(Path path, Channel channel, AcceptErrors.Spare spare) {
    this.path = path;
    this.channel = channel;
    this.spare = spare;
    this.fileKey = HandoffSocket.fileKey(path);
  }

  /**
   * Listens on {@code path}. A successor that replaces a running instance binds beside the path
   * and renames its socket over it, so the path never points at nothing.
   *
   * @param sockets the listening sockets to offer, read when a successor connects
   * @param takenOver called (on an event loop; must not block) with the successor's pid once it accepts
   * @param tunnels called (on an event loop) once that successor asks for the tunnels (ADOPT): the
   *     drain moves them and idle HTTP/1 connections through the sender it is given; with null when
   *     it closes the connection instead (an earlier version, which takes nothing over)
   */
  static HandoffServer start(Path path, EventLoopGroup group, Supplier<List<ServerChannel>> sockets,
      IntConsumer takenOver, Consumer<MoveSender> tunnels) throws IOException, InterruptedException {
    HandoffSocket.checkIsSocketOrAbsent(path);
    Path temp = path.resolveSibling(path.getFileName() + "." + ProcessHandle.current().pid());
    Files.deleteIfExists(temp);
    int uid = HandoffSocket.ownUid();
    AtomicReference<Channel> active = new AtomicReference<>();
    AcceptErrors.Spare spare = new AcceptErrors.Spare();
    io.netty.channel.ChannelFuture bound = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
        .handler(AcceptErrors.withSpare("the hand-off socket", spare))
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast(new LineBasedFrameDecoder(1024), new StringDecoder(StandardCharsets.UTF_8),
                new StringEncoder(StandardCharsets.UTF_8), new Session(uid, active, sockets, takenOver, tunnels));
          }
        })
        .bind(new DomainSocketAddress(temp.toFile())).await();
    if (!bound.isSuccess()) {
      spare.close();
      throw new IOException("cannot listen on " + temp + ": " + bound.cause().getMessage(), bound.cause());
    }
    Channel ch = bound.channel();
    // Only this user may connect at all; the peer-credential check is the second fence (root).
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
    Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    log.info("hand-off socket on {}", path);
    return new HandoffServer(path, ch, spare);
  }

  /** Stops offering the sockets; removes the path unless a successor's socket replaced it. */
  @Override
  public void close() {
    close(false);
  }

  /**
   * @param handedOff a successor took over: the path is its to replace (it renames its own socket
   *     over it right after the hand-off), so it is left alone, never deleted under the successor
   */
  void close(boolean handedOff) {
    channel.close().syncUninterruptibly();
    spare.close();
    if (!handedOff && fileKey != null && Objects.equals(fileKey, HandoffSocket.fileKey(path))) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        log.warn("cannot remove hand-off socket {}: {}", path, e.getMessage());
      }
    }
  }

  /** One successor's connection; its fields are confined to the connection's event loop. */
  private static final class Session extends SimpleChannelInboundHandler<String> {
    private final int uid;
    private final AtomicReference<Channel> active;
    private final Supplier<List<ServerChannel>> sockets;
    private final IntConsumer takenOver;
    private final Consumer<MoveSender> tunnels;
    private int pid = -1;
    private List<ServerChannel> offered;
    private boolean accepted;
    /** Set once the successor asked for the tunnels (ADOPT); it reads the answers from then on. */
    private MoveSender sender;

    Session(int uid, AtomicReference<Channel> active, Supplier<List<ServerChannel>> sockets, IntConsumer takenOver,
        Consumer<MoveSender> tunnels) {
      this.uid = uid;
      this.active = active;
      this.sockets = sockets;
      this.takenOver = takenOver;
      this.tunnels = tunnels;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      PeerCredentials peer = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
      pid = peer.pid();
      if (peer.uid() != uid) {
        refuse(ctx, "peer pid " + pid + " runs as uid " + peer.uid() + " (expected: uid " + uid
            + ", the user of this instance)");
        return;
      }
      if (!active.compareAndSet(null, ctx.channel())) {
        refuse(ctx, "another takeover is in progress (expected: one at a time)");
        return;
      }
      offered = sockets.get();
      if (offered.isEmpty()) {
        active.set(null);
        refuse(ctx, "this instance is draining and no longer offers its sockets");
        return;
      }
      log.info("hand-off: pid {} asks to take over; offering {} listening sockets", pid, offered.size());
      ctx.writeAndFlush(HandoffSocket.OFFER + " " + offered.size() + "\n");
      super.channelActive(ctx);
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
      log.warn("hand-off: refused pid {}: {}", pid, why);
      ctx.writeAndFlush(HandoffSocket.REFUSED + " " + why + "\n").addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, String line) {
      if (active.get() != ctx.channel()) {
        return;
      }
      if (sender != null) {
        sender.answer(line);
      } else if (accepted && line.equals(HandoffSocket.ADOPT)) {
        log.info("hand-off: pid {} takes tunnels over; they move to it as the drain goes", pid);
        sender = new MoveSender(ctx.channel(), pid);
        tunnels.accept(sender);
      } else if (accepted) {
        log.warn("hand-off: pid {} sent '{}' after it took over (expected: ADOPT); closing", pid, line);
        ctx.close();
      } else if (line.equals(HandoffSocket.SEND)) {
        for (ServerChannel socket : offered) {
          ctx.write(((UnixChannel) socket).fd()); // SCM_RIGHTS: the peer gets its own descriptor
        }
        ctx.flush();
        log.info("hand-off: sent {} listening sockets to pid {}; still accepting on them until it does",
            offered.size(), pid);
      } else if (line.equals(HandoffSocket.ACCEPTING)) {
        accepted = true;
        log.info("hand-off: pid {} accepts on the sockets; this process stops accepting and drains", pid);
        // The connection stays: a successor that takes tunnels over says ADOPT on it (an older one closes it).
        ctx.writeAndFlush(HandoffSocket.DRAINING + "\n");
        takenOver.accept(pid);
      } else if (line.startsWith(HandoffSocket.FAILED)) {
        log.warn("hand-off: pid {} failed to take over: {}; this process keeps serving",
            pid, line.substring(HandoffSocket.FAILED.length()).trim());
        ctx.close();
      } else {
        log.warn("hand-off: pid {} sent '{}' (expected: SEND, ACCEPTING or FAILED); closing", pid, line);
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (sender != null) {
        sender.closed();
      } else if (accepted) {
        tunnels.accept(null); // a successor that takes nothing over (an earlier version) closes here
      }
      if (active.get() == ctx.channel()) {
        if (!accepted) {
          log.warn("hand-off: pid {} went away before it accepted on the sockets; this process never stopped"
              + " accepting and keeps serving", pid);
          active.set(null);
        }
      }
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.warn("hand-off: connection of pid {} failed: {}", pid, cause.getMessage());
      ctx.close();
    }
  }
}
