package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gatehouse.testing.ProxyUnderTest;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * gRPC through Gatehouse with real grpc-java on both sides (its own Netty, shaded): the client
 * speaks HTTP/2 with prior knowledge to a cleartext listener, the cluster speaks HTTP/2 to the
 * server ({@code protocol: h2}). Unary calls, a status error (a trailers-only answer), server
 * streaming, client streaming and bidirectional streaming must all work as they do directly, which
 * needs {@code te: trailers} on the way in, trailers on the way out and both directions streaming
 * at once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcThroughGatehouseTest {
  private Server server;
  private ProxyUnderTest proxy;
  private ManagedChannel channel;
  private SimpleServiceGrpc.SimpleServiceBlockingStub blocking;

  /** Echoes; "missing" is NOT_FOUND; streams answer each message in turn. */
  private static final class Echo extends SimpleServiceGrpc.SimpleServiceImplBase {
    @Override
    public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> responses) {
      if (request.getRequestMessage().equals("missing")) {
        responses.onError(Status.NOT_FOUND.withDescription("no such thing").asRuntimeException());
        return;
      }
      responses.onNext(reply("echo " + request.getRequestMessage()));
      responses.onCompleted();
    }

    @Override
    public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> responses) {
      int n = Integer.parseInt(request.getRequestMessage());
      for (int i = 0; i < n; i++) {
        responses.onNext(reply("part " + i + " " + "x".repeat(1000)));
      }
      responses.onCompleted();
    }

    @Override
    public StreamObserver<SimpleRequest> clientStreamingRpc(StreamObserver<SimpleResponse> responses) {
      List<String> seen = new ArrayList<>();
      return new StreamObserver<>() {
        @Override
        public void onNext(SimpleRequest request) {
          seen.add(request.getRequestMessage());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onNext(reply(String.join(",", seen)));
          responses.onCompleted();
        }
      };
    }

    @Override
    public StreamObserver<SimpleRequest> bidiStreamingRpc(StreamObserver<SimpleResponse> responses) {
      return new StreamObserver<>() {
        @Override
        public void onNext(SimpleRequest request) {
          responses.onNext(reply("re: " + request.getRequestMessage()));
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }
  }

  private static SimpleResponse reply(String text) {
    return SimpleResponse.newBuilder().setResponseMessage(text).build();
  }

  private static SimpleRequest request(String text) {
    return SimpleRequest.newBuilder().setRequestMessage(text).build();
  }

  @BeforeEach
  void start() throws Exception {
    server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(new Echo()).build().start();
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: grpc, bind: 127.0.0.1:0, mode: reverse, http2: { cleartext: true } } ]
        routes: [ { name: all, cluster: echo } ]
        clusters: [ { name: echo, protocol: h2, endpoints: ["127.0.0.1:${PORT}"] } ]
        """, Map.of("PORT", Integer.toString(server.getPort())));
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", proxy.port(), InsecureChannelCredentials.create()).build();
    blocking = SimpleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (proxy != null) {
      proxy.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void unary_calls_and_a_status_error() {
    for (int i = 0; i < 20; i++) {
      assertThat(blocking.unaryRpc(request("hi " + i)).getResponseMessage()).isEqualTo("echo hi " + i);
    }
    assertThatThrownBy(() -> blocking.unaryRpc(request("missing")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo("no such thing");
        });
  }

  @Test
  void server_streaming() {
    Iterator<SimpleResponse> parts = blocking.serverStreamingRpc(request("300"));
    int n = 0;
    while (parts.hasNext()) {
      assertThat(parts.next().getResponseMessage()).startsWith("part " + n + " ");
      n++;
    }
    assertThat(n).isEqualTo(300);
  }

  /** What a call answered: its messages as they come, and how it ended. */
  private static final class Answers implements StreamObserver<SimpleResponse> {
    final java.util.concurrent.BlockingQueue<String> messages = new java.util.concurrent.LinkedBlockingQueue<>();
    final CountDownLatch done = new CountDownLatch(1);
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    @Override
    public void onNext(SimpleResponse response) {
      messages.add(response.getResponseMessage());
    }

    @Override
    public void onError(Throwable t) {
      failure.set(t);
      done.countDown();
    }

    @Override
    public void onCompleted() {
      done.countDown();
    }

    void awaitSuccess() throws InterruptedException {
      assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
      assertThat(failure.get()).isNull();
    }
  }

  @Test
  void client_streaming() throws Exception {
    Answers answers = new Answers();
    StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel).clientStreamingRpc(answers);
    for (int i = 0; i < 50; i++) {
      requests.onNext(request(Integer.toString(i)));
    }
    requests.onCompleted();
    answers.awaitSuccess();
    assertThat(answers.messages.poll()).startsWith("0,1,2,").endsWith(",49");
  }

  @Test
  void bidirectional_streaming_answers_each_message_before_the_client_is_done() throws Exception {
    Answers answers = new Answers();
    StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel).bidiStreamingRpc(answers);
    for (int i = 0; i < 10; i++) {
      requests.onNext(request("m" + i));
      // Each answer comes back while the request stream is still open: a ping-pong, not a batch.
      assertThat(answers.messages.poll(10, TimeUnit.SECONDS)).as("answer to m" + i + ", failure " + answers.failure.get())
          .isEqualTo("re: m" + i);
    }
    requests.onCompleted();
    answers.awaitSuccess();
  }
}
