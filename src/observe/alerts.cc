#include "observe/alerts.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

namespace zkpilot {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr char kAlertsPath[] = "/api/v1/alerts";
constexpr char kMonitoringHint[] =
    " — is monitoring enabled for this cluster? (prometheus.enabled=true)";

// The string members of a JSON object; other value types are left out (the
// API gives labels and annotations as strings only).
std::map<std::string, std::string> StringMembers(const Json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [key, value] : object.items())
    if (value.is_string()) out[key] = value.get<std::string>();
  return out;
}

std::string Member(const std::map<std::string, std::string>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? "" : it->second;
}

std::string Truncate(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

int StateRank(const std::string& state) { return state == "firing" ? 0 : state == "pending" ? 1 : 2; }

int SeverityRank(const std::string& severity) {
  if (severity == "critical") return 0;
  if (severity == "warning") return 1;
  if (severity == "info") return 2;
  return 3;
}

std::optional<long> Number(const std::string& s) {
  long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Node ids are numbers as strings: "2" before "10". Non-numbers (and "",
// cluster-wide alerts) sort after numbers, by text.
bool NodeLess(const std::string& a, const std::string& b) {
  auto na = Number(a), nb = Number(b);
  if (na && nb) return *na < *nb;
  if (na || nb) return na.has_value();
  return a < b;
}

// "45s", "5m12s", "3h4m", "2d1h": the largest two units.
std::string Age(std::chrono::seconds age) {
  int64_t s = std::max<int64_t>(0, age.count());
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{}h", s / 86400, (s % 86400) / 3600);
}

std::string Since(const std::string& active_at, std::chrono::system_clock::time_point now) {
  if (active_at.empty()) return "-";
  auto at = ParseRfc3339(active_at);
  if (!at.ok()) return active_at;
  return Age(std::chrono::duration_cast<std::chrono::seconds>(now - *at));
}

// Left-aligned columns, two spaces apart; the last column is not padded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i)
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string Or(const std::string& s, const char* fallback) { return s.empty() ? fallback : s; }

// What went wrong talking to Prometheus, in words; the hint where the likely
// cause is that no Prometheus runs for the cluster.
std::string DescribeError(httplib::Error error, std::chrono::milliseconds timeout) {
  switch (error) {
    case httplib::Error::Connection:
      // On 127.0.0.1 this is a refused connection; for names, also a name
      // that does not resolve.
      return std::string("connection refused") + kMonitoringHint;
    case httplib::Error::ConnectionTimeout:
      return fmt::format("no connection within {}ms{}", timeout.count(), kMonitoringHint);
    case httplib::Error::Read:
      return fmt::format("no complete answer within {}ms", timeout.count());
    case httplib::Error::Write:
      return "sending the request failed";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  auto bad = [&] { return Status::InvalidInput("\"" + std::string(text) + "\": not an RFC3339 timestamp"); };
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    out = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' ||
      !digits(8, 2, day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(11, 2, hour) ||
      text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second))
    return bad();
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t ns = 0;
    int n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n < 9) ns = ns * 10 + (text[pos] - '0'), ++n;
      ++pos;
    }
    if (n == 0) return bad();
    for (; n < 9; ++n) ns *= 10;
    fraction = std::chrono::nanoseconds(ns);
  }
  std::chrono::minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' || !digits(pos + 4, 2, om))
      return bad();
    offset = std::chrono::minutes(oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return bad();
  auto time = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
              std::chrono::seconds(second) + fraction - offset;
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(time);
}

Result<std::vector<Alert>> ParseAlertsResponse(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Status::IOError("the answer is not JSON: " + Truncate(text, 200));
  const std::string status = doc.value("status", "");
  if (status != "success") {
    std::string what = doc.value("error", "");
    std::string type = doc.value("errorType", "");
    if (what.empty()) what = "status \"" + status + "\"";
    return Status::IOError(type.empty() ? what : type + ": " + what);
  }
  auto data = doc.find("data");
  if (data == doc.end() || !data->is_object() || !data->contains("alerts") || !(*data)["alerts"].is_array())
    return Status::IOError("the answer has no data.alerts: " + Truncate(text, 200));
  std::vector<Alert> alerts;
  for (const Json& item : (*data)["alerts"]) {
    if (!item.is_object()) return Status::IOError("data.alerts: an alert that is not an object");
    Alert a;
    a.labels = StringMembers(item.value("labels", Json::object()));
    auto annotations = StringMembers(item.value("annotations", Json::object()));
    a.name = Member(a.labels, "alertname");
    a.severity = Member(a.labels, "severity");
    a.cluster = Member(a.labels, "cluster");
    a.node = Member(a.labels, "node");
    a.summary = Member(annotations, "summary");
    a.description = Member(annotations, "description");
    a.state = item.value("state", "");
    a.active_at = item.value("activeAt", "");
    alerts.push_back(std::move(a));
  }
  return alerts;
}

std::vector<Alert> AlertsOfCluster(std::vector<Alert> alerts, const std::string& cluster) {
  if (cluster.empty()) return alerts;
  std::erase_if(alerts, [&](const Alert& a) { return a.cluster != cluster; });
  return alerts;
}

Result<std::vector<Alert>> FetchAlerts(const Endpoint& prometheus, const std::string& cluster,
                                       std::chrono::milliseconds timeout) {
  const std::string where = "prometheus " + prometheus.ToString();
  httplib::Client client(prometheus.host, prometheus.port);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  auto response = client.Get(kAlertsPath);
  if (!response) return Status::IOError(where + ": " + DescribeError(response.error(), timeout));
  if (response->status != 200) {
    // The API answers errors with a JSON body saying what went wrong.
    auto parsed = ParseAlertsResponse(response->body);
    std::string detail = parsed.ok() ? Truncate(response->body, 200) : parsed.status().message();
    return Status::IOError(fmt::format("{}: GET {}: HTTP {}: {}", where, kAlertsPath, response->status, detail));
  }
  auto alerts = ParseAlertsResponse(response->body);
  if (!alerts.ok()) return alerts.status().WithContext(where + ": GET " + kAlertsPath);
  return AlertsOfCluster(std::move(alerts).value(), cluster);
}

void SortAlerts(std::vector<Alert>& alerts) {
  std::stable_sort(alerts.begin(), alerts.end(), [](const Alert& a, const Alert& b) {
    auto ka = std::make_tuple(StateRank(a.state), SeverityRank(a.severity));
    auto kb = std::make_tuple(StateRank(b.state), SeverityRank(b.severity));
    if (ka != kb) return ka < kb;
    if (a.name != b.name) return a.name < b.name;
    if (a.node != b.node) return NodeLess(a.node, b.node);
    return a.cluster < b.cluster;
  });
}

std::string FormatAlerts(const std::vector<Alert>& input, bool json, std::chrono::system_clock::time_point now) {
  std::vector<Alert> alerts = input;
  SortAlerts(alerts);
  if (json) {
    OJson out = OJson::array();
    for (const Alert& a : alerts) {
      OJson labels = OJson::object();
      for (const auto& [k, v] : a.labels) labels[k] = v;
      out.push_back({{"name", a.name},
                     {"state", a.state},
                     {"severity", a.severity},
                     {"cluster", a.cluster},
                     {"node", a.node},
                     {"active_at", a.active_at},
                     {"summary", a.summary},
                     {"description", a.description},
                     {"labels", labels}});
    }
    return out.dump(2) + "\n";
  }
  if (alerts.empty()) return "no alerts firing or pending\n";
  std::vector<std::vector<std::string>> rows = {{"SEVERITY", "ALERT", "STATE", "NODE", "SINCE", "SUMMARY"}};
  for (const Alert& a : alerts)
    rows.push_back({Or(a.severity, "-"), Or(a.name, "-"), Or(a.state, "-"), Or(a.node, "-"),
                    Since(a.active_at, now), Or(a.summary, "-")});
  return Table(rows);
}

std::string FormatAlerts(const std::vector<Alert>& alerts, bool json) {
  return FormatAlerts(alerts, json, std::chrono::system_clock::now());
}

}  // namespace zkpilot
