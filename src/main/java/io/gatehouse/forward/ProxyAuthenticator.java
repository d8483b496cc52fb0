package io.gatehouse.forward;

import io.gatehouse.config.AuthConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Proxy Basic authentication (RFC 9110 §11.7.1, RFC 7617) against an htpasswd file of bcrypt
 * entries, loaded once when the listener is built.
 *
 * <p>bcrypt costs tens of milliseconds by design, so it never runs on an event loop: a credential
 * seen for the first time is verified on a small bounded executor and the answer handed back to the
 * caller's loop. Successful credentials are cached by their exact header value (bounded), so a
 * client's later requests cost one map lookup. Failures are not cached: a wrong password must keep
 * costing a bcrypt.
 */
final class ProxyAuthenticator {
  private static final int MAX_CACHED = 10_000;

  private final String realm;
  private final Map<String, String> hashes;
  /** A hash verified against when the user is unknown, so timing does not reveal user names. */
  private final String dummyHash;
  private final Executor verifier;
  /** Header value -> user name of credentials that verified; shared by all loops. */
  private final ConcurrentHashMap<String, String> verified = new ConcurrentHashMap<>();

  /** How a verification ended. */
  enum Outcome { OK, BAD_CREDENTIALS, OVERLOADED }

  /** Receives a verification's result on the executor that was passed in. */
  interface Callback {
    void done(Outcome outcome, String user);
  }

  ProxyAuthenticator(String realm, Map<String, String> hashes, Executor verifier) {
    this.realm = realm;
    this.hashes = Map.copyOf(hashes);
    this.verifier = verifier;
    // Same cost as the real entries, or an unknown user would answer measurably faster.
    int cost = hashes.values().stream().findFirst().map(ProxyAuthenticator::cost).orElse(10);
    this.dummyHash = BCrypt.hashpw("gatehouse", BCrypt.gensalt(cost));
  }

  private static int cost(String hash) {
    try {
      return Math.max(4, Math.min(31, Integer.parseInt(hash.substring(4, 6))));
    } catch (RuntimeException e) {
      return 10;
    }
  }

  static ProxyAuthenticator load(AuthConfig config, Executor verifier) {
    Map<String, String> hashes = new HashMap<>();
    try {
      int lineNo = 0;
      for (String line : Files.readAllLines(config.users(), StandardCharsets.UTF_8)) {
        lineNo++;
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int colon = line.indexOf(':');
        String hash = colon < 0 ? "" : line.substring(colon + 1);
        if (colon <= 0 || !(hash.startsWith("$2a$") || hash.startsWith("$2b$") || hash.startsWith("$2y$"))) {
          throw new IllegalArgumentException(config.users() + ":" + lineNo
              + ": not a bcrypt htpasswd entry (expected: user:$2y$..., made with htpasswd -nbB)");
        }
        // Apache's $2y$ and OpenBSD's $2b$ are the same algorithm as $2a$ for the verifier.
        hashes.put(line.substring(0, colon), "$2a$" + hash.substring(4));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + config.users(), e);
    }
    return new ProxyAuthenticator(config.realm(), hashes, verifier);
  }

  String realm() {
    return realm;
  }

  /** The user of credentials already verified, or null when they must be verified first. */
  String cachedUser(String header) {
    return header == null ? null : verified.get(header);
  }

  /**
   * Verifies {@code header} (a {@code Proxy-Authorization} value) off the event loop and calls
   * {@code callback} on {@code resume}.
   */
  void verify(String header, Executor resume, Callback callback) {
    String[] credentials = decode(header);
    if (credentials == null) {
      callback.done(Outcome.BAD_CREDENTIALS, null);
      return;
    }
    try {
      verifier.execute(() -> {
        boolean ok = check(credentials[0], credentials[1]);
        if (ok) {
          if (verified.size() >= MAX_CACHED) {
            verified.clear(); // crude bound; a burst of re-verification is the only cost
          }
          verified.put(header, credentials[0]);
        }
        resume.execute(() -> callback.done(ok ? Outcome.OK : Outcome.BAD_CREDENTIALS, ok ? credentials[0] : null));
      });
    } catch (RejectedExecutionException e) {
      callback.done(Outcome.OVERLOADED, null);
    }
  }

  private boolean check(String user, String password) {
    String hash = hashes.get(user);
    try {
      boolean ok = BCrypt.checkpw(password, hash == null ? dummyHash : hash);
      return ok && hash != null;
    } catch (IllegalArgumentException e) {
      return false; // malformed hash in the file
    }
  }

  /** {@code Basic base64(user:password)}, scheme case-insensitive (RFC 9110 §11.1); null if not. */
  static String[] decode(String header) {
    if (header == null || header.length() < 6 || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    if (colon <= 0) {
      return null;
    }
    return new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
  }
}
