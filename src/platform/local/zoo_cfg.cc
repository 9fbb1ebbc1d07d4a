#include "platform/local/zoo_cfg.h"

#include <algorithm>
#include <cctype>

namespace zkpilot {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::map<std::string, std::string> ZooCfgProperties(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = Trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) continue;
    out[std::string(Trim(line.substr(0, sep)))] = std::string(Trim(line.substr(sep + 1)));
  }
  return out;
}

bool ZooCfgTrue(const std::map<std::string, std::string>& properties, const std::string& key) {
  auto it = properties.find(key);
  if (it == properties.end() || it->second.size() != 4) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

}  // namespace zkpilot
