#include "roll_report.h"

#include <fmt/format.h>

#include <cstdio>
#include <utility>

namespace zkpilot::bench {
namespace {

constexpr double kMaxGapMs = 350;
constexpr double kMaxGapRatio = 0.4;
constexpr double kMaxFailedRatio = 0.25;

std::string Leaders(const std::vector<int>& leaders) {
  std::string out;
  for (int id : leaders) out += (out.empty() ? "" : "->") + std::to_string(id);
  return out.empty() ? "none" : out;
}

int LeaderChanges(const std::vector<int>& leaders) {
  return leaders.empty() ? 0 : static_cast<int>(leaders.size()) - 1;
}

// x <= factor * of, where 0 <= 0 holds.
bool AtMost(double x, double factor, double of) { return x <= factor * of; }

}  // namespace

std::string Ratio(double zkpilot, double baseline) {
  if (zkpilot == 0 && baseline == 0) return "-";
  if (baseline == 0) return "inf";
  return fmt::format("{:.2f}", zkpilot / baseline);
}

std::vector<Target> RollTargets(const RunResult& z, const RunResult& b) {
  const double gap = z.report.longest_gap_ms, base_gap = b.report.longest_gap_ms;
  const auto failed = static_cast<double>(z.report.failed);
  const auto base_failed = static_cast<double>(b.report.failed);
  const int changes = LeaderChanges(z.report.leaders);
  return {
      {"LOOKING, not at start-up = 0", std::to_string(z.looking.not_at_startup),
       z.looking.not_at_startup == 0},
      {"leader changes = 1", std::to_string(changes), changes == 1},
      {fmt::format("longest write gap <= {:.0f} ms", kMaxGapMs), fmt::format("{:.0f}", gap),
       gap <= kMaxGapMs},
      {fmt::format("longest write gap <= {:.2g} x baseline", kMaxGapRatio), Ratio(gap, base_gap),
       AtMost(gap, kMaxGapRatio, base_gap)},
      {fmt::format("failed writes <= {:.2g} x baseline", kMaxFailedRatio),
       Ratio(failed, base_failed), AtMost(failed, kMaxFailedRatio, base_failed)},
      {"roll time <= baseline", Ratio(z.operation_s, b.operation_s),
       z.operation_s <= b.operation_s},
      {"lost acknowledged writes = 0", std::to_string(z.report.lost), z.report.lost == 0},
  };
}

void PrintPart(const std::string& title, const RunResult& z, const RunResult& b,
               const std::string& note, PartKind kind) {
  auto row = [](const std::string& name, double zv, double bv, int decimals, bool ratio) {
    fmt::print("{:<34}{:>12.{}f}{:>12.{}f}{:>18}\n", name, zv, decimals, bv, decimals,
               ratio ? Ratio(zv, bv) : "");
  };
  auto text_row = [](const std::string& name, const std::string& zv, const std::string& bv) {
    fmt::print("{:<34}{:>12}{:>12}\n", name, zv, bv);
  };
  fmt::print("\n{}\n", title);
  fmt::print("{:<34}{:>12}{:>12}{:>18}\n", "", "zkpilot", "baseline", "zkpilot/baseline");
  row("LOOKING transitions (*)", z.looking.transitions, b.looking.transitions, 0, false);
  row("LOOKING, not at start-up (*)", z.looking.not_at_startup, b.looking.not_at_startup, 0, false);
  // Two leaders of the same new epoch (a split brain) raise the highest epoch
  // once; the servers seen leading tell them apart.
  row("leader changes seen", LeaderChanges(z.report.leaders), LeaderChanges(b.report.leaders), 0,
      false);
  row("leader elections", z.report.elections, b.report.elections, 0, false);
  row("longest write gap (ms)", z.report.longest_gap_ms, b.report.longest_gap_ms, 0, true);
  row("p99 write latency (ms)", z.report.p99_latency_ms, b.report.p99_latency_ms, 1, false);
  row("failed writes", static_cast<double>(z.report.failed), static_cast<double>(b.report.failed),
      0, true);
  row("lost acknowledged writes", static_cast<double>(z.report.lost),
      static_cast<double>(b.report.lost), 0, false);
  row("total roll time (s)", z.operation_s, b.operation_s, 1, true);
  if (z.java && b.java) {
    row("Java client: longest gap (ms)", z.java->longest_gap_ms, b.java->longest_gap_ms, 0, true);
    row("Java client: failed writes", static_cast<double>(z.java->failed),
        static_cast<double>(b.java->failed), 0, true);
  } else {
    text_row("Java client: longest gap (ms)",
             z.java ? fmt::format("{:.0f}", z.java->longest_gap_ms) : "n/a",
             b.java ? fmt::format("{:.0f}", b.java->longest_gap_ms) : "n/a");
  }
  row("time until healthy (s)", z.healthy_s, b.healthy_s, 1, false);
  text_row("acknowledged writes", std::to_string(z.report.acknowledged),
           std::to_string(b.report.acknowledged));
  text_row("writer sessions", std::to_string(z.report.sessions), std::to_string(b.report.sessions));
  text_row("leaders seen", Leaders(z.report.leaders), Leaders(b.report.leaders));
  text_row("JVM starts during the operation", std::to_string(z.looking.jvm_starts),
           std::to_string(b.looking.jvm_starts));
  if (z.loaded > 0 || b.loaded > 0) {
    text_row("data: znodes loaded", std::to_string(z.loaded), std::to_string(b.loaded));
    row("data: load time (s)", z.load_s, b.load_s, 1, false);
  }
  fmt::print(
      "(*) lines \"LOOKING\" (QuorumPeer.run: a server entering leader election) that the servers\n"
      "    logged after the operation started; the first row includes each restarted JVM's\n"
      "    start-up LOOKING (a server always starts LOOKING before it finds the leader), the\n"
      "    second only those of servers that were serving (tests/write_checker/server_log.h):\n"
      "    a fresh JVM's LOOKINGs until it first serves are its start-up.\n");
  for (const auto& [who, r] : {std::pair{"zkpilot ", &z}, std::pair{"baseline", &b}}) {
    std::string by_server;
    for (size_t i = 0; i < r->looking_by_server.size(); ++i)
      by_server += fmt::format("  {}: {}/{}", i + 1, r->looking_by_server[i].transitions,
                               r->looking_by_server[i].not_at_startup);
    fmt::print("{} LOOKING by server (all/not at start-up):{}\n", who, by_server);
  }
  for (const auto& [who, r] : {std::pair{"zkpilot ", &z}, std::pair{"baseline", &b}}) {
    if (!r->java_error.empty()) fmt::print("{} Java client: {}\n", who, r->java_error);
    if (r->java && r->java->failed > 0)
      fmt::print("{} Java client: {} sessions, first error: {}\n", who, r->java->sessions,
                 r->java->first_error);
  }
  if (kind == PartKind::kRoll) {
    fmt::print("targets (zkpilot):\n");
    for (const auto& t : RollTargets(z, b))
      fmt::print("  {:<40}{:>10}  {}\n", t.name, t.value, t.pass ? "PASS" : "FAIL");
  }
  fmt::print("zkpilot's steps (its stderr):\n");
  for (const auto& s : z.steps) fmt::print("  {}\n", s);
  fmt::print("baseline's steps:\n");
  for (const auto& s : b.steps) fmt::print("  {}\n", s);
  fmt::print("zkpilot  checker: {}\n", z.report.Summary());
  fmt::print("baseline checker: {}\n", b.report.Summary());
  fmt::print("zkpilot  final: {}\n", z.final_state);
  fmt::print("baseline final: {}\n", b.final_state);
  for (const auto& [who, r] : {std::pair{"zkpilot", &z}, std::pair{"baseline", &b}})
    for (const auto& lost : r->report.lost_examples) fmt::print("{} lost: {}\n", who, lost);
  if (!note.empty()) fmt::print("{}\n", note);
  std::fflush(stdout);
}

}  // namespace zkpilot::bench
