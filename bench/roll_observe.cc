#include "roll_observe.h"

#include <fmt/format.h>
#include <signal.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>

#include "platform/local/process.h"
#include "roll_util.h"
#include "util/files.h"

namespace zkpilot::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

}  // namespace

// --- LOOKING -----------------------------------------------------------------------

void LogWindow::Mark(const std::vector<std::string>& paths) {
  start_.clear();
  for (const auto& p : paths) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(p, ec);
    start_.emplace_back(p, ec ? 0 : size);
  }
}

std::vector<LookingCount> LogWindow::Count() const {
  std::vector<LookingCount> counts;
  for (const auto& [path, start] : start_) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      counts.emplace_back();
      continue;
    }
    in.seekg(0, std::ios::end);
    const auto size = static_cast<uintmax_t>(in.tellg());
    uintmax_t from = size < start ? 0 : start;
    in.seekg(static_cast<std::streamoff>(from));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A line cut by the mark belongs to the time before it.
    if (from > 0) {
      in.clear();
      in.seekg(static_cast<std::streamoff>(from - 1));
      if (in.get() != '\n') {
        const size_t nl = text.find('\n');
        text = nl == std::string::npos ? "" : text.substr(nl + 1);
      }
    }
    counts.push_back(CountLooking(text));
  }
  return counts;
}

// --- bulk load ---------------------------------------------------------------------

namespace {

// Shared with the C client's completion thread.
struct LoadState {
  std::mutex mu;
  std::condition_variable cv;
  bool connected = false;
  int in_flight = 0;
  int64_t done = 0;
  std::string error;  // the first failure
};

void OnSession(zhandle_t*, int type, int state, const char*, void* ctx) {
  auto* s = static_cast<LoadState*>(ctx);
  if (type != ZOO_SESSION_EVENT) return;
  std::lock_guard lock(s->mu);
  s->connected = state == ZOO_CONNECTED_STATE;
  if (state == ZOO_EXPIRED_SESSION_STATE && s->error.empty()) s->error = "session expired";
  s->cv.notify_all();
}

// One multi request: its creates and results live until its completion.
struct Batch {
  LoadState* state = nullptr;
  std::vector<std::string> paths;
  std::vector<zoo_op_t> ops;
  std::vector<zoo_op_result_t> results;
};

void OnBatch(int rc, const void* data) {
  std::unique_ptr<Batch> batch(static_cast<Batch*>(const_cast<void*>(data)));
  LoadState* s = batch->state;
  std::lock_guard lock(s->mu);
  --s->in_flight;
  if (rc == ZOK)
    s->done += static_cast<int64_t>(batch->paths.size());
  else if (s->error.empty())
    s->error = fmt::format("multi create {}..: {}", batch->paths.front(), zerror(rc));
  s->cv.notify_all();
}

}  // namespace

Result<LoadReport> LoadZnodes(const LoadOptions& o) {
  const auto t0 = Clock::now();
  const auto deadline = t0 + o.timeout;
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  LoadState s;
  zhandle_t* zh = zookeeper_init(o.connect.c_str(), OnSession, 30000, nullptr, &s, 0);
  if (zh == nullptr) return Status::IOError("zookeeper_init " + o.connect + ": " + strerror(errno));
  struct Closer {
    zhandle_t* zh;
    ~Closer() { zookeeper_close(zh); }
  } closer{zh};
  {
    std::unique_lock lock(s.mu);
    if (!s.cv.wait_until(lock, deadline, [&] { return s.connected; }))
      return Status::IOError("load: no session with " + o.connect);
  }
  const std::string root = "/zkpilot-bench-data";
  const std::string data(o.bytes, 'z');
  auto create_sync = [&](const std::string& path) -> Status {
    const int rc = zoo_create(zh, path.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS)
      return Status::IOError(fmt::format("create {}: {}", path, zerror(rc)));
    return Status::Ok();
  };
  ZK_RETURN_IF_ERROR(create_sync(root));
  for (int64_t i = 0; i < o.count; i += o.per_multi) {
    if (i % o.per_parent == 0)
      ZK_RETURN_IF_ERROR(create_sync(fmt::format("{}/d-{:04}", root, i / o.per_parent)));
    auto batch = std::make_unique<Batch>();
    batch->state = &s;
    for (int64_t k = i; k < std::min(o.count, i + o.per_multi); ++k)
      batch->paths.push_back(
          fmt::format("{}/d-{:04}/n-{:04}", root, k / o.per_parent, k % o.per_parent));
    batch->ops.resize(batch->paths.size());
    batch->results.resize(batch->paths.size());
    for (size_t k = 0; k < batch->paths.size(); ++k)
      zoo_create_op_init(&batch->ops[k], batch->paths[k].c_str(), data.data(),
                         static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    std::unique_lock lock(s.mu);
    if (!s.cv.wait_until(lock, deadline, [&] {
          return s.in_flight < o.in_flight || !s.error.empty() || g_interrupted.load();
        }))
      return Status::IOError(fmt::format("load: timed out after {} znodes", s.done));
    if (!s.error.empty()) return Status::IOError("load: " + s.error);
    if (g_interrupted.load()) return Status::Internal("load: interrupted");
    ++s.in_flight;
    lock.unlock();
    Batch* raw = batch.release();  // OnBatch frees it
    const int rc = zoo_amulti(zh, static_cast<int>(raw->ops.size()), raw->ops.data(),
                              raw->results.data(), OnBatch, raw);
    if (rc != ZOK) {
      // Not sent: no completion will come.
      std::unique_ptr<Batch> owned(raw);
      std::lock_guard relock(s.mu);
      --s.in_flight;
      return Status::IOError(
          fmt::format("load: zoo_amulti {}..: {}", raw->paths.front(), zerror(rc)));
    }
  }
  std::unique_lock lock(s.mu);
  // Polled, so that Ctrl-C is seen while the last creates complete.
  while (s.in_flight > 0 && s.error.empty() && !g_interrupted.load() && Clock::now() < deadline)
    s.cv.wait_for(lock, 100ms);
  if (!s.error.empty()) return Status::IOError("load: " + s.error);
  if (s.in_flight > 0)
    return Status::IOError(fmt::format("load: {} creates unanswered", s.in_flight));
  return LoadReport{s.done, Seconds(Clock::now() - t0)};
}

// --- Java client writer --------------------------------------------------------------

Result<JavaReport> ParseJavaResult(const std::string& output) {
  static const std::regex kResult(
      R"(result acknowledged=(\d+) failed=(\d+) longest_gap_ms=(\d+) sessions=(\d+) first_error=(.*))");
  std::smatch m;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!std::regex_match(line, m, kResult)) continue;
    JavaReport r;
    r.acknowledged = std::stoll(m[1].str());
    r.failed = std::stoll(m[2].str());
    r.longest_gap_ms = std::stod(m[3].str());
    r.sessions = std::stoi(m[4].str());
    r.first_error = m[5].str();
    return r;
  }
  return Status::NotFound("no result line in the Java writer's output");
}

namespace {
std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}
}  // namespace

JavaWriter::JavaWriter(std::string dir, std::vector<std::string> classpath)
    : dir_(std::move(dir)), classpath_(std::move(classpath)) {}

JavaWriter::JavaWriter(JavaWriter&& other) noexcept
    : dir_(std::move(other.dir_)),
      classpath_(std::move(other.classpath_)),
      run_dir_(std::move(other.run_dir_)),
      pid_(other.pid_) {
  other.pid_ = 0;
}

JavaWriter::~JavaWriter() { Kill(); }

void JavaWriter::Kill() {
  if (pid_ == 0) return;
  Status s = TerminateProcess(pid_, run_dir_, 5s);
  if (!s.ok()) Log("stopping the Java writer: " + s.message());
  pid_ = 0;
}

Result<JavaWriter> JavaWriter::Build(const std::string& source, const std::string& dir,
                                     std::vector<std::string> classpath) {
  const std::string javac = FindInPath("javac");
  if (javac.empty())
    return Status::NotFound("javac is not installed (Debian: default-jdk-headless)");
  if (FindInPath("java").empty()) return Status::NotFound("java is not installed");
  if (classpath.empty()) return Status::NotFound("no ZooKeeper jars to compile against");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("creating " + dir + ": " + ec.message());
  ZK_ASSIGN_OR_RETURN(CommandResult r, RunCommand({javac, "-implicit:none", "-nowarn", "-d", dir,
                                                   "-cp", Join(classpath, ":"), source},
                                                  2min));
  if (r.exit_code != 0)
    return Status::IOError(fmt::format("javac {}: exit {}: {}", source, r.exit_code, r.output));
  // The client's own log: warnings and errors to the writer's output.
  std::ofstream props(dir + "/log4j.properties");
  props << "log4j.rootLogger=WARN, out\n"
           "log4j.appender.out=org.apache.log4j.ConsoleAppender\n"
           "log4j.appender.out.layout=org.apache.log4j.PatternLayout\n"
           "log4j.appender.out.layout.ConversionPattern=%d{ISO8601} %-5p %c{1}: %m%n\n";
  if (!props) return Status::IOError("writing " + dir + "/log4j.properties");
  return JavaWriter(dir, std::move(classpath));
}

Status JavaWriter::Start(const std::string& run_dir, const std::string& connect,
                         std::chrono::milliseconds interval, int session_timeout_ms) {
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) return Status::IOError("creating " + run_dir + ": " + ec.message());
  run_dir_ = run_dir;
  SpawnOptions spawn;
  spawn.argv = {FindInPath("java"),
                "-Xmx128m",
                "-Dlog4j.configuration=file:" + dir_ + "/log4j.properties",
                "-cp",
                Join(classpath_, ":") + ":" + dir_,
                "RollWriter",
                connect,
                std::to_string(interval.count()),
                std::to_string(session_timeout_ms),
                run_dir_};
  spawn.working_dir = run_dir_;
  spawn.log_path = run_dir_ + "/writer.log";
  spawn.new_session = true;
  ZK_ASSIGN_OR_RETURN(pid_, Spawn(spawn));
  const std::string log = spawn.log_path;
  Status ready = WaitFor("the Java writer's first 100 writes", 60s, [&] {
    if (!ProcessAlive(pid_, run_dir_)) return true;
    auto text = ReadFile(log);
    return text.ok() && text->find("ready\n") != std::string::npos;
  });
  if (ready.ok() && !ProcessAlive(pid_, run_dir_)) {
    Kill();  // reaps it
    return Status::IOError("the Java writer exited:\n" + TailFile(log, 20));
  }
  if (!ready.ok()) {
    Kill();  // a writer that did not get ready is not left running
    return ready.WithContext("Java writer log:\n" + TailFile(log, 20));
  }
  return Status::Ok();
}

Result<JavaReport> JavaWriter::Stop() {
  const std::string log = run_dir_ + "/writer.log";
  std::ofstream(run_dir_ + "/stop") << "stop\n";
  Result<JavaReport> report = Status::NotFound("no result");
  Status done = WaitFor("the Java writer's result", 30s, [&] {
    if (auto text = ReadFile(log); text.ok()) report = ParseJavaResult(*text);
    return report.ok() || !ProcessAlive(pid_, run_dir_);
  });
  if (!report.ok())
    if (auto text = ReadFile(log); text.ok()) report = ParseJavaResult(*text);
  Kill();
  if (!report.ok())
    return report.status().WithContext(done.ok() ? TailFile(log, 20) : done.message());
  return report;
}

}  // namespace zkpilot::bench
