#include "write_checker/write_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "zk/four_letter.h"
#include "zk/zk_client.h"

namespace zkpilot::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

bool Serving(const std::string& mode) {
  return mode == "leader" || mode == "follower" || mode == "observer" || mode == "standalone";
}

// The session is gone for good: the C client will not recover it.
bool SessionLost(const Status& status) {
  const std::string& m = status.message();
  for (const char* code :
       {"ZSESSIONEXPIRED", "ZINVALIDSTATE", "ZAUTHFAILED", "ZCLOSING", "ZSESSIONMOVED"})
    if (m.find(code) != std::string::npos) return true;
  return false;
}

std::string RandomRoot() {
  std::mt19937_64 rng(std::random_device{}());
  return fmt::format("/zkpilot-check-{:012x}", rng() & 0xffffffffffffULL);
}

double Ms(microseconds us) { return static_cast<double>(us.count()) / 1000.0; }

}  // namespace

// --- pure parts ------------------------------------------------------------

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const size_t index =
      static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  return values[index];
}

milliseconds LongestGap(const std::vector<AckedWrite>& acked, milliseconds end) {
  milliseconds longest{0}, previous{0};
  for (const auto& w : acked) {
    longest = std::max(longest, w.at - previous);
    previous = w.at;
  }
  return std::max(longest, end - previous);
}

WriteReport Summarize(const std::vector<AckedWrite>& acked, int64_t failed,
                      const std::vector<std::pair<std::string, std::string>>& read_back,
                      milliseconds duration) {
  WriteReport report;
  report.acknowledged = static_cast<int64_t>(acked.size());
  report.failed = failed;
  report.duration_ms = static_cast<double>(duration.count());
  std::map<std::string, std::string> present(read_back.begin(), read_back.end());
  std::set<std::string> acked_names;
  std::vector<double> latencies;
  for (const auto& w : acked) {
    const std::string name = w.path.substr(w.path.rfind('/') + 1);
    acked_names.insert(name);
    latencies.push_back(Ms(w.latency));
    auto it = present.find(name);
    std::string problem;
    if (it == present.end()) {
      problem = "missing";
    } else if (it->second != std::to_string(w.counter)) {
      problem = "holds '" + it->second + "'";
    }
    if (problem.empty()) continue;
    ++report.lost;
    if (report.lost_examples.size() < 10)
      report.lost_examples.push_back(fmt::format("{} (counter {}): {}", name, w.counter, problem));
  }
  for (const auto& [name, data] : present)
    report.unacknowledged_present += acked_names.count(name) == 0;
  report.p50_latency_ms = Percentile(latencies, 50);
  report.p99_latency_ms = Percentile(latencies, 99);
  report.max_latency_ms = Percentile(latencies, 100);
  report.longest_gap_ms = static_cast<double>(LongestGap(acked, duration).count());
  milliseconds previous{0};
  for (const auto& w : acked) {
    if (static_cast<double>((w.at - previous).count()) == report.longest_gap_ms) {
      report.longest_gap_end_ms = static_cast<double>(w.at.count());
      break;
    }
    previous = w.at;
  }
  return report;
}

std::string WriteReport::Summary() const {
  std::string leader_list;
  for (int id : leaders) leader_list += (leader_list.empty() ? "" : "->") + std::to_string(id);
  return fmt::format(
      "acknowledged {}, failed {}, lost {}, longest gap {:.0f} ms, latency p50 {:.1f} ms p99 "
      "{:.1f} ms max "
      "{:.1f} ms, elections {} (epoch {} -> {}), leaders {}, sessions {}, duration {:.1f} s{}",
      acknowledged, failed, lost, longest_gap_ms, p50_latency_ms, p99_latency_ms, max_latency_ms,
      elections, epoch_first, epoch_last, leader_list.empty() ? "none" : leader_list, sessions,
      duration_ms / 1000.0, first_error.empty() ? "" : "; first error: " + first_error);
}

void ElectionCounter::Observe(const std::vector<Reading>& poll) {
  int64_t highest = -1, leader_epoch = -1;
  int leader = 0;
  for (const auto& r : poll) {
    if (!Serving(r.mode)) continue;
    const int64_t epoch = r.zxid >> 32;
    highest = std::max(highest, epoch);
    // A deposed leader may still say "leader" for a moment: trust the newest epoch.
    if (r.mode == "leader" && epoch > leader_epoch) {
      leader = r.id;
      leader_epoch = epoch;
    }
  }
  if (highest < 0) return;
  if (!started_) {
    started_ = true;
    first_epoch_ = epoch_ = highest;
  } else if (highest > epoch_) {
    ++elections_;
    epoch_ = highest;
  }
  if (leader != 0 && (leaders_.empty() || leaders_.back() != leader)) leaders_.push_back(leader);
}

// --- the checker ------------------------------------------------------------

struct WriteChecker::State {
  std::mutex mu;
  Clock::time_point start;
  int64_t start_unix_ms = 0;
  std::vector<AckedWrite> acked;
  std::vector<int64_t> failed_at;       // unix ms
  std::vector<int64_t> failed_sent_at;  // unix ms
  std::string first_error;
  int64_t sessions = 0, swaps = 0;
  ElectionCounter elections;
  std::unique_ptr<ZkClient> initial_client;  // handed to the writer
  // The transport in use: what the writer reconnects with, what the monitor
  // and the read-back use. Changed by the writer when it takes a session
  // UseTls() opened (`pending`), so both move together between two writes.
  std::optional<TlsClientFiles> tls;
  std::shared_ptr<const AdminClient> admin;
  std::unique_ptr<ZkClient> pending;
  std::optional<TlsClientFiles> pending_tls;
  std::condition_variable swapped;
};

namespace {
int64_t UnixMs() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::shared_ptr<const AdminClient> MonitorClient(const std::optional<TlsClientFiles>& tls) {
  return std::make_shared<const AdminClient>(milliseconds(500), tls);
}
}  // namespace

WriteChecker::WriteChecker(WriteCheckerOptions options)
    : options_(std::move(options)), state_(new State) {
  if (options_.root.empty()) options_.root = RandomRoot();
  state_->tls = options_.tls;
  state_->admin = MonitorClient(options_.tls);
}

WriteChecker::~WriteChecker() { Halt(); }

std::string WriteChecker::ConnectString() const {
  std::string out;
  for (const auto& s : options_.servers) out += (out.empty() ? "" : ",") + s.client.ToString();
  return out;
}

ZkConnectOptions WriteChecker::ConnectOptions() const {
  ZkConnectOptions options;
  options.session_timeout_ms = options_.session_timeout_ms;
  std::lock_guard<std::mutex> lock(state_->mu);
  options.tls = state_->tls;
  return options;
}

Status WriteChecker::Start() {
  ZK_ASSIGN_OR_RETURN(auto client,
                      ZkClient::Connect(ConnectString(), options_.connect_timeout, ConnectOptions()));
  ZK_RETURN_IF_ERROR(client->Create(options_.root, "").WithContext("write checker"));
  state_->initial_client = std::move(client);
  state_->sessions = 1;
  state_->start = Clock::now();
  state_->start_unix_ms = UnixMs();
  PollOnce();  // the baseline epoch and leader, before the operation starts
  writer_ = std::thread([this] { WriteLoop(); });
  monitor_ = std::thread([this] {
    while (!stop_.load()) {
      std::this_thread::sleep_for(options_.poll_interval);
      PollOnce();
    }
  });
  return Status::Ok();
}

// One poll of every server.
void WriteChecker::PollOnce() {
  std::shared_ptr<const AdminClient> admin;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    admin = state_->admin;
  }
  std::vector<ElectionCounter::Reading> poll;
  for (const auto& s : options_.servers) {
    auto srvr = admin->Srvr(s.client);
    if (srvr.ok()) poll.push_back({s.id, srvr->mode, srvr->zxid});
  }
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->elections.Observe(poll);
}

void WriteChecker::WriteLoop() {
  std::unique_ptr<ZkClient> client = std::move(state_->initial_client);
  const milliseconds session_timeout(options_.session_timeout_ms);
  Clock::time_point next = Clock::now(), last_ok = Clock::now();
  int64_t counter = 0;
  auto note_error = [&](const Status& s) {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->first_error.empty()) state_->first_error = s.message();
  };
  CreateOptions create;
  create.mode = CreateMode::kPersistentSequential;
  while (!stop_.load()) {
    std::this_thread::sleep_until(next);
    next = std::max(next + options_.write_interval, Clock::now());  // no burst after a stall
    if (std::unique_ptr<ZkClient> taken = TakePendingSession()) {
      client.swap(taken);  // the old session closes here, between two writes
      taken.reset();
      last_ok = Clock::now();
      state_->swapped.notify_all();
    }
    if (!client) {
      auto c = ZkClient::Connect(ConnectString(), session_timeout, ConnectOptions());
      if (!c.ok()) {
        note_error(c.status());
        continue;
      }
      client = std::move(c).value();
      last_ok = Clock::now();
      std::lock_guard<std::mutex> lock(state_->mu);
      ++state_->sessions;
    }
    const int64_t n = ++counter;
    const auto sent = Clock::now();
    auto created = client->CreateNode(options_.root + "/w-", std::to_string(n), create);
    const auto answered = Clock::now();
    if (created.ok()) {
      last_ok = answered;
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->acked.push_back({n, created->path,
                               duration_cast<milliseconds>(answered - state_->start),
                               duration_cast<microseconds>(answered - sent)});
      acknowledged_.fetch_add(1);
      continue;
    }
    failed_.fetch_add(1);
    note_error(created.status());
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      const int64_t now = UnixMs();
      state_->failed_at.push_back(now);
      state_->failed_sent_at.push_back(now - duration_cast<milliseconds>(answered - sent).count());
    }
    // Connection loss: the C client fails over by itself within the session.
    if (SessionLost(created.status()) || answered - last_ok > session_timeout) client.reset();
  }
}

std::unique_ptr<ZkClient> WriteChecker::TakePendingSession() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (!state_->pending) return nullptr;
  state_->tls = state_->pending_tls;
  state_->admin = MonitorClient(state_->tls);
  ++state_->swaps;
  ++state_->sessions;
  return std::move(state_->pending);
}

Status WriteChecker::UseTls(std::optional<TlsClientFiles> tls) {
  ZkConnectOptions options = ConnectOptions();
  options.tls = tls;
  const std::string how = tls ? "TLS" : "plaintext";
  auto client = ZkClient::Connect(ConnectString(), options_.connect_timeout, options);
  if (!client.ok()) return client.status().WithContext("write checker: a " + how + " session");
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->pending = std::move(client).value();
  state_->pending_tls = std::move(tls);
  // The writer takes it before its next write; a write in flight may block
  // up to the session timeout.
  const auto wait = milliseconds(2 * options_.session_timeout_ms) + options_.connect_timeout;
  if (!state_->swapped.wait_for(lock, wait, [&] { return !state_->pending || stop_.load(); }) ||
      state_->pending)
    return Status::IOError("write checker: the writer did not take the " + how + " session");
  return Status::Ok();
}

void WriteChecker::Halt() {
  stop_.store(true);
  if (writer_.joinable()) writer_.join();
  if (monitor_.joinable()) monitor_.join();
}

Result<WriteReport> WriteChecker::Stop() {
  Halt();
  const auto duration = duration_cast<milliseconds>(Clock::now() - state_->start);
  std::vector<std::pair<std::string, std::string>> read_back;
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    read_back.clear();
    last = [&]() -> Status {
      ZK_ASSIGN_OR_RETURN(auto client,
                          ZkClient::Connect(ConnectString(), options_.connect_timeout, ConnectOptions()));
      ZK_RETURN_IF_ERROR(client->Sync(options_.root));
      ZK_ASSIGN_OR_RETURN(auto children, client->Children(options_.root));
      for (const auto& name : children) {
        ZK_ASSIGN_OR_RETURN(std::string data, client->Get(options_.root + "/" + name));
        read_back.emplace_back(name, std::move(data));
      }
      if (options_.delete_after_check)
        ZK_RETURN_IF_ERROR(client->Delete(options_.root, DeleteMode::kRecursive));
      return Status::Ok();
    }();
    if (last.ok()) break;
  }
  if (!last.ok()) return last.WithContext("write checker: reading " + options_.root + " back");
  std::lock_guard<std::mutex> lock(state_->mu);
  WriteReport report = Summarize(state_->acked, failed_.load(), read_back, duration);
  report.start_unix_ms = state_->start_unix_ms;
  report.sessions = state_->sessions;
  report.first_error = state_->first_error;
  report.failed_at = state_->failed_at;
  report.failed_sent_at = state_->failed_sent_at;
  report.transport_swaps = state_->swaps;
  report.elections = state_->elections.elections();
  report.epoch_first = state_->elections.first_epoch();
  report.epoch_last = state_->elections.epoch();
  report.leaders = state_->elections.leaders();
  return report;
}

}  // namespace zkpilot::testing
