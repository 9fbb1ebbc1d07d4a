#include "zk/ensemble_config.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace zkpilot {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <typename T>
bool ParseNumber(std::string_view text, T& out, int base = 10) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool ValidPort(int port) { return port > 0 && port <= 65535; }

}  // namespace

std::string ServerEntry::ToConfigLine() const {
  std::string line =
      fmt::format("server.{}={}:{}:{}:{}", id, host, quorum_port, election_port, role);
  if (client.port != 0) line += fmt::format(";{}:{}", client.host, client.port);
  return line;
}

Result<ServerEntry> ParseServerLine(std::string_view line) {
  auto bad = [&](std::string_view why) {
    return Status::IOError(fmt::format("server line '{}': {}", line, why));
  };
  line = Trim(line);
  size_t eq = line.find('=');
  if (!line.starts_with("server.") || eq == std::string_view::npos)
    return bad("expected server.<id>=...");
  ServerEntry entry;
  if (!ParseNumber(line.substr(7, eq - 7), entry.id) || entry.id < 0) return bad("bad server id");

  std::string_view value = line.substr(eq + 1);
  size_t semi = value.find(';');
  std::string_view addresses = value.substr(0, semi);

  // The host may be a bracketed IPv6 address.
  std::string_view rest = addresses;
  if (addresses.starts_with('[')) {
    size_t close = addresses.find(']');
    if (close == std::string_view::npos) return bad("unterminated '['");
    entry.host = std::string(addresses.substr(0, close + 1));
    rest = addresses.substr(close + 1);
    if (!rest.starts_with(':')) return bad("expected ':' after the host");
    rest.remove_prefix(1);
  } else {
    size_t colon = addresses.find(':');
    if (colon == std::string_view::npos) return bad("expected host:quorum_port:election_port");
    entry.host = std::string(addresses.substr(0, colon));
    rest = addresses.substr(colon + 1);
  }
  std::vector<std::string_view> parts = Split(rest, ':');
  if (parts.size() < 2 || parts.size() > 3 || !ParseNumber(parts[0], entry.quorum_port) ||
      !ParseNumber(parts[1], entry.election_port) || !ValidPort(entry.quorum_port) ||
      !ValidPort(entry.election_port)) {
    return bad("expected host:quorum_port:election_port[:role]");
  }
  if (parts.size() == 3) {
    entry.role = std::string(parts[2]);
    if (entry.role != "participant" && entry.role != "observer")
      return bad("role must be participant or observer");
  }

  // No client part (a TLS-only server, whose client port is its
  // secureClientPort): ZooKeeper prints none (QuorumServer.toString), and
  // reads "...;" as none too (String.split drops the trailing empty part).
  std::string_view client = semi == std::string_view::npos ? std::string_view() : Trim(value.substr(semi + 1));
  if (!client.empty()) {
    if (client.find(':') == std::string_view::npos) {
      entry.client.host = "0.0.0.0";
      if (!ParseNumber(client, entry.client.port) || !ValidPort(entry.client.port))
        return bad("bad client port");
    } else {
      Result<Endpoint> endpoint = ParseEndpoint(client);
      if (!endpoint.ok()) return bad(endpoint.status().message());
      entry.client = *endpoint;
    }
  }
  return entry;
}

Result<EnsembleConfig> ParseEnsembleConfig(std::string_view text) {
  EnsembleConfig config;
  std::vector<std::string_view> lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = Trim(lines[i]);
    if (line.empty()) continue;
    if (line.starts_with("server.")) {
      Result<ServerEntry> entry = ParseServerLine(line);
      if (!entry.ok()) return entry.status().WithContext(fmt::format("line {}", i + 1));
      if (config.servers.count(entry->id)) {
        return Status::IOError(fmt::format("line {}: server.{} appears twice", i + 1, entry->id));
      }
      config.servers[entry->id] = *entry;
    } else if (line.starts_with("version=")) {
      if (!ParseNumber(line.substr(8), config.version, 16)) {
        return Status::IOError(fmt::format("line {}: bad version '{}'", i + 1, line.substr(8)));
      }
    }
  }
  return config;
}

}  // namespace zkpilot
