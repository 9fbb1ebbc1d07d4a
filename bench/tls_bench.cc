// bench/tls: what TLS costs a client's writes (scripts/bench-tls.sh).
//
// One 3-server ensemble (tests/zk_fixture, Debian's ZooKeeper 3.8.0, the
// JVM's default JIT) serves plaintext clients on one port and TLS clients on
// another (secureClientPort, the Netty factory, PEM stores: what zkpilot
// renders for tls.enabled), so both transports meet the same servers, the
// same leader and the same disks in the same run. The quorum speaks TLS
// (sslQuorum, as on zkpilot's TLS clusters) unless --quorum plain.
//
// Clients, each over both transports, connected to the same follower:
//  - zkpilot's C client (ZkClient): plaintext, and through zkpilot's
//    in-process TLS tunnel (zk/tls_transport.h) with a client certificate,
//    which is how zkpilot itself reaches a TLS cluster;
//  - kazoo (Debian's python3-kazoo) with and without use_ssl (--no-kazoo
//    leaves it out).
// Latency: one session, sequential setData of --size bytes, after a warm-up;
// p50/p99 over every round. Throughput: --sessions C-client sessions writing
// sequentially for --seconds, the median of the rounds. Rounds alternate
// which transport goes first. Everything started here is stopped by the
// fixture (by PID) on exit.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "zk/four_letter.h"
#include "zk/zk_client.h"
#include "zk_fixture/test_pki.h"
#include "zk_fixture/zk_fixture.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  int rounds = 3;
  int writes = 2000;  // per round, latency
  int warmup = 300;
  int size = 1024;
  int sessions = 8;
  double seconds = 5;
  bool ssl_quorum = true;
  bool kazoo = true;
};

struct Sample {
  std::vector<double> latencies_ms;
  std::vector<double> throughputs;  // writes/s per round
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

Result<std::unique_ptr<ZkClient>> Open(const std::string& connect, const std::optional<TlsClientFiles>& tls) {
  ZkConnectOptions options;
  options.tls = tls;
  return ZkClient::Connect(connect, std::chrono::seconds(20), options);
}

Status Latency(const std::string& connect, const std::optional<TlsClientFiles>& tls, const std::string& path,
               const Options& o, std::vector<double>& out) {
  ZK_ASSIGN_OR_RETURN(auto zk, Open(connect, tls));
  const std::string data(static_cast<size_t>(o.size), 'x');
  (void)zk->Create(path, "", {});
  for (int i = 0; i < o.warmup + o.writes; ++i) {
    const auto start = Clock::now();
    ZK_RETURN_IF_ERROR(zk->Set(path, data));
    if (i >= o.warmup)
      out.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return Status::Ok();
}

Result<double> Throughput(const std::string& connect, const std::optional<TlsClientFiles>& tls,
                          const std::string& path, const Options& o) {
  std::vector<std::unique_ptr<ZkClient>> clients;
  for (int i = 0; i < o.sessions; ++i) {
    ZK_ASSIGN_OR_RETURN(auto zk, Open(connect, tls));
    (void)zk->Create(path + "-" + std::to_string(i), "", {});
    clients.push_back(std::move(zk));
  }
  const std::string data(static_cast<size_t>(o.size), 'x');
  std::atomic<long> done{0};
  std::atomic<bool> failed{false};
  const auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < o.sessions; ++i) {
    threads.emplace_back([&, i] {
      const std::string p = path + "-" + std::to_string(i);
      while (Clock::now() < end && !failed) {
        if (!clients[static_cast<size_t>(i)]->Set(p, data).ok()) failed = true;
        else ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) return Status::IOError("a write failed during the throughput run");
  return static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

// kazoo: sequential sets; prints one latency in ms per line after the warm-up.
constexpr const char* kKazoo = R"PY(
import sys, time
from kazoo.client import KazooClient
host, tls, ca, cert, key, path, n, warm, size = sys.argv[1:10]
kw = dict(use_ssl=True, verify_certs=True, ca=ca, certfile=cert, keyfile=key) if tls == 'tls' else {}
zk = KazooClient(hosts=host, timeout=20, **kw)
zk.start(timeout=30)
zk.ensure_path(path)
data = b'x' * int(size)
out = []
for i in range(int(warm) + int(n)):
    t = time.perf_counter()
    zk.set(path, data)
    if i >= int(warm):
        out.append((time.perf_counter() - t) * 1000)
zk.stop()
print('\n'.join('%.4f' % v for v in out))
)PY";

Status KazooLatency(const std::string& host, bool tls, const TlsClientFiles& files, const std::string& path,
                    const Options& o, std::vector<double>& out) {
  const std::string cmd = fmt::format("/usr/bin/python3 -c \"$KAZOO_BENCH\" {} {} {} {} {} {} {} {} {}", host,
                                      tls ? "tls" : "plain", files.ca_file, files.cert_file, files.key_file, path,
                                      o.writes, o.warmup, o.size);
  ::setenv("KAZOO_BENCH", kKazoo, 1);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return Status::IOError("cannot start kazoo");
  char line[128];
  size_t before = out.size();
  while (std::fgets(line, sizeof line, pipe)) out.push_back(std::atof(line));
  const int rc = ::pclose(pipe);
  if (rc != 0 || out.size() - before != static_cast<size_t>(o.writes))
    return Status::IOError(fmt::format("kazoo ({}) exited {} after {} writes", tls ? "TLS" : "plaintext", rc,
                                       out.size() - before));
  return Status::Ok();
}

Status Run(const Options& o) {
  char tmpl[] = "/tmp/zkpilot-bench-tls-XXXXXX";
  if (!::mkdtemp(tmpl)) return Status::IOError("mkdtemp failed");
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  ZK_ASSIGN_OR_RETURN(TestPki pki, MakeTestPki(dir));
  ZkTestEnsembleOptions options;
  options.max_heap = "512m";
  options.jvm_flags = {};  // the JVM's defaults: C2 and its AES intrinsics, as a server runs
  options.tls = ZkTestTls{pki.server_pem, pki.ca_cert, pki.super_user};
  options.tls->ssl_quorum = o.ssl_quorum;
  options.tls->plaintext_too = true;
  std::fprintf(stderr, "starting 3 servers...\n");
  ZK_ASSIGN_OR_RETURN(auto ensemble, ZkTestEnsemble::Start(3, options));

  // Both transports to the same follower: a client's writes go through it to the leader.
  int follower = 1;
  for (int id = 1; id <= 3; ++id) {
    auto srvr = ensemble->Probe(std::chrono::seconds(2)).Srvr(ensemble->Client(id));
    if (srvr.ok() && srvr->mode == "follower") {
      follower = id;
      break;
    }
  }
  const std::string plain = ensemble->PlaintextClient(follower).ToString();
  const std::string tls = ensemble->Client(follower).ToString();
  std::map<std::string, Sample> samples;
  for (int round = 0; round < o.rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      const bool use_tls = (k == 0) == (round % 2 == 1);
      const std::string name = use_tls ? "tls" : "plain";
      std::fprintf(stderr, "round %d/%d: C client over %s\n", round + 1, o.rounds, use_tls ? "TLS" : "plaintext");
      const std::optional<TlsClientFiles> files = use_tls ? std::optional(pki.app1) : std::nullopt;
      ZK_RETURN_IF_ERROR(Latency(use_tls ? tls : plain, files, "/bench-" + name, o, samples["c-" + name].latencies_ms));
      ZK_ASSIGN_OR_RETURN(double rate, Throughput(use_tls ? tls : plain, files, "/bench-t-" + name, o));
      samples["c-" + name].throughputs.push_back(rate);
      if (o.kazoo) {
        std::fprintf(stderr, "round %d/%d: kazoo over %s\n", round + 1, o.rounds, use_tls ? "TLS" : "plaintext");
        ZK_RETURN_IF_ERROR(KazooLatency(use_tls ? tls : plain, use_tls, pki.app1, "/bench-k-" + name, o,
                                        samples["k-" + name].latencies_ms));
      }
    }
  }

  std::printf("bench/tls: 3 servers (ZooKeeper 3.8.0, quorum %s), writes of %d B to a follower, %d rounds\n",
              o.ssl_quorum ? "over TLS" : "plaintext", o.size, o.rounds);
  std::printf("latency: %d sequential writes per round after %d warm-up; throughput: %d sessions for %.0f s\n\n",
              o.writes, o.warmup, o.sessions, o.seconds);
  std::printf("%-12s %-11s %8s %8s %9s %12s\n", "client", "transport", "p50 ms", "p99 ms", "mean ms", "writes/s");
  auto row = [&](const std::string& key, const char* client, const char* transport) {
    const Sample& s = samples[key];
    double mean = 0;
    for (double v : s.latencies_ms) mean += v;
    mean /= std::max<size_t>(1, s.latencies_ms.size());
    const std::string rate = s.throughputs.empty() ? "-" : fmt::format("{:.0f}", Percentile(s.throughputs, 0.5));
    std::printf("%-12s %-11s %8.3f %8.3f %9.3f %12s\n", client, transport, Percentile(s.latencies_ms, 0.5),
                Percentile(s.latencies_ms, 0.99), mean, rate.c_str());
  };
  row("c-plain", "C client", "plaintext");
  row("c-tls", "C client", "TLS tunnel");
  if (o.kazoo) {
    row("k-plain", "kazoo", "plaintext");
    row("k-tls", "kazoo", "TLS");
  }
  auto change = [](double a, double b) { return 100.0 * (b - a) / a; };
  const Sample& cp = samples["c-plain"];
  const Sample& ct = samples["c-tls"];
  std::printf("\nTLS vs plaintext, C client: p50 %+.1f%%, p99 %+.1f%%, throughput %+.1f%%\n",
              change(Percentile(cp.latencies_ms, 0.5), Percentile(ct.latencies_ms, 0.5)),
              change(Percentile(cp.latencies_ms, 0.99), Percentile(ct.latencies_ms, 0.99)),
              change(Percentile(cp.throughputs, 0.5), Percentile(ct.throughputs, 0.5)));
  if (o.kazoo) {
    const Sample& kp = samples["k-plain"];
    const Sample& kt = samples["k-tls"];
    std::printf("TLS vs plaintext, kazoo:    p50 %+.1f%%, p99 %+.1f%%\n",
                change(Percentile(kp.latencies_ms, 0.5), Percentile(kt.latencies_ms, 0.5)),
                change(Percentile(kp.latencies_ms, 0.99), Percentile(kt.latencies_ms, 0.99)));
  }
  return Status::Ok();
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  zkpilot::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--rounds") o.rounds = std::stoi(next());
      else if (a == "--writes") o.writes = std::stoi(next());
      else if (a == "--warmup") o.warmup = std::stoi(next());
      else if (a == "--size") o.size = std::stoi(next());
      else if (a == "--sessions") o.sessions = std::stoi(next());
      else if (a == "--seconds") o.seconds = std::stod(next());
      else if (a == "--quorum") {
        const std::string q = next();
        if (q != "tls" && q != "plain") throw std::invalid_argument(q);
        o.ssl_quorum = q == "tls";
      } else if (a == "--no-kazoo") o.kazoo = false;
      else {
        std::fprintf(stderr,
                     "usage: bench_tls [--rounds N] [--writes N] [--warmup N] [--size BYTES] [--sessions N] "
                     "[--seconds S] [--quorum tls|plain] [--no-kazoo]\n");
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "%s: bad value\n", a.c_str());
      return 2;
    }
  }
  if (o.rounds < 1 || o.writes < 1 || o.warmup < 0 || o.size < 0 || o.sessions < 1 || o.seconds <= 0) {
    std::fprintf(stderr, "--rounds, --writes, --sessions and --seconds must be positive\n");
    return 2;
  }
  zkpilot::ZkClient::SetClientLogging(zkpilot::ClientLogging::kQuiet);
  zkpilot::Status s = zkpilot::Run(o);
  if (!s.ok()) {
    std::fprintf(stderr, "bench/tls: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
