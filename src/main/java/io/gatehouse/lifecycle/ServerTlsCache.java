package io.gatehouse.lifecycle;

import io.gatehouse.config.CertificateConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.TlsConfig;
import io.gatehouse.listener.ServerTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The listeners' TLS contexts, kept from one generation to the next while a listener's TLS settings
 * and the bytes of its certificate and key files stay the same. A TLS context holds the server's
 * session cache and session-ticket keys: a reload that changes routes or clusters, or only another
 * listener, keeps them, so returning clients resume their sessions instead of all paying a full
 * handshake at once; a renewed certificate (its file's bytes changed) gets a new context. Called by
 * one thread at a time (the change lock of {@link Generations}).
 */
final class ServerTlsCache {
  /** A listener's TLS settings and a digest of each certificate's, key's and ticket key's file, in order. */
  private record Key(TlsConfig tls, List<String> fileDigests) {}

  /** The contexts of the last generation compiled in full. */
  private Map<Key, ServerTls> kept = Map.of();

  /** Builds the contexts of one generation's listeners, reusing the last generation's where they match. */
  final class Round {
    private final Map<Key, ServerTls> built = new HashMap<>();

    /** Null for a plain-TCP listener. */
    ServerTls forListener(ListenerConfig listener) throws IOException, CertificateException {
      if (listener.tls() == null || listener.tls().certificates().isEmpty()) {
        return null;
      }
      Key key = new Key(listener.tls(), digests(listener.tls()));
      ServerTls tls = built.get(key);
      if (tls == null) {
        tls = kept.get(key);
      }
      if (tls == null) {
        tls = TlsContexts.forListener(listener);
      }
      built.put(key, tls);
      return tls;
    }

    /** Every listener compiled: these are the ones the next round may reuse (others are let go). */
    void done() {
      kept = Map.copyOf(built);
    }
  }

  Round round() {
    return new Round();
  }

  private static List<String> digests(TlsConfig tls) throws IOException {
    List<String> digests = new ArrayList<>();
    for (CertificateConfig cert : tls.certificates()) {
      digests.add(digest(cert.cert()));
      digests.add(digest(cert.key()));
    }
    for (Path key : tls.sessionTicketKeys()) {
      digests.add(digest(key)); // a rotated key file takes effect at the reload
    }
    return digests;
  }

  private static String digest(Path file) throws IOException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
