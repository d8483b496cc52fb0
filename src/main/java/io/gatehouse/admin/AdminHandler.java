package io.gatehouse.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gatehouse.config.ConfigProblem;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes one admin request: keeps other sites' pages out ({@link BrowserGuard}), checks the token
 * (constant time), matches the route table (404 unknown path, 405 with {@code Allow} for a known
 * path and wrong method), runs the call on the admin worker and answers JSON. Every state-changing
 * call is logged as an audit line: who (client address), what, result.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
  private static final Logger audit = LoggerFactory.getLogger("io.gatehouse.audit");
  static final ObjectMapper JSON = new ObjectMapper();
  private static final long DRAIN_POLL_MILLIS = 20;

  private final byte[] expectedAuthorization;
  private final AdminBackend backend;
  private final Executor worker;

  AdminHandler(byte[] expectedAuthorization, AdminBackend backend, Executor worker) {
    this.expectedAuthorization = expectedAuthorization;
    this.backend = backend;
    this.worker = worker;
  }

  /**
   * A reply: status, content type, body; {@code allow} only for 405; {@code age} (seconds, -1 for
   * none) for an answer from state read earlier from the fleet's store.
   */
  record Reply(int status, String type, String body, String allow, long age) {
    Reply(int status, String type, String body, String allow) {
      this(status, type, body, allow, -1);
    }

    static Reply json(int status, JsonNode body) {
      try {
        return new Reply(status, "application/json", JSON.writeValueAsString(body) + "\n", null);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }

    static Reply error(int status, String field, String message) {
      ObjectNode body = JSON.createObjectNode().put("error", message);
      if (field != null) {
        body.put("field", field);
      }
      return json(status, body);
    }
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    String refusal = BrowserGuard.refusal(request, expectedAuthorization == null);
    if (refusal != null) {
      send(ctx, request, Reply.error(403, null, refusal));
      return;
    }
    if (!authorized(request)) {
      send(ctx, request, Reply.error(401, "Authorization", "missing or wrong bearer token"));
      return;
    }
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    List<String> segments = new ArrayList<>();
    for (String s : uri.rawPath().split("/")) {
      if (!s.isEmpty()) {
        segments.add(QueryStringDecoder.decodeComponent(s));
      }
    }
    String allow = allowed(segments);
    if (allow == null) {
      send(ctx, request, Reply.error(404, null, "not found: " + uri.path()));
      return;
    }
    if (!permits(allow, request.method())) {
      Reply reply = Reply.error(405, null, request.method() + " not allowed on " + uri.path() + " (allowed: " + allow + ")");
      send(ctx, request, new Reply(405, reply.type(), reply.body(), allow));
      return;
    }
    String body = request.content().toString(StandardCharsets.UTF_8);
    String param = uri.parameters().containsKey("wait") ? uri.parameters().get("wait").get(0) : null;
    String client = String.valueOf(ctx.channel().remoteAddress());
    request.retain();
    try {
      worker.execute(() -> {
        try {
          handle(ctx, request, segments, body, param, client);
        } finally {
          request.release();
        }
      });
    } catch (RejectedExecutionException e) {
      request.release();
      send(ctx, request, Reply.error(503, null, "admin API busy"));
    }
  }

  /** Whether {@code method} is one of {@code allow}'s, compared whole ({@code POS} is not {@code POST}). */
  static boolean permits(String allow, HttpMethod method) {
    for (String m : allow.split(", ")) {
      if (m.equals(method.name())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The methods allowed on a known path, or null for an unknown one. Every resource that answers
   * GET answers HEAD (RFC 9110 §9.1): monitors that probe {@code /health} with HEAD get its status.
   */
  static String allowed(List<String> p) {
    String allow = methodsOf(p);
    return allow == null || !allow.startsWith("GET") ? allow : allow.replace("GET", "GET, HEAD");
  }

  private static String methodsOf(List<String> p) {
    int n = p.size();
    if (n == 1 && (p.get(0).equals("metrics") || p.get(0).equals("health") || p.get(0).equals("ready"))) {
      return "GET";
    }
    if (n < 3 || !p.get(0).equals("api") || !p.get(1).equals("v1")) {
      return null;
    }
    String what = p.get(2);
    if (n == 3 && what.equals("reload")) {
      return "POST";
    }
    if (n == 3 && (what.equals("config") || what.equals("listeners") || what.equals("routes") || what.equals("clusters") || what.equals("fleet"))) {
      return "GET";
    }
    if (n == 3 && what.equals("deployments")) {
      return "GET, POST";
    }
    if (n == 4 && what.equals("deployments")) {
      return "GET";
    }
    if (n == 5 && what.equals("deployments") && List.of("promote", "pause", "resume", "rollback").contains(p.get(4))) {
      return "POST";
    }
    if (n == 4 && what.equals("clusters")) {
      return "GET";
    }
    if (n == 5 && what.equals("routes") && p.get(4).equals("backends")) {
      return "PUT";
    }
    if (n == 7 && what.equals("clusters") && p.get(4).equals("endpoints")
        && List.of("drain", "enable", "disable").contains(p.get(6))) {
      return "POST";
    }
    return null;
  }

  private void handle(ChannelHandlerContext ctx, FullHttpRequest request, List<String> p, String body, String wait,
      String client) {
    String what = String.join("/", p);
    boolean change = !request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD);
    Reply reply;
    try {
      reply = dispatch(ctx, request, p, body, wait, client);
    } catch (AdminException e) {
      reply = Reply.error(e.status(), e.field(), e.getMessage());
    } catch (RuntimeException e) {
      log.error("admin {} {} failed", request.method(), what, e);
      reply = Reply.error(500, null, "internal error: " + e.getMessage());
    }
    if (reply == null) {
      return; // answered later (drain with wait)
    }
    if (change) {
      audit.info("audit client={} {} /{} -> {} {}", client, request.method(), what, reply.status(), reply.body().strip());
    }
    send(ctx, request, reply);
  }

  private Reply dispatch(ChannelHandlerContext ctx, FullHttpRequest request, List<String> p, String body,
      String wait, String client) {
    if (p.size() == 1) {
      switch (p.get(0)) {
        case "metrics":
          return new Reply(200, "text/plain; version=0.0.4; charset=utf-8", backend.metricsText(), null);
        case "health":
          return Reply.json(200, JSON.createObjectNode().put("status", "up"));
        default:
          boolean ready = backend.ready();
          return Reply.json(ready ? 200 : 503, JSON.createObjectNode().put("ready", ready));
      }
    }
    switch (p.get(2)) {
      case "reload":
        return reload();
      case "config":
        return Reply.json(200, backend.config());
      case "listeners":
        return Reply.json(200, JSON.valueToTree(backend.listeners()));
      case "fleet":
        return Reply.json(200, backend.fleet());
      case "routes":
        if (p.size() == 3) {
          return Reply.json(200, JSON.valueToTree(backend.routes()));
        }
        return weights(p.get(3), body);
      case "deployments":
        if (p.size() == 3 && request.method().equals(HttpMethod.POST)) {
          return Reply.json(201, backend.startDeployment(DeploymentRequests.parse(body)));
        }
        if (p.size() == 3) {
          // From the last known list: answered while Redis is slow or down, its age in Age
          // (RFC 9111 §5.1: seconds since the state was read from its source).
          JsonNode list = backend.deployments();
          Reply r = Reply.json(200, list);
          return new Reply(r.status(), r.type(), r.body(), null, backend.deploymentsAgeSeconds());
        }
        if (p.size() == 4) {
          return Reply.json(200, backend.deployment(p.get(3)));
        }
        return Reply.json(200, backend.deploymentAction(p.get(3), p.get(4)));
      default:
        if (p.size() == 3) {
          return Reply.json(200, JSON.valueToTree(backend.clusters()));
        }
        if (p.size() == 4) {
          return Reply.json(200, JSON.valueToTree(backend.cluster(p.get(3))));
        }
        return endpoint(ctx, request, p.get(3), p.get(5), p.get(6), wait, client);
    }
  }

  private Reply reload() {
    AdminBackend.ReloadResult result = backend.reload();
    if (result.problems().isEmpty()) {
      return Reply.json(200, JSON.createObjectNode().put("reloaded", true).put("generation", result.generation()));
    }
    ArrayNode problems = JSON.createArrayNode();
    for (ConfigProblem problem : result.problems()) {
      problems.addObject().put("file", problem.file()).put("line", problem.line()).put("col", problem.column())
          .put("path", problem.path()).put("message", problem.message());
    }
    log.warn("reload through the admin API refused, generation {} stays in use:\n{}", result.generation(),
        String.join("\n", result.problems().stream().map(ConfigProblem::toString).toList()));
    ObjectNode reply = JSON.createObjectNode().put("generation", result.generation());
    reply.set("problems", problems);
    return Reply.json(422, reply);
  }

  private Reply weights(String route, String body) {
    JsonNode tree;
    try {
      tree = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw AdminException.badRequest("body", "not JSON: " + e.getOriginalMessage()
          + " (expected: [{\"cluster\":\"blue\",\"weight\":90}, ...])");
    }
    if (tree == null || !tree.isArray() || tree.isEmpty()) {
      throw AdminException.badRequest("body", "expected: a non-empty array [{\"cluster\":\"blue\",\"weight\":90}, ...]");
    }
    List<AdminBackend.BackendWeight> backends = new ArrayList<>();
    for (int i = 0; i < tree.size(); i++) {
      JsonNode item = tree.get(i);
      JsonNode cluster = item.get("cluster");
      JsonNode weight = item.get("weight");
      if (cluster == null || !cluster.isTextual() || cluster.asText().isEmpty()) {
        throw AdminException.badRequest("[" + i + "].cluster", "missing or not a string (expected: a cluster name)");
      }
      if (weight == null || !weight.canConvertToInt() || !weight.isIntegralNumber()) {
        throw AdminException.badRequest("[" + i + "].weight", "missing or not an integer (expected: 0..1000000)");
      }
      if (weight.asInt() < 0) {
        throw AdminException.badRequest("[" + i + "].weight", "weight: " + weight.asInt() + " (expected: >= 0)");
      }
      var it = item.fieldNames();
      while (it.hasNext()) {
        String name = it.next();
        if (!name.equals("cluster") && !name.equals("weight")) {
          throw AdminException.badRequest("[" + i + "]." + name, "unknown field (expected: cluster, weight)");
        }
      }
      backends.add(new AdminBackend.BackendWeight(cluster.asText(), weight.asInt()));
    }
    long generation = backend.setWeights(route, backends);
    ObjectNode reply = JSON.createObjectNode().put("route", route).put("generation", generation);
    reply.set("backends", JSON.valueToTree(backends));
    return Reply.json(200, reply);
  }

  private Reply endpoint(ChannelHandlerContext ctx, FullHttpRequest request, String cluster, String address,
      String action, String wait, String client) {
    Duration waitFor = null;
    if (wait != null) {
      if (!action.equals("drain")) {
        throw AdminException.badRequest("wait", "only drain waits");
      }
      waitFor = parseDuration(wait);
    }
    String state = switch (action) {
      case "drain" -> "draining";
      case "enable" -> "active";
      default -> "disabled";
    };
    AdminBackend.EndpointChange change = backend.setEndpointState(cluster, address, state);
    ObjectNode reply = JSON.createObjectNode().put("cluster", cluster).put("address", change.address())
        .put("state", change.state()).put("generation", change.generation());
    if (change.warning() != null) {
      reply.put("warning", change.warning());
    }
    if (waitFor == null) {
      reply.put("inFlight", backend.inFlight(cluster, address));
      return Reply.json(200, reply);
    }
    // An acknowledged drain: answered when in-flight reaches 0 (200) or the wait ends (202).
    // Polled from the connection's event loop by timer; the check itself runs on the worker.
    long deadline = System.nanoTime() + waitFor.toNanos();
    request.retain();
    pollDrain(ctx, request, cluster, address, reply, deadline, client);
    return null;
  }

  private void pollDrain(ChannelHandlerContext ctx, FullHttpRequest request, String cluster, String address,
      ObjectNode reply, long deadline, String client) {
    long left = backend.inFlight(cluster, address);
    boolean expired = System.nanoTime() - deadline >= 0;
    if (left == 0 || expired || !ctx.channel().isActive()) {
      reply.put("inFlight", left).put("drained", left == 0);
      Reply r = Reply.json(left == 0 ? 200 : 202, reply);
      audit.info("audit client={} POST drain {}/{} -> {} {}", client, cluster, address, r.status(), r.body().strip());
      send(ctx, request, r);
      request.release();
      return;
    }
    ctx.executor().schedule(() -> {
      try {
        worker.execute(() -> pollDrain(ctx, request, cluster, address, reply, deadline, client));
      } catch (RejectedExecutionException e) {
        request.release();
        ctx.close();
      }
    }, DRAIN_POLL_MILLIS, TimeUnit.MILLISECONDS);
  }

  static Duration parseDuration(String text) {
    Duration d = Durations.parseOrNull(text);
    if (d == null) {
      throw AdminException.badRequest("wait", "wait: '" + text + "' (expected: a duration such as 500ms, 30s, 2m)");
    }
    if (d.compareTo(Duration.ofMinutes(10)) > 0) {
      throw AdminException.badRequest("wait", "wait: " + text + " (expected: at most 10m)");
    }
    return d;
  }

  /** RFC 6750 bearer token, compared in constant time so its length and prefix do not leak. */
  private boolean authorized(FullHttpRequest request) {
    if (expectedAuthorization == null) {
      return true;
    }
    String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    return given != null && MessageDigest.isEqual(expectedAuthorization, given.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(ChannelHandlerContext ctx, FullHttpRequest request, Reply reply) {
    byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
    // A HEAD is answered with the head a GET would get, its Content-Length included (RFC 9110 §9.3.2).
    boolean head = request.method().equals(HttpMethod.HEAD);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(reply.status()), head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
    // The dashboard reads these in a browser: never cached (RFC 9111 §5.2.2.5), never sniffed.
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.type())
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
        .set("X-Content-Type-Options", "nosniff")
        .set(HttpHeaderNames.DATE, DateFormatter.format(new java.util.Date()));
    if (reply.allow() != null) {
      response.headers().set(HttpHeaderNames.ALLOW, reply.allow());
    }
    if (reply.age() >= 0) {
      response.headers().set(HttpHeaderNames.AGE, reply.age());
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    HttpUtil.setKeepAlive(response, keepAlive);
    if (keepAlive) {
      ctx.writeAndFlush(response);
    } else {
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
