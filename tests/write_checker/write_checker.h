// WriteChecker: keeps writing to a ZooKeeper ensemble while an operation runs
// on it, then proves that no acknowledged write was lost.
//
// What it proves. Between Start() and Stop() a writer thread creates
// persistent sequential znodes `<root>/w-NNNNNNNNNN`, one every
// `write_interval`, each holding a counter. A write counts as acknowledged
// only when the server answered OK with the created path; requests that fail
// (connection loss, session expiry, no quorum) are counted as failed and are
// not acknowledged, even if ZooKeeper applied them. After Stop() a fresh
// session syncs with the leader and reads `<root>`'s children back: every
// acknowledged path must be there, holding its own counter. Anything missing
// or different is `lost`, which a correct operation keeps at zero: ZooKeeper
// acknowledges a write once a quorum has logged it, so an operation that
// never loses quorum state (no data wiped, no two leaders of diverging
// histories) cannot lose it. Failed writes and the longest gap between two
// acknowledged writes measure the availability cost of the operation.
//
// The session lists every server, so it fails over when one goes away; a
// short session timeout bounds how long a call blocks.
//
// TLS. With `tls` set the writer's sessions go over TLS with those files
// (ZkConnectOptions::tls: an in-process tunnel, the session authenticated as
// the certificate's subject) and `srvr` is asked over TLS too. UseTls()
// switches transport while writing, as an application moving to (or off) TLS
// during a migration does: the new session is opened first, outside the
// writer, and swapped in between two writes; the monitor follows at its next
// poll and the read-back uses it. A swap loses no write by itself, so any
// failure comes from the servers. On an error the writer
// keeps its session while the C client reconnects, and opens a new one when
// the session expired or stayed unusable for a session timeout.
//
// A monitor thread asks every server for `srvr` every `poll_interval` and
// counts leader elections as increases of the highest epoch (zxid >> 32) any
// serving server reports; it also records the order in which servers were
// seen leading.
//
// Thread-safety: Start(), UseTls() and Stop() from one thread; acknowledged()
// and failed() from any thread while it runs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/tls_transport.h"
#include "zk/zk_client.h"

namespace zkpilot::testing {

struct CheckedServer {
  int id = 0;       // the server's myid (how leaders are reported)
  Endpoint client;  // its client port (four-letter words go there too)
};

struct WriteCheckerOptions {
  std::vector<CheckedServer> servers;  // REQUIRES: not empty
  // Parent of the written znodes; empty: "/zkpilot-check-<random>".
  std::string root;
  std::chrono::milliseconds write_interval{8};  // pacing: at most one write per interval
  int session_timeout_ms = 6000;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(20)};
  std::chrono::milliseconds poll_interval{50};  // srvr on every server
  bool delete_after_check = false;              // remove <root> once verified
  // Set: sessions and `srvr` over TLS with these files (see the top of this file).
  std::optional<TlsClientFiles> tls;
};

// One acknowledged write.
struct AckedWrite {
  int64_t counter = 0;
  std::string path;                 // as returned by the server
  std::chrono::milliseconds at{0};  // when acknowledged, since Start()
  std::chrono::microseconds latency{0};
};

struct WriteReport {
  int64_t acknowledged = 0;
  int64_t failed = 0;                  // requests answered with an error
  int64_t lost = 0;                    // acknowledged but missing or different when read back
  int64_t unacknowledged_present = 0;  // failed writes ZooKeeper applied anyway (harmless)
  int64_t sessions = 0;                // sessions opened by the writer (1 = never reconnected)
  double longest_gap_ms = 0;  // longest time without an acknowledged write (incl. both ends)
  double longest_gap_end_ms = 0;  // when it ended, in ms since the checker started
  int64_t start_unix_ms = 0;      // when the checker started (wall clock), to line gaps up with logs
  // When each failed write was answered (wall clock, ms since the Unix
  // epoch, like the journal's step times), in order.
  std::vector<int64_t> failed_at;
  // When each of them was sent (same clock, same order). A write in flight
  // when its server went away may be answered only at the client's own
  // timeout (the C client waits up to 2/3 of the session timeout for a
  // reply), well after the restart that failed it: [sent, answered] is when
  // the write could be hit.
  std::vector<int64_t> failed_sent_at;
  int64_t transport_swaps = 0;  // sessions swapped in by UseTls()
  double p50_latency_ms = 0, p99_latency_ms = 0, max_latency_ms = 0;
  int elections = 0;  // increases of the highest epoch seen
  int64_t epoch_first = 0, epoch_last = 0;
  std::vector<int> leaders;  // servers seen leading, in order (consecutive repeats folded)
  double duration_ms = 0;
  std::vector<std::string> lost_examples;  // up to 10: "w-0000000042 (counter 42): missing"
  std::string first_error;                 // the first failed request's message

  // One line: "acknowledged 1234, failed 3, lost 0, longest gap 812 ms, ...".
  std::string Summary() const;
};

// --- the pure parts, exposed for tests ------------------------------------

// The p-th percentile (0..100, nearest rank) of `values`; 0 when empty.
double Percentile(std::vector<double> values, double p);

// Longest interval between consecutive acknowledgements, counting from
// `start` (0) to the first one and from the last one to `end`.
std::chrono::milliseconds LongestGap(const std::vector<AckedWrite>& acked,
                                     std::chrono::milliseconds end);

// Report of a run: `read_back` maps child names of the root to their data.
WriteReport Summarize(const std::vector<AckedWrite>& acked, int64_t failed,
                      const std::vector<std::pair<std::string, std::string>>& read_back,
                      std::chrono::milliseconds duration);

// Leader elections from successive `srvr` polls.
class ElectionCounter {
 public:
  struct Reading {
    int id = 0;
    std::string mode;  // as SrvrInfo::mode
    int64_t zxid = 0;
  };
  // One poll of the servers that answered. The first poll with a serving
  // server sets the baseline epoch; later increases count as elections.
  void Observe(const std::vector<Reading>& poll);
  int elections() const { return elections_; }
  int64_t first_epoch() const { return first_epoch_; }
  int64_t epoch() const { return epoch_; }
  const std::vector<int>& leaders() const { return leaders_; }

 private:
  bool started_ = false;
  int64_t first_epoch_ = 0, epoch_ = 0;
  int elections_ = 0;
  std::vector<int> leaders_;
};

// --- the checker ------------------------------------------------------------

class WriteChecker {
 public:
  explicit WriteChecker(WriteCheckerOptions options);
  ~WriteChecker();  // stops the threads (without verifying) if still running
  WriteChecker(const WriteChecker&) = delete;
  WriteChecker& operator=(const WriteChecker&) = delete;

  // Connects, creates the root and starts writing and monitoring. Fails when
  // no session can be opened or the root cannot be created.
  Status Start();
  // Stops writing, reads everything back through a fresh session and
  // reports. Fails only when the read-back itself fails.
  // REQUIRES: Start() succeeded.
  Result<WriteReport> Stop();
  // Moves the writer (and the monitor, and the read-back) to TLS with `tls`,
  // or to plaintext with nullopt: opens a session that way first (failing,
  // with nothing changed, when it cannot), then waits until the writer has
  // taken it between two writes and closed the old one.
  // REQUIRES: Start() succeeded; not concurrent with Stop().
  Status UseTls(std::optional<TlsClientFiles> tls);

  int64_t acknowledged() const { return acknowledged_.load(); }
  int64_t failed() const { return failed_.load(); }
  const std::string& root() const { return options_.root; }
  std::string ConnectString() const;

 private:
  ZkConnectOptions ConnectOptions() const;  // the transport in use
  std::unique_ptr<ZkClient> TakePendingSession();  // the writer's side of UseTls()
  struct State;
  void WriteLoop();
  void PollOnce();
  void Halt();

  WriteCheckerOptions options_;
  std::unique_ptr<State> state_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acknowledged_{0}, failed_{0};
  std::thread writer_, monitor_;
};

}  // namespace zkpilot::testing
