package io.gatehouse.admin;

import io.gatehouse.config.AdminConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.util.Locale;

/**
 * Keeps other web sites out of the admin API through the operator's own browser. Without a token
 * the API answers whoever can reach its loopback address, and a browser is such a client: any page
 * it shows can send a POST there ({@code fetch} in {@code no-cors} mode needs no permission), which
 * would drain, disable, reload or roll back; and a page whose name is made to resolve to 127.0.0.1
 * (DNS rebinding) can even read the answers, being "same-origin" with itself.
 *
 * <ul>
 *   <li>A request a browser marks as coming from another site ({@code Sec-Fetch-Site} other than
 *       {@code same-origin} or {@code none}), or whose {@code Origin} is not this API's own
 *       ({@code http://} or {@code https://} and its {@code Host}), is refused, token or not. The
 *       dashboard is served from the same origin; {@code curl}, the CLI and monitors send neither.
 *   <li>Without a token, a request must be addressed to a loopback name ({@code Host} is
 *       {@code localhost}, {@code 127.x.x.x} or {@code [::1]}, any port), which a rebound name is
 *       not. With a token, rebinding gains nothing: a browser never adds the bearer token by itself.
 * </ul>
 */
final class BrowserGuard {
  private BrowserGuard() {}

  /** Why {@code request} is refused, or null when it may go on. */
  static String refusal(HttpRequest request, boolean tokenless) {
    String site = request.headers().get("Sec-Fetch-Site");
    if (site != null && !site.equals("same-origin") && !site.equals("none")) {
      return "refused: a request from another site (Sec-Fetch-Site: " + site + ")";
    }
    String host = request.headers().get(HttpHeaderNames.HOST);
    String origin = request.headers().get(HttpHeaderNames.ORIGIN);
    if (origin != null && (host == null
        || !(origin.equalsIgnoreCase("http://" + host) || origin.equalsIgnoreCase("https://" + host)))) {
      return "refused: a request from another origin (Origin: " + origin + ")";
    }
    if (tokenless && host != null && !isLoopbackName(host)) {
      return "refused: Host '" + host + "' is not a loopback name; without admin.token the API answers only"
          + " requests addressed to localhost, 127.0.0.1 or [::1]";
    }
    return null;
  }

  /**
   * Whether a {@code Host} value names the loopback interface ({@link AdminConfig#isLoopback}: the
   * same rule that lets the admin API bind without a token), with or without a port.
   */
  static boolean isLoopbackName(String hostHeader) {
    String host = hostHeader.toLowerCase(Locale.ROOT);
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close < 0 || (close + 1 < host.length() && host.charAt(close + 1) != ':')) {
        return false;
      }
      return AdminConfig.isLoopback(host.substring(1, close));
    }
    int colon = host.indexOf(':');
    return AdminConfig.isLoopback(colon < 0 ? host : host.substring(0, colon));
  }
}
