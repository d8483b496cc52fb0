package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.util.concurrent.EventExecutor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Client-side timeouts of a connection or an HTTP/2 stream. They are what stops slow clients from
 * holding connections (and upstream connections) forever:
 *
 * <ul>
 *   <li>idle: no byte of a next request within {@code idleTimeout} closes the connection quietly;
 *   <li>head: once a request's first byte arrived, its whole head must arrive within {@code
 *       headerTimeout} (slow-loris); otherwise {@link #HEADER_TIMEOUT} is fired inbound so the proxy
 *       handler can answer 408 through the codec;
 *   <li>body: while a request body is expected, a read the proxy asked for must bring a byte
 *       within {@code idleTimeout}, or {@link #BODY_TIMEOUT} fires (slow POST). The clock runs only
 *       while the proxy waits for the client, never while it holds back reading (backpressure);
 *   <li>slow reader: a response the client does not read (channel unwritable) for {@code
 *       idleTimeout} fires {@link #CLIENT_TOO_SLOW} (slow read);
 *   <li>minimum rates ({@link MinRate}): a body that arrives, or a response that is taken, slower
 *       than its minimum over a window of waiting time fires {@link #CLIENT_TOO_SLOW}. A client
 *       that sends or reads a byte now and then never trips the timeouts above, but holds an
 *       upstream connection all the while (R.U.D.Y., slow read).
 * </ul>
 *
 * One scheduled task per connection serves every deadline. It is only moved when it fires and
 * finds the earliest deadline later, or when a new deadline is earlier, so the per-request cost is
 * a few field writes; an idle connection holds one task in the event loop's queue. (The wait for
 * the upstream's response head is the upstream connection's to time: {@code relay.UpstreamHandler}.)
 *
 * <p>A side tells them what happens to it ({@link #received}, {@link #readAsked}, {@link
 * #writabilityChanged}, {@link #closed}) and gets their events: an HTTP/1 connection through its
 * pipeline's {@link ClientTimeoutHandler} ({@link #attachConnection}), an HTTP/2 stream, which has
 * no pipeline, directly ({@link #attachStream}). On a stream there is no idle or head time to
 * watch: the stream opens with its whole head (the frame codec gathered it) and carries one
 * request, and the connection's idle time is {@code listener.Http2ConnectionTimeouts}'s. A stream
 * is timed only while it waits for its client (a body, a reader), so most streams never schedule a
 * task. Fields are event-loop confined.
 */
public final class ClientTimeouts {
  /** User event fired when a request head did not arrive in time. */
  public static final Object HEADER_TIMEOUT = new Object() {
    @Override
    public String toString() {
      return "HEADER_TIMEOUT";
    }
  };

  /** User event fired when a request body stopped arriving. */
  public static final Object BODY_TIMEOUT = new Object() {
    @Override
    public String toString() {
      return "BODY_TIMEOUT";
    }
  };

  /** User event fired when the client sent its body, or took its response, too slowly. */
  public static final Object CLIENT_TOO_SLOW = new Object() {
    @Override
    public String toString() {
      return "CLIENT_TOO_SLOW";
    }
  };

  private enum State { IDLE, HEAD, EXCHANGE, EXPIRED }

  private final long idleNanos;
  private final long headerNanos;
  private final LongSupplier clock;
  private final MinRate bodyRate;
  private final long minReadRate;
  private final MinRate readRate;
  /**
   * What the client has taken of its responses so far, as its side knows it: a connection, what
   * left its outbound buffer; an HTTP/2 stream, the bytes its flow-control window let out (RFC 9113
   * §5.2). Asked only while a minimum read rate is judged.
   */
  private LongSupplier taken;
  private long drainedSeen;
  private State state = State.IDLE;
  /** The state {@link #suspend} left, while suspended; else null. */
  private State suspendedIn;
  private boolean bodyPending;
  /** A read was asked for during the body and no byte has arrived since; from {@code waitSince}. */
  private boolean waitingForClient;
  private long waitSince;
  /** The client is not taking its response (channel unwritable), from {@code stalledSince}. */
  private boolean stalledWriting;
  private long stalledSince;
  /** When the current state times out; Long.MAX_VALUE when nothing is timed. */
  private long deadline = Long.MAX_VALUE;
  /** An HTTP/2 stream's ({@link #attach}): no idle or head deadline. */
  private boolean stream;
  /** The one task for every deadline; made when first needed (most HTTP/2 streams never need it). */
  private LazyTimer timer;
  /** Where the timer runs, whether the side is still open, and where the events go. */
  private EventExecutor executor;
  private BooleanSupplier active;
  private Consumer<Object> events;
  /** What an idle connection's timeout does (closes it); none on a stream. */
  private Runnable idleClose;

  public ClientTimeouts(long idleNanos, long headerNanos, LongSupplier clock) {
    this(idleNanos, headerNanos, 0, 0, 1, clock);
  }

  /**
   * @param minBodyRate bytes per second of request body; 0 = no minimum
   * @param minReadRate bytes per second the client must take its response at; 0 = no minimum
   * @param rateWindowNanos waiting time over which both rates are judged
   */
  public ClientTimeouts(
      long idleNanos, long headerNanos, long minBodyRate, long minReadRate, long rateWindowNanos,
      LongSupplier clock) {
    this.idleNanos = idleNanos;
    this.headerNanos = headerNanos;
    this.clock = clock;
    this.bodyRate = new MinRate(minBodyRate, rateWindowNanos);
    this.readRate = new MinRate(minReadRate, rateWindowNanos);
    this.minReadRate = minReadRate;
  }

  /**
   * Times a connection (an HTTP/1 one: {@link ClientTimeoutHandler} calls this when it is added to
   * the pipeline, and {@link #connectionActive} once the connection is): its idle and head times
   * from its first request on. {@code idleClose} ends a connection whose idle time passed.
   */
  void attachConnection(EventExecutor executor, BooleanSupplier active, Consumer<Object> events, LongSupplier taken,
      Runnable idleClose) {
    attach(executor, active, events, taken);
    this.idleClose = idleClose;
  }

  /** The connection is active: its idle time runs (once, however often this is said). */
  void connectionActive() {
    if (timer == null || !timer.pending()) {
      start();
    }
  }

  /**
   * A new connection waits for its first request, whose first byte usually follows at once and
   * starts the (shorter) head timeout: the task is scheduled for the earlier of the two, so that
   * the head's deadline needs no new task, and moves itself on when it finds the idle one later.
   * A connection that sends one request and closes (no keep-alive) costs one task.
   */
  private void start() {
    if (stream) {
      return; // nothing to time until the stream waits for its client
    }
    state = State.IDLE;
    long now = clock.getAsLong();
    deadline = now + idleNanos;
    timer().schedule(executor, now + Math.min(idleNanos, headerNanos), now);
  }

  /**
   * Times an HTTP/2 stream, a client side without a pipeline (a stream of its connection's stream
   * table), which has no idle or head time of its own (the connection's timeouts have those): it
   * reports what happens to it and how much of its response the client has taken ({@code taken}),
   * and gets the events.
   */
  public void attachStream(EventExecutor executor, BooleanSupplier active, Consumer<Object> events, LongSupplier taken) {
    attach(executor, active, events, taken);
    this.stream = true;
  }

  private void attach(EventExecutor executor, BooleanSupplier active, Consumer<Object> events, LongSupplier taken) {
    this.executor = executor;
    this.active = active;
    this.events = events;
    this.taken = taken;
  }

  /** The side read {@code msg} (a connection's bytes, a stream's message for its proxy handler). */
  public void received(Object msg) {
    if (state == State.IDLE) {
      enter(State.HEAD);
    } else if (state == State.EXCHANGE) {
      if (bodyPending) {
        bodyRate.moved(size(msg));
      }
      if (waitingForClient) {
        waitingForClient = false; // a body byte arrived
        bodyRate.stopWaiting(clock.getAsLong());
        watchProgress();
      }
    }
  }

  /** The proxy asked for the next part of the request. */
  public void readAsked() {
    if (state == State.EXCHANGE && bodyPending && !waitingForClient) {
      waitingForClient = true;
      waitSince = clock.getAsLong();
      bodyRate.startWaiting(waitSince);
      watchProgress();
    }
  }

  /** The bytes of a message (a buffer, or a part of a body); 0 for anything else. */
  static long size(Object msg) {
    if (msg instanceof ByteBuf) {
      return ((ByteBuf) msg).readableBytes();
    }
    return msg instanceof ByteBufHolder ? ((ByteBufHolder) msg).content().readableBytes() : 0;
  }

  /** Counts what the client took from its response since the last look. */
  private void sampleDrained() {
    if (taken == null) {
      return;
    }
    long drained = taken.getAsLong();
    readRate.moved(Math.max(0, drained - drainedSeen));
    drainedSeen = drained;
  }

  /** The side became writable or not (the client takes its response, or stopped). */
  public void writabilityChanged(boolean writable) {
    boolean stalled = !writable;
    long now = clock.getAsLong();
    if (stalled && !stalledWriting) {
      stalledSince = now;
      if (state == State.EXCHANGE) {
        readRate.startWaiting(now);
      }
    } else if (!stalled && stalledWriting) {
      sampleDrained();
      readRate.stopWaiting(now);
    }
    stalledWriting = stalled;
    if (state == State.EXCHANGE) {
      watchProgress();
    }
  }

  /** A request head was decoded; {@code withBody} when a body is to follow. */
  public void exchangeStarted(boolean withBody) {
    state = State.EXCHANGE;
    bodyPending = withBody;
    waitingForClient = false;
    bodyRate.reset();
    readRate.reset();
    sampleDrained();
    readRate.reset(); // what was taken before this exchange does not count for it
    if (stalledWriting) {
      readRate.startWaiting(clock.getAsLong());
    }
    watchProgress();
  }

  /** The whole request body has arrived. */
  public void bodyComplete() {
    bodyPending = false;
    waitingForClient = false;
    bodyRate.reset();
    if (state == State.EXCHANGE) {
      watchProgress();
    }
  }

  /** The response was sent: the connection waits for the next request. */
  public void exchangeEnded() {
    if (suspendedIn != null) {
      suspendedIn = State.IDLE; // its response ended during a hand-off's freeze that did not hold
    }
    bodyPending = false;
    waitingForClient = false;
    bodyRate.reset();
    readRate.reset();
    if (state != State.EXPIRED) {
      enter(State.IDLE);
    }
  }

  /**
   * Holds every timeout while a hand-off takes the connection off this process's event loop: an
   * idle timeout's FIN would end the connection in the successor too. {@link #resume} times the
   * connection again where it was, if it stays here.
   */
  public void suspend() {
    if (state != State.EXPIRED) {
      suspendedIn = state;
      state = State.EXPIRED;
    }
  }

  /**
   * A timeout ended the connection (it is closing, or was answered with 408) and nothing is timed
   * any more; not while {@link #suspend}ed.
   */
  public boolean expired() {
    return state == State.EXPIRED && suspendedIn == null;
  }

  /** The connection stays here after a {@link #suspend}: its timeouts run again. */
  public void resume() {
    State was = suspendedIn;
    suspendedIn = null;
    if (was == null) {
      return;
    }
    if (was == State.EXCHANGE) {
      state = was;
      watchProgress();
    } else {
      enter(was);
    }
  }

  private void watchProgress() {
    long body = waitingForClient ? waitSince + idleNanos : Long.MAX_VALUE;
    long reader = stalledWriting ? stalledSince + idleNanos : Long.MAX_VALUE;
    deadline = Math.min(Math.min(body, reader), Math.min(bodyRate.windowEnd(), readRate.windowEnd()));
    ensureTimer();
  }

  private void enter(State next) {
    state = next;
    if (stream) {
      deadline = Long.MAX_VALUE; // a stream's head came whole, and it ends with its one exchange
      return;
    }
    long timeout = next == State.HEAD ? headerNanos : idleNanos;
    deadline = clock.getAsLong() + timeout;
    ensureTimer();
  }

  /** Makes sure the task fires no later than the deadline (none once expired). */
  private void ensureTimer() {
    long next = state == State.EXPIRED || executor == null ? Long.MAX_VALUE : deadline;
    if (next != Long.MAX_VALUE && !timer().firesBy(next)) {
      timer.schedule(executor, next, clock.getAsLong());
    }
  }

  private LazyTimer timer() {
    if (timer == null) {
      timer = new LazyTimer(this::onTimer);
    }
    return timer;
  }

  /**
   * The side ended: nothing more to time. A pending task holds these timeouts and, through them,
   * the whole connection: it is cancelled as soon as the side closes, or closed connections would
   * pile up until their timeouts.
   */
  public void closed() {
    if (timer != null) {
      timer.cancel();
    }
  }

  private void onTimer() {
    long now = clock.getAsLong();
    if (!active.getAsBoolean()) {
      return;
    }
    if (state == State.EXPIRED || deadline == Long.MAX_VALUE || now < deadline) {
      ensureTimer();
      return;
    }
    switch (state) {
      case IDLE:
        state = State.EXPIRED; // closing: nothing more to time, and a hand-off leaves it to close here
        idleClose.run();
        return;
      case HEAD:
        state = State.EXPIRED;
        events.accept(HEADER_TIMEOUT);
        break;
      default:
        onExchangeTimer(now);
    }
  }

  /** A deadline of the exchange passed: a timeout, a rate window that fell short, or a window that passed. */
  private void onExchangeTimer(long now) {
    Object expired = null;
    if (waitingForClient && now - waitSince >= idleNanos) {
      expired = BODY_TIMEOUT;
    } else if (bodyRate.tooSlow(now)) {
      expired = CLIENT_TOO_SLOW;
    } else if (stalledWriting && now - stalledSince >= idleNanos) {
      expired = CLIENT_TOO_SLOW; // the client stopped reading its response
    } else {
      sampleDrained();
      if (readRate.tooSlow(now)) {
        expired = CLIENT_TOO_SLOW;
      }
    }
    if (expired != null) {
      state = State.EXPIRED;
      events.accept(expired);
    } else {
      watchProgress(); // a window passed: time the next one
    }
  }
}
