package io.gatehouse.zerodowntime;

import io.gatehouse.zerodowntime.Tally.Kind;
import io.gatehouse.zerodowntime.Tally.Stream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One WebSocket client: a numbered message every 100 ms, each echo checked in order. A socket the
 * client did not close is a cut; then it opens a new one. At the end it waits for the last echo
 * and closes with 1000 (RFC 6455 §7.4.1).
 */
final class WebSocketLoop implements Runnable {
  static final long SEND_EVERY_MILLIS = 100;
  /** Echoes outstanding for this long mean they are lost, not late. */
  private static final int MAX_OUTSTANDING = 30;

  private final HttpClient client;
  private final URI uri;
  private final Tally tally;
  private final Load.Control control;

  WebSocketLoop(HttpClient client, int port, Tally tally, Load.Control control) {
    this.client = client;
    this.uri = URI.create("ws://127.0.0.1:" + port + "/ws");
    this.tally = tally;
    this.control = control;
  }

  @Override
  public void run() {
    try {
      while (control.running()) {
        if (!session()) {
          control.pause(Load.FAILURE_BACKOFF_MILLIS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One WebSocket from open to close; false when it failed. */
  private boolean session() throws InterruptedException {
    long start = System.nanoTime();
    Echoes echoes = new Echoes(tally);
    WebSocket socket;
    try {
      socket = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
          .buildAsync(uri, echoes).get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      Kind kind = cause instanceof ConnectException ? Kind.REFUSED
          : cause instanceof WebSocketHandshakeException ? Kind.BAD_STATUS : Kind.RESET;
      tally.fail(Stream.WEBSOCKET, kind, null, start, String.valueOf(cause));
      return false;
    } catch (TimeoutException e) {
      tally.fail(Stream.WEBSOCKET, Kind.TIMEOUT, null, start, "handshake");
      return false;
    }
    tally.webSocketsOpened.increment();
    long sent = 0;
    while (control.running()) {
      if (echoes.closed.isDone()) {
        tally.fail(Stream.WEBSOCKET, Kind.CUT, echoes.origin, start, echoes.closed.getNow("") + " after "
            + echoes.received + " echoes");
        return false;
      }
      if (echoes.mismatch != null || sent - echoes.received > MAX_OUTSTANDING) {
        tally.fail(Stream.WEBSOCKET, Kind.ECHO_LOST, echoes.origin, start,
            echoes.mismatch != null ? echoes.mismatch : (sent - echoes.received) + " echoes missing");
        socket.abort();
        return false;
      }
      try {
        socket.sendText(Long.toString(sent + 1), true).get(5, TimeUnit.SECONDS);
        sent++;
      } catch (ExecutionException | TimeoutException e) {
        continue; // the closed future reports it on the next turn
      }
      control.pause(SEND_EVERY_MILLIS);
    }
    long last = sent;
    Processes.await(() -> echoes.received >= last || echoes.closed.isDone(), 5);
    if (echoes.received < last) {
      tally.fail(Stream.WEBSOCKET, echoes.closed.isDone() ? Kind.CUT : Kind.ECHO_LOST, echoes.origin, start,
          (last - echoes.received) + " echoes missing at the end");
      socket.abort();
      return false;
    }
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
    Processes.await(() -> echoes.closed.isDone(), 5);
    socket.abort();
    tally.webSocketsClosedCleanly.increment();
    return true;
  }

  /** Receives the origin's greeting and the echoes; confined to the WebSocket's listener calls. */
  private static final class Echoes implements WebSocket.Listener {
    final CompletableFuture<String> closed = new CompletableFuture<>();
    private final Tally tally;
    private final StringBuilder text = new StringBuilder();
    volatile String origin;
    volatile long received;
    volatile String mismatch;

    Echoes(Tally tally) {
      this.tally = tally;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        String message = text.toString();
        text.setLength(0);
        if (message.startsWith("origin ")) {
          origin = message.substring("origin ".length());
        } else if (message.equals(Long.toString(received + 1))) {
          received++;
          tally.echoesOk.increment();
        } else if (mismatch == null) {
          mismatch = "expected echo " + (received + 1) + ", got " + message;
        }
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closed.complete("close " + statusCode + " " + reason);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed.complete("error " + error);
    }
  }
}
