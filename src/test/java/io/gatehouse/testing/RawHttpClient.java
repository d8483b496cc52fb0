package io.gatehouse.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A client on a plain {@link Socket} for byte-exact cases: it sends exactly what it is given and
 * parses responses by RFC 9112 §6.3 framing. Every read is bounded by the timeout (default 5s),
 * so a test never hangs on a silent peer; a timeout surfaces as {@link SocketTimeoutException}.
 */
public final class RawHttpClient implements AutoCloseable {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_LINE = 64 * 1024;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buffer = new byte[16 * 1024];
    private int position;
    private int limit;
    private boolean eof;

    private RawHttpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public static RawHttpClient connect(int port) throws IOException {
        return connect("127.0.0.1", port, DEFAULT_TIMEOUT);
    }

    public static RawHttpClient connect(String host, int port, Duration timeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(Math.toIntExact(timeout.toMillis()));
            socket.connect(new InetSocketAddress(host, port), Math.toIntExact(timeout.toMillis()));
            return new RawHttpClient(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Connects from {@code localHost} (any of 127.0.0.0/8 on Linux), so one test can be both a
     * trusted and an untrusted source.
     */
    public static RawHttpClient connectFrom(String localHost, int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(Math.toIntExact(DEFAULT_TIMEOUT.toMillis()));
            socket.bind(new InetSocketAddress(localHost, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), Math.toIntExact(DEFAULT_TIMEOUT.toMillis()));
            return new RawHttpClient(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** A client over an already connected socket (TLS layered over a raw one, say). */
    public static RawHttpClient over(Socket socket) throws IOException {
        return new RawHttpClient(socket);
    }

    /** Bound on each following read. */
    public RawHttpClient timeout(Duration timeout) throws SocketException {
        socket.setSoTimeout(Math.toIntExact(timeout.toMillis()));
        return this;
    }

    /** Sends the string's chars as bytes 0..255 (ISO-8859-1), so it can carry any raw byte. */
    public RawHttpClient send(String data) throws IOException {
        return send(data.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttpClient send(byte[] data) throws IOException {
        out.write(data);
        out.flush();
        return this;
    }

    /** Sends FIN; the peer sees end of input while this side can still read. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    public Socket socket() {
        return socket;
    }

    /** The next final response (1xx ones are collected in {@link RawResponse#informational()}). */
    public RawResponse readResponse() throws IOException {
        return readResponse("GET");
    }

    /** As {@link #readResponse()}, knowing the request method (a HEAD response has no body). */
    public RawResponse readResponse(String requestMethod) throws IOException {
        List<RawResponse> informational = new ArrayList<>();
        while (true) {
            String statusLine = readLine();
            if (statusLine == null) {
                throw new EOFException("connection closed before a response");
            }
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                throw new IOException("malformed status line: '" + statusLine + "'");
            }
            int status = Integer.parseInt(parts[1]);
            String reason = parts.length == 3 ? parts[2] : "";
            List<Map.Entry<String, String>> headers = readFields();
            if (status >= 100 && status < 200 && status != 101) {
                informational.add(new RawResponse(parts[0], status, reason, headers, new byte[0], List.of(),
                        List.of(), RawResponse.Framing.NONE));
                continue;
            }
            return readBody(parts[0], status, reason, headers, List.copyOf(informational), requestMethod);
        }
    }

    /**
     * The next response head, informational or not, without reading any body: for a client that
     * must see {@code 100 Continue} before it sends its body.
     */
    public RawResponse readHead() throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            throw new EOFException("connection closed before a response");
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("malformed status line: '" + statusLine + "'");
        }
        return new RawResponse(parts[0], Integer.parseInt(parts[1]), parts.length == 3 ? parts[2] : "", readFields(),
                new byte[0], List.of(), List.of(), RawResponse.Framing.NONE);
    }

    /** Everything until the peer closes; throws {@link SocketTimeoutException} if it stays silent. */
    public byte[] readAllUntilClose() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(buffer, position, limit - position);
        position = limit;
        while (fill()) {
            all.write(buffer, position, limit - position);
            position = limit;
        }
        return all.toByteArray();
    }

    /**
     * Whether the peer has closed (FIN or RST) within a short probe. Data that arrives meanwhile is
     * kept for the next read. False means "still open as far as 100 ms tell".
     */
    public boolean isClosedByPeer() throws IOException {
        if (position < limit) {
            return false;
        }
        int previous = socket.getSoTimeout();
        socket.setSoTimeout(100);
        try {
            return !fill();
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true;
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(previous);
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private RawResponse readBody(String version, int status, String reason, List<Map.Entry<String, String>> headers,
            List<RawResponse> informational, String requestMethod) throws IOException {
        String transferEncoding = first(headers, "Transfer-Encoding");
        String contentLength = first(headers, "Content-Length");
        if ("HEAD".equalsIgnoreCase(requestMethod) || status == 101 || status == 204 || status == 304
                || ("CONNECT".equalsIgnoreCase(requestMethod) && status / 100 == 2)) {
            return new RawResponse(version, status, reason, headers, new byte[0], List.of(), informational,
                    RawResponse.Framing.NONE);
        }
        if (transferEncoding != null && transferEncoding.toLowerCase().contains("chunked")) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine();
                if (sizeLine == null) {
                    throw new EOFException("connection closed in chunked body after " + body.size() + " bytes");
                }
                int semicolon = sizeLine.indexOf(';');
                long size = Long.parseLong((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
                if (size == 0) {
                    return new RawResponse(version, status, reason, headers, body.toByteArray(), readFields(),
                            informational, RawResponse.Framing.CHUNKED);
                }
                readExactly(size, body);
                String end = readLine();
                if (end == null || !end.isEmpty()) {
                    throw new IOException("chunk not followed by CRLF: '" + end + "'");
                }
            }
        }
        if (contentLength != null) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            readExactly(Long.parseLong(contentLength.trim()), body);
            return new RawResponse(version, status, reason, headers, body.toByteArray(), List.of(), informational,
                    RawResponse.Framing.CONTENT_LENGTH);
        }
        return new RawResponse(version, status, reason, headers, readAllUntilClose(), List.of(), informational,
                RawResponse.Framing.CLOSE);
    }

    private List<Map.Entry<String, String>> readFields() throws IOException {
        List<Map.Entry<String, String>> fields = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                throw new EOFException("connection closed inside a header section");
            }
            if (line.isEmpty()) {
                return fields;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed header line: '" + line + "'");
            }
            fields.add(Map.entry(line.substring(0, colon), line.substring(colon + 1).trim()));
        }
    }

    private void readExactly(long count, ByteArrayOutputStream target) throws IOException {
        long remaining = count;
        while (remaining > 0) {
            if (position == limit && !fill()) {
                throw new EOFException("connection closed after " + (count - remaining) + " of " + count + " bytes");
            }
            int n = (int) Math.min(remaining, limit - position);
            target.write(buffer, position, n);
            position += n;
            remaining -= n;
        }
    }

    /** A line without its CRLF (a bare LF is accepted), or null at end of stream before any byte. */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            if (position == limit && !fill()) {
                if (line.size() == 0) {
                    return null;
                }
                throw new EOFException("connection closed mid-line: '" + line.toString(StandardCharsets.ISO_8859_1) + "'");
            }
            byte b = buffer[position++];
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
            if (line.size() > MAX_LINE) {
                throw new IOException("line longer than " + MAX_LINE + " bytes");
            }
        }
    }

    /** Reads more into the empty buffer; false at end of stream. */
    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        int n = in.read(buffer, 0, buffer.length);
        if (n < 0) {
            eof = true;
            position = 0;
            limit = 0;
            return false;
        }
        position = 0;
        limit = n;
        return true;
    }

    private static String first(List<Map.Entry<String, String>> fields, String name) {
        return fields.stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue)
                .findFirst().orElse(null);
    }
}
