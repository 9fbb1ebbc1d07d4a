#include "zk/four_letter.h"

#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <vector>

namespace zkpilot {
namespace {

constexpr std::string_view kNotServingReply =
    "This ZooKeeper instance is not currently serving requests";
constexpr std::string_view kNotWhitelistedReply =
    "is not executed because it is not in the whitelist";

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

template <typename T>
bool ParseNumber(std::string_view text, T& out, int base = 10) {
  text = Trim(text);
  if (base == 16 && (text.starts_with("0x") || text.starts_with("0X"))) text.remove_prefix(2);
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  std::from_chars_result r;
  if constexpr (std::is_floating_point_v<T>) {
    r = std::from_chars(text.data(), end, out);
  } else {
    r = std::from_chars(text.data(), end, out, base);
  }
  return r.ec == std::errc() && r.ptr == end;
}

// "3.8.0-abc, built on ..." -> "3.8.0".
std::string ReleaseOf(std::string_view build) {
  size_t end = build.find_first_of("-, ");
  return std::string(build.substr(0, end));
}

// Parses "a/b/c" into three fields.
bool ParseLatency(std::string_view text, SrvrInfo& info) {
  size_t first = text.find('/');
  size_t second = first == std::string_view::npos ? first : text.find('/', first + 1);
  if (second == std::string_view::npos) return false;
  return ParseNumber(text.substr(0, first), info.latency_min) &&
         ParseNumber(text.substr(first + 1, second - first - 1), info.latency_avg) &&
         ParseNumber(text.substr(second + 1), info.latency_max);
}

// The <title> of an HTML error page, or the start of the body.
std::string BodySummary(const std::string& body) {
  size_t open = body.find("<title>");
  size_t close = body.find("</title>");
  if (open != std::string::npos && close != std::string::npos && close > open) {
    return body.substr(open + 7, close - open - 7);
  }
  return std::string(Trim(body.substr(0, 200)));
}

}  // namespace

bool SrvrInfo::IsServing() const {
  return mode == "leader" || mode == "follower" || mode == "observer" || mode == "standalone";
}

Status CheckFourLetterReply(std::string_view cmd, std::string_view reply) {
  std::string_view text = Trim(reply);
  if (text.empty()) return Status::IOError(fmt::format("{}: empty reply", cmd));
  if (text.starts_with(kNotServingReply)) {
    return Status::IOError(fmt::format(
        "{}: the server is not currently serving requests (no quorum, or still starting)", cmd));
  }
  if (text.find(kNotWhitelistedReply) != std::string_view::npos) {
    return Status::IOError(
        fmt::format("{}: refused: the command is not in the server's 4lw.commands.whitelist", cmd));
  }
  return Status::Ok();
}

Result<SrvrInfo> ParseSrvr(std::string_view reply) {
  SrvrInfo info;
  if (Trim(reply).starts_with(kNotServingReply)) {
    info.mode = std::string(kModeNotServing);
    return info;
  }
  ZK_RETURN_IF_ERROR(CheckFourLetterReply("srvr", reply));
  bool have_zxid = false;
  std::vector<std::string_view> lines = SplitLines(reply);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = Trim(lines[i]);
    if (line.empty()) continue;
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) {
      return Status::IOError(
          fmt::format("srvr: line {}: expected 'Key: value', got '{}'", i + 1, line));
    }
    std::string_view key = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 2));
    bool ok = true;
    if (key == "Zookeeper version") {
      info.build = std::string(value);
      info.version = ReleaseOf(value);
    } else if (key == "Latency min/avg/max") {
      ok = ParseLatency(value, info);
    } else if (key == "Received") {
      ok = ParseNumber(value, info.received);
    } else if (key == "Sent") {
      ok = ParseNumber(value, info.sent);
    } else if (key == "Connections") {
      ok = ParseNumber(value, info.connections);
    } else if (key == "Outstanding") {
      ok = ParseNumber(value, info.outstanding);
    } else if (key == "Zxid") {
      ok = ParseNumber(value, info.zxid, 16);
      have_zxid = true;
    } else if (key == "Mode") {
      info.mode = std::string(value);
    } else if (key == "Node count") {
      ok = ParseNumber(value, info.node_count);
    }  // other lines (e.g. the leader's "Proposal sizes") are not needed
    if (!ok)
      return Status::IOError(
          fmt::format("srvr: line {}: bad value for {}: '{}'", i + 1, key, value));
  }
  if (info.mode.empty()) return Status::IOError("srvr: reply has no 'Mode' line");
  if (info.version.empty()) return Status::IOError("srvr: reply has no 'Zookeeper version' line");
  if (!have_zxid) return Status::IOError("srvr: reply has no 'Zxid' line");
  return info;
}

Result<std::map<std::string, std::string>> ParseMntr(std::string_view reply) {
  ZK_RETURN_IF_ERROR(CheckFourLetterReply("mntr", reply));
  std::map<std::string, std::string> metrics;
  std::vector<std::string_view> lines = SplitLines(reply);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) continue;
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0) {
      return Status::IOError(
          fmt::format("mntr: line {}: expected 'key<TAB>value', got '{}'", i + 1, line));
    }
    metrics[std::string(line.substr(0, tab))] = std::string(Trim(line.substr(tab + 1)));
  }
  return metrics;
}

Result<std::map<std::string, std::string>> ParseConf(std::string_view reply) {
  ZK_RETURN_IF_ERROR(CheckFourLetterReply("conf", reply));
  std::map<std::string, std::string> conf;
  std::vector<std::string_view> lines = SplitLines(reply);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = Trim(lines[i]);
    if (line.empty() || line == "membership:") continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::IOError(
          fmt::format("conf: line {}: expected 'key=value', got '{}'", i + 1, line));
    }
    conf[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return conf;
}

AdminClient::AdminClient(std::chrono::milliseconds timeout, std::optional<TlsClientFiles> tls)
    : timeout_(timeout), tls_(std::move(tls)) {}

Result<std::string> AdminClient::FourLetterWord(const Endpoint& endpoint,
                                                std::string_view cmd) const {
  if (cmd.size() != 4) {
    return Status::InvalidInput(
        fmt::format("{}: '{}' is not a four-letter word", endpoint.ToString(), cmd));
  }
  const std::string context = fmt::format("{}: {}", endpoint.ToString(), cmd);
  Result<std::string> reply =
      tls_ ? TlsExchange(endpoint, cmd, timeout_, *tls_) : TcpExchange(endpoint, cmd, timeout_);
  if (!reply.ok()) {
    // A TLS-only port may reset a plaintext connection (or wait for the rest
    // of a TLS record: Netty's SslHandler needs a 5-byte header; that timeout
    // reads like any silent server's and gets no hint).
    if (!tls_ && reply.status().message().find("connection reset") != std::string::npos) {
      return Status::IOError(context + ": " + reply.status().message() +
                             " (a TLS-only port? the client needs TLS files)");
    }
    return reply.status().WithContext(context);
  }
  if (Trim(*reply).empty()) {
    // A TLS-only port (secureClientPort) drops plaintext the same way
    // (Netty's SslHandler closes on a record that is not TLS).
    return Status::IOError(
        context + (tls_ ? ": the server closed the connection without a reply (unknown command?)"
                        : ": the server closed the connection without a reply (unknown command, "
                          "or a TLS-only port: the client needs TLS files)"));
  }
  if (reply->find(kNotWhitelistedReply) != std::string::npos) {
    return CheckFourLetterReply(cmd, *reply).WithContext(endpoint.ToString());
  }
  return reply;
}

Result<SrvrInfo> AdminClient::Srvr(const Endpoint& endpoint) const {
  ZK_ASSIGN_OR_RETURN(std::string reply, FourLetterWord(endpoint, "srvr"));
  Result<SrvrInfo> info = ParseSrvr(reply);
  if (!info.ok()) return info.status().WithContext(endpoint.ToString());
  return info;
}

Result<std::map<std::string, std::string>> AdminClient::Mntr(const Endpoint& endpoint) const {
  ZK_ASSIGN_OR_RETURN(std::string reply, FourLetterWord(endpoint, "mntr"));
  Result<std::map<std::string, std::string>> metrics = ParseMntr(reply);
  if (!metrics.ok()) return metrics.status().WithContext(endpoint.ToString());
  return metrics;
}

Result<std::map<std::string, std::string>> AdminClient::Conf(const Endpoint& endpoint) const {
  ZK_ASSIGN_OR_RETURN(std::string reply, FourLetterWord(endpoint, "conf"));
  Result<std::map<std::string, std::string>> conf = ParseConf(reply);
  if (!conf.ok()) return conf.status().WithContext(endpoint.ToString());
  return conf;
}

Status AdminClient::Ruok(const Endpoint& endpoint) const {
  ZK_ASSIGN_OR_RETURN(std::string reply, FourLetterWord(endpoint, "ruok"));
  if (Trim(reply) == "imok") return Status::Ok();
  ZK_RETURN_IF_ERROR(CheckFourLetterReply("ruok", reply).WithContext(endpoint.ToString()));
  return Status::IOError(
      fmt::format("{}: ruok: unexpected reply '{}'", endpoint.ToString(), Trim(reply)));
}

Result<nlohmann::json> AdminClient::Command(const Endpoint& admin_endpoint,
                                            std::string_view command) const {
  const std::string context =
      fmt::format("{}: GET /commands/{}", admin_endpoint.ToString(), command);
  httplib::Client client(admin_endpoint.host, admin_endpoint.port);
  client.set_connection_timeout(timeout_);
  client.set_read_timeout(timeout_);
  client.set_write_timeout(timeout_);
  httplib::Result res = client.Get(fmt::format("/commands/{}", command));
  if (!res) {
    std::string reason = httplib::to_string(res.error());
    if (res.error() == httplib::Error::Connection)
      reason = "could not connect (refused or unreachable)";
    if (res.error() == httplib::Error::Read)
      reason = fmt::format("no complete reply within {}ms", timeout_.count());
    return Status::IOError(fmt::format("{}: {}", context, reason));
  }
  if (res->status != 200) {
    return Status::IOError(
        fmt::format("{}: HTTP {}: {}", context, res->status, BodySummary(res->body)));
  }
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::IOError(
        fmt::format("{}: reply is not a JSON object: {}", context, BodySummary(res->body)));
  }
  auto error = body.find("error");
  if (error != body.end() && !error->is_null()) {
    std::string text = error->is_string() ? error->get<std::string>() : error->dump();
    return Status::IOError(fmt::format("{}: {}", context, text));
  }
  return body;
}

}  // namespace zkpilot
