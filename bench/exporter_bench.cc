// bench/exporter: what one Prometheus scrape of zkpilot's exporter costs, for
// 3 and 5 real ZooKeeper servers, against the floor — reading `mntr` from each
// server directly over its socket, as a minimal exporter would.
//
//   exporter   GET /metrics: srvr + mntr from every server, rendered as
//              Prometheus text (the whole cluster, one scrape)
//   baseline   mntr from every server, in turn, nothing rendered
//
// Wall time is Google Benchmark's; "cpu_ms" is this process's CPU time
// (getrusage, all threads: the exporter serves from its own threads) per
// iteration. Run: scripts/bench-exporter.sh
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <memory>

#include "observe/exporter.h"
#include "zk/endpoint.h"
#include "zk/four_letter.h"
#include "zk_fixture/zk_fixture.h"

namespace {

using zkpilot::Endpoint;

double ProcessCpuMs() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// One real ensemble per size, started once and shared by both benchmarks.
zkpilot::ZkTestEnsemble* Ensemble(int servers) {
  static std::map<int, std::unique_ptr<zkpilot::ZkTestEnsemble>> ensembles;
  auto& e = ensembles[servers];
  if (!e) {
    auto started = zkpilot::ZkTestEnsemble::Start(servers);
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start %d servers: %s\n", servers, started.status().message().c_str());
      return nullptr;
    }
    e = std::move(started).value();
  }
  return e.get();
}

std::vector<std::pair<int, Endpoint>> Servers(zkpilot::ZkTestEnsemble* e) {
  std::vector<std::pair<int, Endpoint>> out;
  for (int id = 1; id <= e->size(); ++id) out.push_back({id, e->Client(id)});
  return out;
}

void BM_ExporterScrape(benchmark::State& state) {
  auto* e = Ensemble(static_cast<int>(state.range(0)));
  if (!e) return state.SkipWithError("no ensemble");
  zkpilot::ExporterOptions options;
  options.cluster = "bench";
  options.servers = Servers(e);
  zkpilot::Exporter exporter(options);
  if (!exporter.Start().ok()) return state.SkipWithError("exporter did not start");
  const Endpoint at{"127.0.0.1", exporter.port()};
  size_t bytes = 0;
  const double cpu0 = ProcessCpuMs();
  for (auto _ : state) {
    auto reply = zkpilot::TcpExchange(at, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", std::chrono::seconds(10));
    if (!reply.ok()) return state.SkipWithError(reply.status().message().c_str());
    bytes = reply->size();
  }
  state.counters["cpu_ms"] = (ProcessCpuMs() - cpu0) / static_cast<double>(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_BaselineMntr(benchmark::State& state) {
  auto* e = Ensemble(static_cast<int>(state.range(0)));
  if (!e) return state.SkipWithError("no ensemble");
  zkpilot::AdminClient admin(std::chrono::seconds(10));
  const auto servers = Servers(e);
  size_t bytes = 0;
  const double cpu0 = ProcessCpuMs();
  for (auto _ : state) {
    bytes = 0;
    for (const auto& [id, endpoint] : servers) {
      auto reply = admin.FourLetterWord(endpoint, "mntr");
      if (!reply.ok()) return state.SkipWithError(reply.status().message().c_str());
      bytes += reply->size();
    }
  }
  state.counters["cpu_ms"] = (ProcessCpuMs() - cpu0) / static_cast<double>(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes);
}

BENCHMARK(BM_ExporterScrape)->ArgName("servers")->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_BaselineMntr)->ArgName("servers")->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
