package io.gatehouse.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Makes a Netty buffer leak fail the build. Registered for every test class through
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension} (autodetection is switched on
 * in {@code junit-platform.properties}); surefire runs with {@code -Dio.netty.leakDetection.level=paranoid}.
 *
 * <p>Netty reports a leak ({@code "LEAK: ..."}, logger {@code io.netty.util.ResourceLeakDetector})
 * only when the garbage collector has collected an unreleased buffer and a later allocation polls the
 * detector's queue. So after each test class this runs the collector, allocates a few tracked
 * buffers to make every common detector poll, and fails the class if any report arrived. A report
 * can belong to an earlier class (collection is not prompt); the message says so.
 */
public final class LeakDetectionExtension implements BeforeAllCallback, AfterAllCallback {
  private static final String DETECTOR_LOGGER = ResourceLeakDetector.class.getName();
  private static final Recorder RECORDER = install();
  /** The test class the extension was last started for: lets a test check the global registration. */
  private static volatile Class<?> current;

  @Override
  public void beforeAll(ExtensionContext context) {
    current = context.getRequiredTestClass();
    RECORDER.drain(); // reports seen before this class were failed by the class that saw them
  }

  static Class<?> currentTestClass() {
    return current;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<String> leaks = collectLeaks();
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " Netty resource leak(s) reported while or after running "
          + context.getDisplayName() + " (a leak may come from an earlier test class):\n"
          + String.join("\n---\n", leaks));
    }
  }

  /** Runs the collector, makes the detectors poll, and returns (and forgets) the reports since the last call. */
  public static List<String> collectLeaks() {
    for (int round = 0; round < 3; round++) {
      System.gc();
      System.runFinalization();
      provokeReports();
    }
    return RECORDER.drain();
  }

  /** Every tracked allocation makes the detector of its type report what was collected unreleased. */
  private static void provokeReports() {
    ByteBufAllocator[] allocators = {
      ByteBufAllocator.DEFAULT, PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT
    };
    for (ByteBufAllocator alloc : allocators) {
      for (int i = 0; i < 4; i++) {
        ByteBuf direct = alloc.directBuffer(16);
        direct.release();
        ByteBuf heap = alloc.heapBuffer(16);
        heap.release();
      }
    }
  }

  private static Recorder install() {
    if (ResourceLeakDetector.getLevel().ordinal() < ResourceLeakDetector.Level.PARANOID.ordinal()) {
      // Surefire sets paranoid; an IDE run without the argLine still gets full checking.
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }
    Recorder recorder = new Recorder();
    Logger logger = (Logger) LoggerFactory.getLogger(DETECTOR_LOGGER);
    if (logger.getLevel() == null || !logger.isErrorEnabled()) {
      logger.setLevel(Level.ERROR);
    }
    recorder.setContext(logger.getLoggerContext());
    recorder.setName("netty-leak-recorder");
    recorder.start();
    logger.addAppender(recorder);
    return recorder;
  }

  /** Keeps every leak report logged by Netty. */
  private static final class Recorder extends AppenderBase<ILoggingEvent> {
    private final List<String> reports = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
      String message = event.getFormattedMessage();
      if (message != null && message.contains("LEAK:")) {
        synchronized (reports) {
          reports.add(message);
        }
      }
    }

    List<String> drain() {
      synchronized (reports) {
        List<String> copy = List.copyOf(reports);
        reports.clear();
        return copy;
      }
    }
  }
}
