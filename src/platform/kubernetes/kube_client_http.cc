#include "platform/kubernetes/kube_client_http.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstdlib>
#include <vector>

namespace zkpilot {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// host[:port] from an authority (IPv6 in brackets).
void SplitHostPort(const std::string& authority, std::string& host, std::string& port) {
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    host = authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < authority.size() && authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
    return;
  }
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    host = authority;
  } else {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
}

std::optional<uint32_t> Ipv4(const std::string& text) {
  in_addr addr;
  if (::inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string Who(const KubeConnection& c) {
  if (c.context_name.empty()) return "";
  if (c.user_name.empty()) return " (context \"" + c.context_name + "\")";
  return " (user \"" + c.user_name + "\" of context \"" + c.context_name + "\")";
}

}  // namespace

Result<ServerUrl> ParseServerUrl(const std::string& server) {
  ServerUrl url;
  auto sep = server.find("://");
  if (sep == std::string::npos)
    return Status::InvalidInput("server \"" + server + "\" is not a URL");
  url.scheme = Lower(server.substr(0, sep));
  std::string rest = server.substr(sep + 3);
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) url.prefix = rest.substr(slash);
  while (!url.prefix.empty() && url.prefix.back() == '/') url.prefix.pop_back();
  SplitHostPort(authority, url.host, url.port);
  if (url.host.empty()) return Status::InvalidInput("server \"" + server + "\" has no host");
  if (url.port.empty()) url.port = url.scheme == "http" ? "80" : "443";
  return url;
}

Result<ProxyUrl> ParseProxyUrl(const std::string& text) {
  ProxyUrl url;
  std::string rest = text;
  auto sep = text.find("://");
  if (sep == std::string::npos) {
    url.scheme = "http";  // as libcurl reads "proxy:3128"
  } else {
    url.scheme = Lower(text.substr(0, sep));
    rest = text.substr(sep + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    url.user_info = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  SplitHostPort(rest, url.host, url.port);
  if (url.host.empty()) return Status::InvalidInput("proxy \"" + text + "\" has no host");
  if (url.port.empty()) url.port = url.scheme == "https" ? "443" : "1080";
  return url;
}

bool NoProxyMatches(const std::string& no_proxy, const std::string& host_in) {
  std::string host = Lower(host_in);
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t end = no_proxy.find(',', start);
    if (end == std::string::npos) end = no_proxy.size();
    std::string entry = Lower(Trim(no_proxy.substr(start, end - start)));
    start = end + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    auto slash = entry.find('/');
    if (slash != std::string::npos) {  // CIDR
      auto net = Ipv4(entry.substr(0, slash));
      auto ip = Ipv4(host);
      int bits = std::atoi(entry.c_str() + slash + 1);
      if (net && ip && bits >= 0 && bits <= 32) {
        uint32_t mask = bits == 0 ? 0 : ~uint32_t(0) << (32 - bits);
        if ((*net & mask) == (*ip & mask)) return true;
      }
      continue;
    }
    if (entry[0] == '[') entry = entry.substr(1, entry.find(']') - 1);
    if (entry[0] == '.') entry = entry.substr(1);
    if (host == entry) return true;
    if (host.size() > entry.size() &&
        host.compare(host.size() - entry.size(), entry.size(), entry) == 0 &&
        host[host.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

std::string ProxyFor(const KubeConnection& connection, const std::string& host) {
  if (!connection.proxy_url.empty()) return connection.proxy_url;
  std::string no_proxy = Env("no_proxy");
  if (no_proxy.empty()) no_proxy = Env("NO_PROXY");
  if (NoProxyMatches(no_proxy, host)) return "";
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    std::string v = Env(name);
    if (!v.empty()) return v;
  }
  return "";
}

Status ErrorFromAnswer(const KubeConnection& connection, const std::string& request, long status,
                       const std::string& body, std::optional<int> retry_after) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message;
  json causes = json::array();
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    message = parsed.value("message", "");
    if (parsed.contains("details") && parsed["details"].is_object()) {
      const json& details = parsed["details"];
      if (details.contains("causes") && details["causes"].is_array()) causes = details["causes"];
      if (!retry_after && details.contains("retryAfterSeconds") &&
          details["retryAfterSeconds"].is_number_integer()) {
        retry_after = details["retryAfterSeconds"].get<int>();
      }
    }
  } else {
    message = Trim(body.substr(0, 300));
  }
  std::string retry = retry_after ? " (retry after " + std::to_string(*retry_after) + " s)" : "";
  auto with = [&](const std::string& label) {
    return "kubernetes API: " + label + " (" + std::to_string(status) + ")" +
           (message.empty() ? "" : ": " + message);
  };
  switch (status) {
    case 400:
      return Status::InvalidInput(with("bad request"));
    case 401: {
      std::string m =
          "kubernetes API: unauthorized (401): credentials rejected or expired" + Who(connection);
      if (!message.empty() && message != "Unauthorized") m += ": " + message;
      return Status::PermissionDenied(m);
    }
    case 403:
      return Status::PermissionDenied(with("forbidden"));
    case 404:
      return Status::NotFound(with("not found"));
    case 409:
      return Status::Conflict(with("conflict"));
    case 410:
      return Status::Conflict(with("gone") + " (list again)");
    case 422: {
      // The API's message names most fields; add the causes it leaves out.
      std::string m = with("invalid");
      for (const auto& cause : causes) {
        std::string field = cause.value("field", "");
        if (field.empty() || m.find(field) != std::string::npos) continue;
        m += "; " + field + ": " + cause.value("message", "");
      }
      return Status::InvalidInput(m);
    }
    case 429:
      return Status::Unavailable(with("too many requests") + retry);
    default:
      break;
  }
  if (status >= 500) {
    return Status::Unavailable("kubernetes API: " + request + ": server error (" +
                               std::to_string(status) + ")" +
                               (message.empty() ? "" : ": " + message) + retry);
  }
  return Status::Internal("kubernetes API: " + request + ": unexpected answer (" +
                          std::to_string(status) + ")" + (message.empty() ? "" : ": " + message));
}

Status UnreachableError(const KubeConnection& connection, const std::string& detail) {
  std::string where =
      connection.context_name.empty() ? "" : "context \"" + connection.context_name + "\", ";
  return Status::Unavailable("kubernetes API " + connection.server + " unreachable: " + detail +
                             " (" + where + "check --kubeconfig/--context)");
}

Status TimeoutError(const KubeConnection& connection, const std::string& request,
                    std::chrono::seconds timeout) {
  return Status::Unavailable("kubernetes API " + connection.server + ": " + request +
                             ": no answer within " + std::to_string(timeout.count()) + " s");
}

Status TlsError(const KubeConnection& connection, const std::string& detail) {
  return Status::IOError(
      "kubernetes API " + connection.server + ": TLS: " + detail +
      " (check the cluster's certificate-authority and the client certificate in " +
      (connection.source.empty() ? "the configuration" : connection.source) + ")");
}

std::string QueryEscape(const std::string& value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

}  // namespace zkpilot
