package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Talks to a running instance's admin API for the operator commands. */
final class AdminClient {
  static final ObjectMapper JSON = new ObjectMapper();

  /** One answer: status and body (parsed when JSON, else null). */
  record Answer(int status, String text, JsonNode json) {
    boolean ok() {
      return status / 100 == 2;
    }

    /** The API's error message, or the raw body. */
    String error() {
      return json != null && json.has("error") ? json.get("error").asText() : text.strip();
    }
  }

  /** The admin API could not be reached or did not answer HTTP. */
  static final class Unreachable extends Exception {
    Unreachable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private AdminClient() {}

  static Answer call(String admin, String method, String path, String token, String body, Duration timeout)
      throws Unreachable {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + admin + path))
          .timeout(timeout)
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (body != null) {
        request.header("Content-Type", "application/json");
      }
      if (token != null && !token.isEmpty()) {
        request.header("Authorization", "Bearer " + token);
      }
      HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build()
          .send(request.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = null;
      if (response.headers().firstValue("content-type").orElse("").startsWith("application/json")) {
        json = JSON.readTree(response.body());
      }
      return new Answer(response.statusCode(), response.body(), json);
    } catch (IOException | IllegalArgumentException e) {
      throw new Unreachable("cannot reach the admin API at " + admin + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted", e);
    }
  }
}
