package io.gatehouse.cli;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Talks to a running instance's admin API for {@code reload} and {@code status}. */
final class AdminClient {
  private AdminClient() {}

  static int call(String admin, String method, String path, String token) {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + admin + path))
          .timeout(Duration.ofSeconds(10))
          .method(method, HttpRequest.BodyPublishers.noBody());
      if (token != null && !token.isEmpty()) {
        request.header("Authorization", "Bearer " + token);
      }
      HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build()
          .send(request.build(), HttpResponse.BodyHandlers.ofString());
      (response.statusCode() / 100 == 2 ? System.out : System.err).print(response.body());
      return response.statusCode() / 100 == 2 ? 0 : 1;
    } catch (Exception e) {
      System.err.println("cannot reach the admin API at " + admin + ": " + e);
      return 1;
    }
  }
}
