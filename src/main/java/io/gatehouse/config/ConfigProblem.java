package io.gatehouse.config;

/**
 * One thing wrong with a config file, at the position where it was found.
 *
 * @param file file name as given by the user (or {@code <embedded>})
 * @param line 1-based line, 0 when unknown
 * @param column 1-based column, 0 when unknown
 * @param path config path such as {@code clusters[0].endpoints[1].weight}
 * @param message what is wrong, with the value and the expectation
 */
public record ConfigProblem(String file, int line, int column, String path, String message) {
  @Override
  public String toString() {
    return file + ":" + line + ":" + column + ": " + (path.isEmpty() ? "" : path + ": ") + message;
  }
}
