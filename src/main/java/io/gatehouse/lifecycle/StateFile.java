package io.gatehouse.lifecycle;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.gatehouse.config.BackendRef;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigProblem;
import io.gatehouse.config.HostPort;
import io.gatehouse.deploy.Deployment;
import io.gatehouse.upstream.AdminState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The overrides on disk ({@code state.file}, JSON), so drains and weights survive a restart. Written
 * whole to a temporary file and moved into place, so a crash mid-write leaves the previous state. A
 * file that does not parse is refused with its position, never ignored: starting without the
 * operator's drains would send traffic to servers taken out of service.
 */
final class StateFile {
  static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** The file's shape; public for Jackson only. */
  public record Document(int version, Map<String, RouteWeights> routes, List<EndpointEntry> endpoints,
      List<Deployment> deployments) {}

  /** @param split null but during a step of a deployment with sticky cohorts */
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record RouteWeights(List<Backend> backends, List<Backend> fileBackends, io.gatehouse.deploy.Split split) {}

  public record Backend(String cluster, int weight) {}

  public record EndpointEntry(String cluster, String address, String state) {}

  private final Path file;
  /**
   * What the file holds besides the overrides: deployments (see {@code deploy.DeploymentStore}).
   * Each save writes both halves, so the last of each is kept here; guarded by {@code this}.
   */
  private Overrides lastOverrides = Overrides.NONE;
  private List<Deployment> lastDeployments = List.of();

  /** @param file null: nothing is persisted */
  StateFile(Path file) {
    this.file = file;
  }

  Path path() {
    return file;
  }

  /** The overrides in the file; none when there is no file yet. */
  synchronized Overrides load() throws ConfigException {
    if (file == null || !Files.exists(file)) {
      return Overrides.NONE;
    }
    try {
      Document doc = JSON.readValue(file.toFile(), Document.class);
      if (doc.version() != VERSION) {
        throw problem(0, 0, "version", "version " + doc.version() + " (expected: " + VERSION + ")");
      }
      lastDeployments = doc.deployments() == null ? List.of() : List.copyOf(doc.deployments());
      lastOverrides = toOverrides(doc);
      return lastOverrides;
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String path = e instanceof JsonMappingException m ? m.getPathReference().replace("io.gatehouse.lifecycle.", "")
          : "";
      throw problem(at == null ? 0 : at.getLineNr(), at == null ? 0 : at.getColumnNr(), path,
          e.getOriginalMessage() + " (expected: a state file written by Gatehouse; fix or remove it)");
    } catch (IOException e) {
      throw problem(0, 0, "", "cannot read: " + e.getMessage());
    }
  }

  private Overrides toOverrides(Document doc) throws ConfigException {
    Map<String, Overrides.Weights> weights = new LinkedHashMap<>();
    if (doc.routes() != null) {
      for (Map.Entry<String, RouteWeights> e : doc.routes().entrySet()) {
        RouteWeights rw = e.getValue();
        if (rw == null || rw.backends() == null || rw.fileBackends() == null) {
          throw problem(0, 0, "routes." + e.getKey(), "missing backends or fileBackends");
        }
        weights.put(e.getKey(), new Overrides.Weights(refs(rw.backends()), refs(rw.fileBackends()), rw.split()));
      }
    }
    Map<Overrides.EndpointKey, AdminState> endpoints = new LinkedHashMap<>();
    if (doc.endpoints() != null) {
      for (int i = 0; i < doc.endpoints().size(); i++) {
        EndpointEntry entry = doc.endpoints().get(i);
        try {
          endpoints.put(new Overrides.EndpointKey(entry.cluster(), HostPort.parse(entry.address())),
              AdminState.valueOf(entry.state().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException | NullPointerException e) {
          throw problem(0, 0, "endpoints[" + i + "]", "bad entry " + entry
              + " (expected: cluster, address host:port, state draining|disabled)");
        }
      }
    }
    return new Overrides(weights, endpoints);
  }

  private static List<BackendRef> refs(List<Backend> backends) {
    List<BackendRef> refs = new ArrayList<>();
    for (Backend b : backends) {
      refs.add(new BackendRef(b.cluster(), b.weight()));
    }
    return refs;
  }

  private static List<Backend> backends(List<BackendRef> refs) {
    List<Backend> list = new ArrayList<>();
    for (BackendRef r : refs) {
      list.add(new Backend(r.cluster(), r.weight()));
    }
    return list;
  }

  /** The deployments the file held at {@link #load}. */
  synchronized List<Deployment> deployments() {
    return lastDeployments;
  }

  /** Replaces the file's deployments, keeping its overrides. */
  synchronized void saveDeployments(List<Deployment> deployments) {
    lastDeployments = List.copyOf(deployments);
    write();
  }

  /** Replaces the file's overrides, keeping its deployments; no-op without a file. */
  synchronized void save(Overrides overrides) {
    lastOverrides = overrides;
    write();
  }

  private void write() {
    if (file == null) {
      return;
    }
    Overrides overrides = lastOverrides;
    Map<String, RouteWeights> routes = new LinkedHashMap<>();
    overrides.weights().forEach((route, w) ->
        routes.put(route, new RouteWeights(backends(w.backends()), backends(w.fileBackends()), w.split())));
    List<EndpointEntry> endpoints = new ArrayList<>();
    overrides.endpoints().forEach((key, state) ->
        endpoints.add(new EndpointEntry(key.cluster(), key.address().toString(), state.name().toLowerCase(Locale.ROOT))));
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      JSON.writeValue(tmp.toFile(), new Document(VERSION, routes, endpoints, lastDeployments));
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write state file " + file + ": " + e.getMessage(), e);
    }
  }

  private ConfigException problem(int line, int col, String path, String message) {
    return new ConfigException(List.of(new ConfigProblem(String.valueOf(file), line, col, path, message)));
  }
}
