package io.gatehouse.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The dashboard's static files: a fixed table of URL path to classpath resource and content type,
 * read once when the admin listener starts. Only these paths are served, so there is no
 * file-system path to traverse ({@code /ui/../x} or {@code %2e%2e} simply match nothing). The
 * chart library is uPlot, served from its WebJar on the classpath.
 *
 * <p>Every asset carries a strong {@code ETag} (a hash of its bytes) and {@code Cache-Control:
 * no-cache}: the browser keeps a copy and revalidates it (RFC 9111 §5.2.2.4), so a new Gatehouse
 * version is seen at the next load and an unchanged file costs a 304.
 */
final class DashboardAssets {
  /**
   * Only same-origin scripts, styles, images and API calls; no inline script or style attribute,
   * no plugins, no framing (clickjacking on the action buttons), no form posts elsewhere.
   */
  static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
      + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private static final String OWN = "io/gatehouse/admin/dashboard/";
  private static final String UPLOT_POM = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
  private static final String HTML = "text/html; charset=utf-8";
  private static final String JS = "text/javascript; charset=utf-8";
  private static final String CSS = "text/css; charset=utf-8";

  /** One file: its bytes, content type and entity tag. */
  record Asset(byte[] bytes, String type, String etag) {}

  private final Map<String, Asset> assets;

  private DashboardAssets(Map<String, Asset> assets) {
    this.assets = assets;
  }

  /** Reads every asset; a missing one is a packaging bug and fails the admin listener's start. */
  static DashboardAssets load() {
    ClassLoader loader = DashboardAssets.class.getClassLoader();
    // The WebJar's files sit under its version: read it from the jar, so a version bump in the
    // pom needs no change here.
    String uplot = "META-INF/resources/webjars/uplot/" + webJarVersion(loader) + "/dist/";
    return new DashboardAssets(Map.of(
        "/", read(loader, OWN + "index.html", HTML),
        "/ui/app.js", read(loader, OWN + "app.js", JS),
        "/ui/view.js", read(loader, OWN + "view.js", JS),
        "/ui/charts.js", read(loader, OWN + "charts.js", JS),
        "/ui/app.css", read(loader, OWN + "app.css", CSS),
        "/ui/uPlot.esm.js", read(loader, uplot + "uPlot.esm.js", JS),
        "/ui/uPlot.min.css", read(loader, uplot + "uPlot.min.css", CSS)));
  }

  /** The asset at exactly this raw URL path, or null. */
  Asset get(String rawPath) {
    return assets.get(rawPath);
  }

  /** Whether a path belongs to the dashboard rather than the JSON API: its shell is public. */
  static boolean isDashboardPath(List<String> segments) {
    return segments.isEmpty() || segments.get(0).equals("ui");
  }

  private static String webJarVersion(ClassLoader loader) {
    try (InputStream in = loader.getResourceAsStream(UPLOT_POM)) {
      if (in == null) {
        throw new IllegalStateException("dashboard chart library missing from the jar: " + UPLOT_POM);
      }
      Properties pom = new Properties();
      pom.load(in);
      return pom.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + UPLOT_POM, e);
    }
  }

  private static Asset read(ClassLoader loader, String resource, String type) {
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("dashboard asset missing from the jar: " + resource);
      }
      byte[] bytes = in.readAllBytes();
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
      return new Asset(bytes, type, "\"" + HexFormat.of().formatHex(hash, 0, 12) + "\"");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dashboard asset " + resource, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
