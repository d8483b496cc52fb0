package io.gatehouse.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads YAML text into a {@link YamlNode} tree with positions, substituting {@code ${VAR}} in
 * scalars. Jackson's streaming parser is used instead of data binding because binding loses the
 * positions and stops at the first error.
 */
final class YamlTreeReader {
  private static final YAMLFactory FACTORY = new YAMLFactory();

  private final Problems problems;
  private final EnvSubstitution env;
  private JsonParser parser;

  YamlTreeReader(Problems problems, Map<String, String> env) {
    this.problems = problems;
    this.env = new EnvSubstitution(env);
  }

  /** Returns the root node, or null when the text is empty or cannot be parsed (a problem is added). */
  YamlNode read(String yaml) {
    try (JsonParser p = FACTORY.createParser(yaml)) {
      parser = p;
      JsonToken first = p.nextToken();
      if (first == null) {
        return null;
      }
      YamlNode root = readValue(first, "");
      if (p.nextToken() != null) {
        problems.add(pos(p.currentTokenLocation()), "", "more than one YAML document (expected: one)");
      }
      return root;
    } catch (JsonProcessingException e) {
      problems.add(pos(e.getLocation()), "", "invalid YAML: " + summary(e.getOriginalMessage()));
      return null;
    } catch (IOException e) {
      problems.add(YamlNode.Pos.UNKNOWN, "", "cannot read YAML: " + e.getMessage());
      return null;
    }
  }

  private YamlNode readValue(JsonToken token, String path) throws IOException {
    YamlNode.Pos pos = pos(parser.currentTokenLocation());
    switch (token) {
      case START_OBJECT:
        return readMap(pos, path);
      case START_ARRAY:
        return readList(pos, path);
      case VALUE_NULL:
        return new YamlNode.Scalar(null, pos);
      default:
        String text = env.apply(parser.getText(), pos, path, problems);
        return new YamlNode.Scalar(text, pos);
    }
  }

  private YamlNode readMap(YamlNode.Pos pos, String path) throws IOException {
    Map<String, YamlNode.Entry> entries = new LinkedHashMap<>();
    for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
      String key = parser.currentName();
      YamlNode.Pos keyPos = pos(parser.currentTokenLocation());
      String keyPath = Paths.child(path, key);
      YamlNode value = readValue(parser.nextToken(), keyPath);
      if (entries.containsKey(key)) {
        problems.add(keyPos, keyPath, "duplicate key '" + key + "'");
      } else {
        entries.put(key, new YamlNode.Entry(key, keyPos, value));
      }
    }
    return new YamlNode.MapNode(entries, pos);
  }

  private YamlNode readList(YamlNode.Pos pos, String path) throws IOException {
    List<YamlNode> items = new ArrayList<>();
    for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
      items.add(readValue(t, Paths.index(path, items.size())));
    }
    return new YamlNode.ListNode(items, pos);
  }

  /** SnakeYAML's message without its source excerpts and carets, which the position replaces. */
  private static String summary(String message) {
    StringBuilder out = new StringBuilder();
    for (String line : message.split("\n")) {
      if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
        out.append(out.length() == 0 ? "" : "; ").append(line.strip());
      }
    }
    return out.length() == 0 ? message.strip() : out.toString();
  }

  private static YamlNode.Pos pos(JsonLocation location) {
    if (location == null || location.getLineNr() <= 0) {
      return YamlNode.Pos.UNKNOWN;
    }
    return new YamlNode.Pos(location.getLineNr(), Math.max(location.getColumnNr(), 0));
  }
}
