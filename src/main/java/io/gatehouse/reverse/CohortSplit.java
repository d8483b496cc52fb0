package io.gatehouse.reverse;

import io.gatehouse.upstream.Hashing;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * Sticky cohorts of a route that a deployment splits between its baseline (every other backend)
 * and its target: a client keeps the version it got while the split lasts. Compiled into the
 * route of the generation the deployment's step made, so the request path reads it like the
 * weights; a generation without a split (the deployment ended) has none, and stickiness ends.
 *
 * <p>Cookie form: the client's first pick is by weight, and the response sets a cookie naming the
 * cohort and the deployment ({@code target.1f2e3d4c}); a value naming another deployment or
 * anything else is no cookie, so a client can choose between the two versions at most, never an
 * arbitrary cluster. Hash forms (a header, the client address): a stable hash of the key and the
 * deployment gives the client a point in [0, 1); it is on the target while that point is below the
 * target's share, so a rising share only moves baseline clients to the target, never back.
 */
public final class CohortSplit {
  private final String target;
  private final String tag;
  /** Null for the hash forms. */
  private final String cookieName;
  private final String targetValue;
  private final String baselineValue;
  private final String targetCookie;
  private final String baselineCookie;
  /** Null for the cookie form. */
  private final RequestKey key;

  /** Which cluster serves the request, and the {@code Set-Cookie} value its response carries (or null). */
  record Pick(ClusterRuntime cluster, String setCookie) {}

  private CohortSplit(String deployment, String target, String cookieName, RequestKey key) {
    this.target = target;
    this.tag = String.format(Locale.ROOT, "%08x", (int) Hashing.hash(deployment));
    this.cookieName = cookieName;
    this.key = key;
    // RFC 6265 §4.1: HttpOnly keeps scripts away from it; SameSite=Lax (RFC 6265bis) is the
    // browsers' default made explicit. No Max-Age: a session cookie, the split is short-lived.
    this.targetValue = "target." + tag;
    this.baselineValue = "baseline." + tag;
    this.targetCookie = cookieName + "=" + targetValue + "; Path=/; HttpOnly; SameSite=Lax";
    this.baselineCookie = cookieName + "=" + baselineValue + "; Path=/; HttpOnly; SameSite=Lax";
  }

  /** @param cookieName an RFC 6265 token (checked where the deployment is asked for) */
  public static CohortSplit cookie(String deployment, String target, String cookieName) {
    return new CohortSplit(deployment, target, cookieName, null);
  }

  /** @param key the client's key: a header, or the client address */
  public static CohortSplit hashed(String deployment, String target, RequestKey key) {
    return new CohortSplit(deployment, target, null, key);
  }

  Pick pick(Route route, HttpRequest request, String clientIp, RandomGenerator random) {
    ClusterRuntime targetCluster = null;
    int targetWeight = 0;
    for (Route.WeightedCluster backend : route.backends()) {
      if (backend.cluster().name().equals(target)) {
        targetCluster = backend.cluster();
        targetWeight = backend.weight();
      }
    }
    int baselineWeight = route.totalWeight() - targetWeight;
    if (targetCluster == null || baselineWeight <= 0) {
      return new Pick(route.pickCluster(random.nextInt(Math.max(1, route.totalWeight()))), null); // no split now
    }
    if (cookieName != null) {
      String cohort = cohortCookie(request);
      if (cohort == null) {
        ClusterRuntime picked = route.pickCluster(random.nextInt(route.totalWeight()));
        return new Pick(picked, picked == targetCluster ? targetCookie : baselineCookie);
      }
      return new Pick(cohort.equals("target") ? targetCluster
          : baseline(route, random.nextInt(baselineWeight)), null);
    }
    String k = key.of(request, clientIp);
    if (k == null) {
      return new Pick(route.pickCluster(random.nextInt(route.totalWeight())), null); // nothing to keep it by
    }
    long h = Hashing.hash(tag + ':' + k);
    double point = (h >>> 11) * 0x1.0p-53; // the top 53 bits as a uniform point in [0, 1)
    if (point * route.totalWeight() < targetWeight) {
      return new Pick(targetCluster, null);
    }
    // Among several baseline clusters, the same client stays on the same one too: their weights keep
    // their proportions from step to step.
    double second = (h & ((1L << 11) - 1)) / (double) (1L << 11);
    return new Pick(baseline(route, (int) (second * baselineWeight)), null);
  }

  /** The baseline cluster at {@code roll} in [0, baseline weight), walking the backends but the target. */
  private ClusterRuntime baseline(Route route, int roll) {
    ClusterRuntime last = null;
    for (Route.WeightedCluster backend : route.backends()) {
      if (!backend.cluster().name().equals(target)) {
        last = backend.cluster();
        roll -= backend.weight();
        if (roll < 0) {
          return last;
        }
      }
    }
    return last;
  }

  /** "target" or "baseline" when the request carries this deployment's cohort cookie; null otherwise. */
  private String cohortCookie(HttpRequest request) {
    List<String> headers = request.headers().getAll(HttpHeaderNames.COOKIE);
    for (String header : headers) { // HTTP/2 may split cookies over several fields (RFC 9113 §8.2.3)
      for (Cookie cookie : ServerCookieDecoder.LAX.decode(header)) {
        if (cookie.name().equals(cookieName)) {
          String value = cookie.value();
          if (value.equals(targetValue)) {
            return "target";
          }
          if (value.equals(baselineValue)) {
            return "baseline";
          }
        }
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return cookieName != null ? "cohort cookie " + cookieName + " (target " + target + ")"
        : "cohort hash (target " + target + ")";
  }
}
