package io.gatehouse.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real {@code curl} binary where a real client's behaviour matters (proxy auth,
 * CONNECT tunnels, TLS). A test using it is skipped when curl is not installed. Proxy variables
 * from the environment and {@code ~/.curlrc} are ignored, so only what the test says applies.
 *
 * <pre>{@code
 * CurlResult r = Curl.get("http://127.0.0.1:" + upstream.port() + "/").proxy(proxyAddress).run();
 * }</pre>
 */
public final class Curl {

    private static final String STATUS_MARKER = "\n@@gatehouse-curl-status@@";
    private static final List<String> PROXY_VARIABLES = List.of("http_proxy", "https_proxy", "HTTP_PROXY",
            "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY");
    private static volatile Boolean available;

    private final String url;
    private final List<String> args = new ArrayList<>();
    private Duration maxTime = Duration.ofSeconds(10);

    private Curl(String url) {
        this.url = url;
    }

    public static Curl get(String url) {
        return new Curl(url);
    }

    /** {@code -x http://hostPort}; hostPort is "127.0.0.1:port" or a full proxy URL. */
    public Curl proxy(String hostPort) {
        return args("-x", hostPort.contains("://") ? hostPort : "http://" + hostPort);
    }

    public Curl proxyUser(String user, String password) {
        return args("--proxy-user", user + ":" + password);
    }

    /** {@code -p}: tunnel through the proxy with CONNECT even for http URLs. */
    public Curl proxytunnel() {
        return args("-p");
    }

    public Curl cacert(Path pem) {
        return args("--cacert", pem.toString());
    }

    public Curl header(String name, String value) {
        return args("-H", name + ": " + value);
    }

    public Curl method(String method) {
        return args("-X", method);
    }

    /** Sends {@code body} as-is, a leading '@' included ({@code --data-raw}), which makes it a POST. */
    public Curl data(String body) {
        return args("--data-raw", body);
    }

    public Curl verbose() {
        return args("-v");
    }

    /** Bounds the whole transfer ({@code --max-time}); the process is killed a little after. */
    public Curl maxTime(Duration maxTime) {
        this.maxTime = maxTime;
        return this;
    }

    /** Any further curl arguments, passed verbatim. */
    public Curl args(String... more) {
        args.addAll(List.of(more));
        return this;
    }

    public CurlResult run() {
        assumeAvailable();
        List<String> command = new ArrayList<>(List.of("curl", "-q", "-s", "-S",
                "--max-time", String.valueOf(maxTime.toMillis() / 1000.0),
                "-w", STATUS_MARKER + "%{http_code} %{http_connect}"));
        command.addAll(args);
        command.add(url);
        Path stdout = null;
        Path stderr = null;
        try {
            stdout = Files.createTempFile("curl", ".out");
            stderr = Files.createTempFile("curl", ".err");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile());
            Map<String, String> env = builder.environment();
            PROXY_VARIABLES.forEach(env::remove);
            Process process = builder.start();
            long waitSeconds = (long) Math.ceil(maxTime.toMillis() / 1000.0) + 5;
            if (!process.waitFor(waitSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("curl did not finish within " + waitSeconds + "s: " + command);
            }
            return parse(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                    Files.readString(stderr, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running curl", e);
        } finally {
            deleteQuietly(stdout);
            deleteQuietly(stderr);
        }
    }

    /** Skips the calling test (JUnit assumption) when curl cannot be run. */
    public static void assumeAvailable() {
        if (available == null) {
            available = probe();
        }
        Assumptions.assumeTrue(available, "curl is not installed");
    }

    private static CurlResult parse(int exitCode, String out, String err) {
        int marker = out.lastIndexOf(STATUS_MARKER);
        if (marker < 0) {
            return new CurlResult(exitCode, 0, 0, out, err);
        }
        String[] codes = out.substring(marker + STATUS_MARKER.length()).trim().split(" ");
        return new CurlResult(exitCode, parseCode(codes, 0), parseCode(codes, 1), out.substring(0, marker), err);
    }

    private static int parseCode(String[] codes, int index) {
        try {
            return index < codes.length ? Integer.parseInt(codes[index]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static boolean probe() {
        try {
            Process process = new ProcessBuilder("curl", "--version")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return false;
            }
            return process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // A leftover temp file is harmless.
            }
        }
    }
}
