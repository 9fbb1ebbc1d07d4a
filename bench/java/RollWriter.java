// RollWriter: bench/roll's Java client. Writes through ZooKeeper's own Java
// client (org.apache.zookeeper.ZooKeeper) while an operation runs, to show
// what an application on the JVM sees, which the C-client write checker does
// not: the Java client waits a random 0-1 s before each reconnect, and a
// request sent while it is disconnected waits in its queue.
//
// Usage: java -cp <zookeeper jars>:<dir> RollWriter CONNECT_STRING INTERVAL_MS
//            SESSION_TIMEOUT_MS DIR
//
// Creates one persistent sequential znode <root>/w- every INTERVAL_MS (a
// request is sent at most once per interval; a failed one is not retried,
// the next one is sent at its own time). A write counts as acknowledged when
// create() returned its path; any exception counts as a failed write. On
// session expiry it opens a new session. Prints "ready" once 100 writes are
// acknowledged. When the file DIR/stop exists it prints one line
//   result acknowledged=N failed=N longest_gap_ms=N sessions=N first_error=...
// and exits. The longest gap runs from the first acknowledged write to the
// stop, between consecutive acknowledgements (and from the last one to the
// stop).
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public final class RollWriter {
  private static final int READY_AFTER = 100;

  private static ZooKeeper open(String connect, int sessionTimeoutMs) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(connect, sessionTimeoutMs, event -> {
      if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
    });
    if (!connected.await(30, TimeUnit.SECONDS)) {
      zk.close();
      throw new IllegalStateException("no session with " + connect + " within 30 s");
    }
    return zk;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: RollWriter CONNECT_STRING INTERVAL_MS SESSION_TIMEOUT_MS DIR");
      System.exit(2);
    }
    final String connect = args[0];
    final long intervalNs = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[1]));
    final int sessionTimeoutMs = Integer.parseInt(args[2]);
    final File stop = new File(args[3], "stop");
    final String root = "/zkpilot-java-" + Long.toHexString(System.nanoTime());

    ZooKeeper zk = open(connect, sessionTimeoutMs);
    int sessions = 1;
    zk.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

    long acknowledged = 0, failed = 0, counter = 0;
    long lastAck = 0, longestGapNs = 0;
    String firstError = "";
    long next = System.nanoTime();
    while (!stop.exists()) {
      long now = System.nanoTime();
      if (now < next) {
        TimeUnit.NANOSECONDS.sleep(next - now);
      }
      next = Math.max(next + intervalNs, System.nanoTime());
      try {
        zk.create(root + "/w-", Long.toString(++counter).getBytes(StandardCharsets.UTF_8),
            ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
        long at = System.nanoTime();
        if (lastAck != 0) longestGapNs = Math.max(longestGapNs, at - lastAck);
        lastAck = at;
        if (++acknowledged == READY_AFTER) {
          System.out.println("ready");
          System.out.flush();
        }
      } catch (KeeperException | InterruptedException e) {
        ++failed;
        if (firstError.isEmpty()) firstError = e.toString();
        if (e instanceof KeeperException.SessionExpiredException) {
          zk.close();
          zk = open(connect, sessionTimeoutMs);
          ++sessions;
        }
      }
    }
    if (lastAck != 0) longestGapNs = Math.max(longestGapNs, System.nanoTime() - lastAck);
    zk.close();
    System.out.println("result acknowledged=" + acknowledged + " failed=" + failed
        + " longest_gap_ms=" + TimeUnit.NANOSECONDS.toMillis(longestGapNs)
        + " sessions=" + sessions + " first_error=" + firstError.replace('\n', ' '));
    System.out.flush();
  }
}
