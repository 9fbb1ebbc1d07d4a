// zkpilot-write-check: the write checker as a program, for scenarios that run
// ZooKeeper where a test binary cannot hold it in-process (the Kubernetes test
// cluster: it runs inside the cluster network through `kube-sim run`).
//
//   zkpilot-write-check --server 1=zk-1-0.zk-headless:2181 --server 2=... \
//       --ready-file R --stop-file S --report OUT.json
//
// Starts writing (tests/write_checker/write_checker.h), creates R once the
// first session is up, keeps writing until S exists (or SIGTERM/SIGINT), then
// reads everything back and writes the report as JSON to OUT.json. Exit code 0
// when the check ran (the report says whether anything was lost), 1 when it
// could not start or read back.
//
// With --tls-ca, --tls-cert and --tls-key (all three, PEM files) it writes
// and asks `srvr` over TLS with that client certificate.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "write_checker/write_checker.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Writes to a ZooKeeper ensemble until told to stop, then proves no acknowledged write was lost."};
  std::vector<std::string> servers;
  std::string ready_file, stop_file, report_file, root;
  int interval_ms = 8;
  app.add_option("--server", servers, "ID=HOST:PORT of a server (repeatable)")->required();
  app.add_option("--ready-file", ready_file, "Created once writing has started");
  app.add_option("--stop-file", stop_file, "Stop when this file appears");
  app.add_option("--report", report_file, "Where to write the JSON report (default: stdout)");
  app.add_option("--root", root, "Parent znode of the writes (default: a random one)");
  app.add_option("--write-interval-ms", interval_ms, "At most one write per interval");
  zkpilot::TlsClientFiles tls;
  app.add_option("--tls-ca", tls.ca_file, "CA certificate (PEM) to verify the servers: use TLS");
  app.add_option("--tls-cert", tls.cert_file, "Client certificate (PEM)");
  app.add_option("--tls-key", tls.key_file, "Client private key (PEM)");
  CLI11_PARSE(app, argc, argv);
  std::string missing;
  for (const auto& [flag, value] : {std::pair{"--tls-ca", tls.ca_file}, {"--tls-cert", tls.cert_file},
                                    {"--tls-key", tls.key_file}})
    if (value.empty()) missing += std::string(missing.empty() ? "" : ", ") + flag;
  if (!missing.empty() && missing != "--tls-ca, --tls-cert, --tls-key") {
    std::fprintf(stderr, "zkpilot-write-check: --tls-ca, --tls-cert and --tls-key go together (missing %s)\n",
                 missing.c_str());
    return 2;
  }

  zkpilot::testing::WriteCheckerOptions options;
  options.root = root;
  options.write_interval = std::chrono::milliseconds(interval_ms);
  if (!tls.ca_file.empty()) options.tls = tls;
  for (const auto& s : servers) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "zkpilot-write-check: --server %s: expected ID=HOST:PORT\n", s.c_str());
      return 2;
    }
    auto endpoint = zkpilot::ParseEndpoint(s.substr(eq + 1));
    if (!endpoint.ok()) {
      std::fprintf(stderr, "zkpilot-write-check: --server %s: %s\n", s.c_str(), endpoint.status().message().c_str());
      return 2;
    }
    options.servers.push_back({std::stoi(s.substr(0, eq)), *endpoint});
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  zkpilot::testing::WriteChecker checker(options);
  if (auto s = checker.Start(); !s.ok()) {
    std::fprintf(stderr, "zkpilot-write-check: start: %s\n", s.message().c_str());
    return 1;
  }
  if (!ready_file.empty()) std::ofstream(ready_file) << "started\n";
  while (!g_stop && (stop_file.empty() || !std::filesystem::exists(stop_file)))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto report = checker.Stop();
  if (!report.ok()) {
    std::fprintf(stderr, "zkpilot-write-check: read back: %s\n", report.status().message().c_str());
    return 1;
  }
  nlohmann::json j = {{"acknowledged", report->acknowledged}, {"failed", report->failed},
                      {"lost", report->lost},                 {"elections", report->elections},
                      {"leaders", report->leaders},           {"longest_gap_ms", report->longest_gap_ms},
                      {"sessions", report->sessions},         {"lost_examples", report->lost_examples},
                      {"longest_gap_end_ms", report->longest_gap_end_ms},
                      {"start_unix_ms", report->start_unix_ms},
                      {"failed_at", report->failed_at},
                      {"failed_sent_at", report->failed_sent_at},
                      {"tls", options.tls.has_value()},
                      {"summary", report->Summary()}};
  if (report_file.empty()) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::ofstream(report_file + ".tmp") << j.dump(2) << "\n";
    std::filesystem::rename(report_file + ".tmp", report_file);
  }
  return 0;
}
