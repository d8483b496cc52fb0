package io.gatehouse.relay;

import io.gatehouse.http.HopByHop;
import io.gatehouse.http.ServerCodec;
import io.gatehouse.http.UpstreamCodec;
import io.gatehouse.http.UpstreamResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;

/**
 * Not a test: CPU per response of the response-head path alone (the upstream codec's decode, the
 * relay's framing, the client codec's encode), by ranges and through header objects, alternated
 * in one JVM, thread CPU time. The client's request decode is included in both. Run:
 * {@code java -cp target/classes:target/test-classes:$(cat cp.txt) io.gatehouse.relay.ResponseHeadBench [N] [ROUNDS]}
 * with {@code cp.txt} from {@code mvn -o -q dependency:build-classpath -Dmdep.outputFile=cp.txt}.
 */
public final class ResponseHeadBench {
  /** The head nginx sends for a 1 KiB static file, and the body. */
  private static final String RESPONSE = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 13:41:37 GMT\r\n"
      + "Content-Type: text/plain\r\nContent-Length: 1024\r\nLast-Modified: Tue, 01 Dec 2026 13:29:42 GMT\r\n"
      + "Connection: keep-alive\r\nETag: \"6b0ecbc6-400\"\r\nAccept-Ranges: bytes\r\n\r\n" + "x".repeat(1024);
  private static final String REQUEST = "GET /1k HTTP/1.1\r\nHost: 127.0.0.1:28181\r\nUser-Agent: wrk\r\n\r\n";

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 6;
    String only = args.length > 2 ? args[2] : "both"; // "ranges" or "headers": one path, for a profile
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    EmbeddedChannel client = new EmbeddedChannel(new ServerCodec(8192, 65536));
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamCodec(8192, 65536));
    client.config().setAllocator(PooledByteBufAllocator.DEFAULT);
    upstream.config().setAllocator(PooledByteBufAllocator.DEFAULT);
    byte[] request = REQUEST.getBytes(StandardCharsets.US_ASCII);
    byte[] response = RESPONSE.getBytes(StandardCharsets.US_ASCII);
    run(client, upstream, request, response, n, true); // warm-up, both
    run(client, upstream, request, response, n, false);
    for (int round = 0; round < rounds; round++) {
      for (boolean ranges : new boolean[] {round % 2 == 0, round % 2 != 0}) {
        if (!only.equals("both") && ranges != only.equals("ranges")) {
          continue;
        }
        long t0 = threads.getCurrentThreadCpuTime();
        run(client, upstream, request, response, n, ranges);
        long ns = threads.getCurrentThreadCpuTime() - t0;
        System.out.printf("round %d %-8s %.3f us/response%n", round, ranges ? "ranges" : "headers", ns / 1000.0 / n);
      }
    }
    client.finishAndReleaseAll();
    upstream.finishAndReleaseAll();
  }

  private static void run(EmbeddedChannel client, EmbeddedChannel upstream, byte[] requestBytes, byte[] responseBytes,
      int n, boolean ranges) {
    for (int i = 0; i < n; i++) {
      client.writeInbound(PooledByteBufAllocator.DEFAULT.directBuffer(requestBytes.length).writeBytes(requestBytes));
      HttpRequest request = (HttpRequest) client.readInbound();
      ReferenceCountUtil.release(client.readInbound()); // its empty end
      Framing framing = Framing.ofRequest(request);
      upstream.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/1k", request.headers()),
          LastHttpContent.EMPTY_LAST_CONTENT);
      drain(upstream);
      upstream.writeInbound(PooledByteBufAllocator.DEFAULT.directBuffer(responseBytes.length).writeBytes(responseBytes));
      HttpResponse head = (HttpResponse) upstream.readInbound();
      HttpContent body = (HttpContent) upstream.readInbound();
      if (!ranges) {
        head.headers(); // someone reads them: the header-object path, as before issue 11's step
      }
      int flags = head instanceof UpstreamResponse parsed ? parsed.hopByHopFlags() : HopByHop.scan(head.headers());
      framing.prepareResponse(head, flags, true, true);
      client.write(head);
      client.write(body);
      client.flush();
      drain(client);
    }
  }

  private static void drain(EmbeddedChannel channel) {
    Object out;
    while ((out = channel.readOutbound()) != null) {
      ((ByteBuf) out).release();
    }
  }
}
