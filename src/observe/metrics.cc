#include "observe/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

namespace zkpilot {
namespace {

constexpr std::string_view kMntrPrefix = "zk_";

// The gauges ZooKeeper 3.8 registers (ZooKeeperServer, LeaderZooKeeperServer),
// as listed first, before the counters, by `mntr` of a leader and a follower.
// The provider exports each as a gauge named like the key without "zk_",
// with the name as its help text; ours are more helpful.
struct GaugeSpec {
  std::string_view name;
  std::string_view help;
  bool leader_only;
};

constexpr GaugeSpec kZooKeeperGauges[] = {
    {"approximate_data_size", "Approximate bytes of paths and data in the data tree", false},
    {"auth_failed_count", "Failed client authentications", false},
    {"avg_latency", "Average request latency in ms since start or the last srst", false},
    {"connection_drop_probability", "Probability of dropping a new client connection", false},
    {"ephemerals_count", "Ephemeral znodes", false},
    {"global_sessions", "Global client sessions", false},
    {"last_client_response_size", "Bytes of the last response to a client (-1: none yet)", false},
    {"last_proposal_size", "Bytes of the last proposal (-1: none yet)", true},
    {"leader_uptime", "Milliseconds since this server became leader (leader only)", true},
    {"learners", "Followers and observers connected to the leader", true},
    {"local_sessions", "Local client sessions", false},
    {"max_client_response_size", "Largest response to a client in bytes (-1: none yet)", false},
    {"max_file_descriptor_count", "File descriptor limit of the server process", false},
    {"max_latency", "Maximum request latency in ms since start or the last srst", false},
    {"max_proposal_size", "Largest proposal in bytes (-1: none yet)", true},
    {"min_client_response_size", "Smallest response to a client in bytes (-1: none yet)", false},
    {"min_latency", "Minimum request latency in ms since start or the last srst", false},
    {"min_proposal_size", "Smallest proposal in bytes (-1: none yet)", true},
    {"non_mtls_local_conn_count", "Local client connections without mutual TLS", false},
    {"non_mtls_remote_conn_count", "Remote client connections without mutual TLS", false},
    {"num_alive_connections", "Live client connections", false},
    {"open_file_descriptor_count", "File descriptors open in the server process", false},
    {"outstanding_requests", "Requests queued and not yet processed", false},
    {"outstanding_tls_handshake", "TLS handshakes in progress", false},
    {"packets_received", "Client packets received since start (monotonic)", false},
    {"packets_sent", "Client packets sent since start (monotonic)", false},
    {"pending_syncs", "Syncs waiting for the leader", true},
    {"quorum_size", "Voting members of the ensemble, leader included", false},
    {"synced_followers", "Voting followers in sync with the leader", true},
    {"synced_non_voting_followers", "Non-voting followers in sync with the leader", true},
    {"synced_observers", "Observers in sync with the leader", true},
    {"uptime", "Milliseconds since the server started", false},
    {"watch_count", "Watches set by clients", false},
    {"znode_count", "Znodes in the data tree", false},
};

// Summary sets: mntr writes zk_<stat>_<key>_<name>; the provider exports
// <name>{key="<key>"}.
constexpr std::string_view kSummarySets[] = {
    "learner_handler_qp_size",
    "learner_handler_qp_time_ms",
    "read_per_namespace",
    "write_per_namespace",
};

struct SummaryHelp {
  std::string_view name;
  std::string_view help;
};
constexpr SummaryHelp kSummaryHelp[] = {
    {"election_time", "Leader election duration in ms, one observation per finished election"},
    {"fsynctime", "Transaction log fsync duration in ms"},
};

// mntr's percentiles that match the provider's quantiles (0.5, 0.9, 0.99):
// mntr has no 90th percentile.
constexpr std::pair<std::string_view, std::string_view> kQuantiles[] = {
    {"p50", "0.5"},
    {"p99", "0.99"},
};

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string name;  // the family name plus a suffix (_count, _sum) or not
  Labels labels;
  std::string value;
};

struct Family {
  std::string help;
  std::string type;  // gauge | counter | summary
  std::vector<Sample> samples;
};

using Families = std::map<std::string, Family>;

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  auto first = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  if (!first(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return first(c) || (c >= '0' && c <= '9'); });
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Whole numbers as integers: to_chars would write 1700000000 as 1.7e+09.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

// An mntr value as a sample value: integers stay exact, other numbers are
// written in their shortest round-trip form; anything else is no value.
std::optional<std::string> FormatValue(std::string_view text) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  int64_t i = 0;
  auto ri = std::from_chars(begin, end, i);
  if (ri.ec == std::errc() && ri.ptr == end) return std::to_string(i);
  double d = 0;
  auto rd = std::from_chars(begin, end, d);
  if (rd.ec == std::errc() && rd.ptr == end) return FormatDouble(d);
  return std::nullopt;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Add(Families& families, const std::string& family, std::string_view help,
         std::string_view type, Sample sample) {
  Family& f = families[family];
  if (f.type.empty()) {
    f.help = std::string(help);
    f.type = std::string(type);
  }
  f.samples.push_back(std::move(sample));
}

Labels NodeLabels(const std::string& cluster, const ServerReading& server) {
  return {{"cluster", cluster}, {"node", std::to_string(server.id)}};
}

Labels ZooKeeperLabels(const std::string& cluster, const ServerReading& server) {
  Labels labels = NodeLabels(cluster, server);
  labels.emplace_back("role", server.role);
  return labels;
}

std::string_view SummaryHelpFor(std::string_view name) {
  for (const SummaryHelp& s : kSummaryHelp)
    if (s.name == name) return s.help;
  return name;  // the provider's help text is the name
}

// "zk_<stat>_<base>" -> base, for stat in avg/min/max/cnt/sum/p50/...
std::optional<std::string_view> StripStat(std::string_view key, std::string_view stat) {
  if (!key.starts_with(kMntrPrefix)) return std::nullopt;
  key.remove_prefix(kMntrPrefix.size());
  if (!key.starts_with(stat) || key.size() <= stat.size() + 1 || key[stat.size()] != '_')
    return std::nullopt;
  return key.substr(stat.size() + 1);
}

const std::string* Find(const std::map<std::string, std::string>& mntr, const std::string& key) {
  auto it = mntr.find(key);
  return it == mntr.end() ? nullptr : &it->second;
}

bool IsServingRole(std::string_view role) {
  return role == "leader" || role == "follower" || role == "observer";
}

void AddZooKeeperGauges(Families& families, const MetricsSnapshot& snapshot,
                        const ServerReading& server) {
  for (const GaugeSpec& gauge : kZooKeeperGauges) {
    if (gauge.leader_only && server.role != "leader") continue;
    std::string name(gauge.name);
    const std::string* text = Find(server.mntr, std::string(kMntrPrefix) + name);
    std::optional<std::string> value = text ? FormatValue(*text) : std::nullopt;
    if (!value && name == "quorum_size" && snapshot.voters > 0 && IsServingRole(server.role))
      value = std::to_string(snapshot.voters);
    if (!value) continue;
    Add(families, name, gauge.help, "gauge",
        {name, ZooKeeperLabels(snapshot.cluster, server), *value});
  }
}

// Summaries are recognised by their count and sum (zk_cnt_X, zk_sum_X).
void AddZooKeeperSummaries(Families& families, const MetricsSnapshot& snapshot,
                           const ServerReading& server) {
  struct Part {
    std::string name;  // the family
    std::string key;   // summary sets: the `key` label
    std::string base;  // X in zk_cnt_X
  };
  std::map<std::pair<std::string, std::string>, Part> parts;  // (name, key) -> part
  for (const auto& [mntr_key, text] : server.mntr) {
    std::optional<std::string_view> base = StripStat(mntr_key, "cnt");
    if (!base || !Find(server.mntr, "zk_sum_" + std::string(*base))) continue;
    Part part{std::string(*base), "", std::string(*base)};
    for (std::string_view set : kSummarySets) {
      if (base->size() > set.size() + 1 && base->ends_with(set) &&
          (*base)[base->size() - set.size() - 1] == '_') {
        part.name = std::string(set);
        part.key = std::string(base->substr(0, base->size() - set.size() - 1));
        break;
      }
    }
    if (!IsMetricName(part.name)) continue;
    parts.emplace(std::make_pair(part.name, part.key), part);
  }
  for (const auto& [id, part] : parts) {
    Labels labels = ZooKeeperLabels(snapshot.cluster, server);
    if (!part.key.empty()) labels.emplace_back("key", part.key);
    std::string_view help = SummaryHelpFor(part.name);
    for (const auto& [stat, quantile] : kQuantiles) {
      const std::string* text = Find(server.mntr, "zk_" + std::string(stat) + "_" + part.base);
      std::optional<std::string> value = text ? FormatValue(*text) : std::nullopt;
      if (!value) continue;
      Labels with_quantile = labels;
      with_quantile.emplace_back("quantile", std::string(quantile));
      Add(families, part.name, help, "summary", {part.name, with_quantile, *value});
    }
    std::optional<std::string> count = FormatValue(*Find(server.mntr, "zk_cnt_" + part.base));
    std::optional<std::string> sum = FormatValue(*Find(server.mntr, "zk_sum_" + part.base));
    if (!count || !sum) continue;
    Add(families, part.name, help, "summary", {part.name + "_count", labels, *count});
    Add(families, part.name, help, "summary", {part.name + "_sum", labels, *sum});
  }
}

void AddNodeSeries(Families& families, const MetricsSnapshot& snapshot,
                   const ServerReading& server) {
  const std::string& cluster = snapshot.cluster;
  Add(families, "zkpilot_node_up", "1 if the ZooKeeper server answered the last scrape, else 0",
      "gauge", {"zkpilot_node_up", NodeLabels(cluster, server), server.up ? "1" : "0"});
  Labels role = NodeLabels(cluster, server);
  role.emplace_back("role", server.role);
  Add(families, "zkpilot_node_role", "The server's role at the last scrape (always 1)", "gauge",
      {"zkpilot_node_role", role, "1"});
  Add(families, "zkpilot_last_scrape_success_timestamp_seconds",
      "Unix time of the last scrape the server answered (0: never)", "gauge",
      {"zkpilot_last_scrape_success_timestamp_seconds", NodeLabels(cluster, server),
       FormatDouble(static_cast<double>(server.last_success_ms) / 1000.0)});
}

void AddSelfSeries(Families& families, const MetricsSnapshot& snapshot,
                   const std::vector<const ServerReading*>& servers) {
  const std::string& cluster = snapshot.cluster;
  // Every scraped server has a restart count (0 if none recorded), and so
  // has every server zkpilot recorded restarts for.
  std::map<int, int64_t> restarts;
  for (const ServerReading* s : servers) restarts[s->id] = 0;
  for (const auto& [id, count] : snapshot.self.node_restarts) restarts[id] = count;
  for (const auto& [id, count] : restarts) {
    Add(families, "zkpilot_node_restarts_total", "Restarts of the server by zkpilot", "counter",
        {"zkpilot_node_restarts_total",
         {{"cluster", cluster}, {"node", std::to_string(id)}},
         std::to_string(count)});
  }
  for (const auto& [key, count] : snapshot.self.operations) {
    Add(families, "zkpilot_operations_total",
        "zkpilot operations on the cluster by type and outcome", "counter",
        {"zkpilot_operations_total",
         {{"cluster", cluster}, {"type", key.first}, {"outcome", key.second}},
         std::to_string(count)});
  }
  if (snapshot.scrape_duration_seconds) {
    Add(families, "zkpilot_scrape_duration_seconds",
        "Seconds the exporter took to read all servers for this scrape", "gauge",
        {"zkpilot_scrape_duration_seconds",
         {{"cluster", cluster}},
         FormatDouble(*snapshot.scrape_duration_seconds)});
  }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string RenderPrometheusText(const MetricsSnapshot& snapshot) {
  std::vector<const ServerReading*> servers;
  for (const ServerReading& s : snapshot.servers) servers.push_back(&s);
  std::stable_sort(servers.begin(), servers.end(),
                   [](const ServerReading* a, const ServerReading* b) { return a->id < b->id; });

  Families families;
  for (const ServerReading* server : servers) {
    AddNodeSeries(families, snapshot, *server);
    AddZooKeeperGauges(families, snapshot, *server);
    AddZooKeeperSummaries(families, snapshot, *server);
  }
  AddSelfSeries(families, snapshot, servers);

  std::string out;
  for (const auto& [name, family] : families) {
    out += "# HELP " + name + " " + EscapeHelp(family.help) + "\n";
    out += "# TYPE " + name + " " + family.type + "\n";
    for (const Sample& sample : family.samples) {
      out += sample.name;
      if (!sample.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < sample.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += sample.labels[i].first + "=\"" + EscapeLabelValue(sample.labels[i].second) + '"';
        }
        out += '}';
      }
      out += ' ' + sample.value + '\n';
    }
  }
  return out;
}

}  // namespace zkpilot
