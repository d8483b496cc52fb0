package io.gatehouse.admin;

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

  /** {@code localhost}, an IPv4 literal in 127.0.0.0/8 or {@code [::1]}, with or without a port. */
  static boolean isLoopbackName(String hostHeader) {
    String host = hostHeader.toLowerCase(Locale.ROOT);
    if (host.startsWith("[")) {
      return host.equals("[::1]") || host.startsWith("[::1]:");
    }
    int colon = host.indexOf(':');
    if (colon >= 0) {
      host = host.substring(0, colon);
    }
    return host.equals("localhost") || isIpv4Loopback(host);
  }

  private static boolean isIpv4Loopback(String host) {
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4 || !parts[0].equals("127")) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')
          || Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }
}
