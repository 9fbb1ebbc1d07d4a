#include "platform/kubernetes/package_configmaps.h"

#include <openssl/evp.h>

#include <filesystem>
#include <map>
#include <set>

#include "util/files.h"
#include "util/hash.h"

namespace zkpilot {
namespace {

using nlohmann::json;

constexpr size_t kMaxKeyLength = 253;

bool KeyChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

// A path as a ConfigMap key: [-.a-zA-Z0-9] kept, every other byte (also
// '_' and '/') as "_XX" (hex), so the encoding is one-to-one. Keys that are
// still not allowed (too long, "..", the index's own key) become a hash.
std::string EncodeKey(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string key;
  for (unsigned char c : path) {
    if (KeyChar(c)) {
      key += static_cast<char>(c);
    } else {
      key += '_';
      key += kHex[c >> 4];
      key += kHex[c & 15];
    }
  }
  if (key.size() > kMaxKeyLength || key == "." || key.rfind("..", 0) == 0 ||
      key == kPackageIndexKey)
    key = "file-" + Sha256Hex(path).substr(0, 32);
  return key;
}

// Strict UTF-8 (RFC 3629: no overlong forms, surrogates or NUL): what a
// ConfigMap's data may hold as a JSON string.
bool IsUtf8Text(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c == 0) return false;
    if (c < 0x80)
      n = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      n = 1;
    else if (c >= 0xE0 && c <= 0xEF)
      n = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
      n = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
      return false;
    if (i + n >= s.size() && n > 0) return false;
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char b = s[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b >> 6) != 0x2) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string Base64Encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(const std::string& in) {
  if (in.size() % 4 != 0) return Status::InvalidInput("not base64");
  std::string out(3 * (in.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return Status::InvalidInput("not base64");
  size_t padding = 0;
  if (!in.empty() && in[in.size() - 1] == '=') ++padding;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string PartName(const std::string& first, int part) {
  return part == 1 ? first : first + "-" + std::to_string(part);
}

struct Part {
  std::vector<std::pair<std::string, std::string>> entries;  // path, content
  size_t bytes = 0;
};

}  // namespace

std::string PackageHash(const PackageFiles& files) {
  std::string all;
  for (const auto& [path, content] : files) {
    all += path;
    all += '\0';
    all += std::to_string(content.size());
    all += '\0';
    all += content;
  }
  return Sha256Hex(all);
}

std::string PackageConfigMapName(const std::string& package_name, const std::string& hash) {
  return "zkpilot-pkg-" + package_name + "-" + hash.substr(0, 12);
}

PackageRef MakePackageRef(const Package& package, const PackageFiles& files) {
  PackageRef ref;
  ref.name = package.name;
  ref.version = package.version;
  ref.hash = PackageHash(files);
  ref.config_map = PackageConfigMapName(package.name, ref.hash);
  return ref;
}

Result<PackageFiles> ReadPackageFiles(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::InvalidInput(dir + ": package directory does not exist");
  ZK_ASSIGN_OR_RETURN(auto names, ListFilesRecursive(dir));
  PackageFiles files;
  for (const auto& name : names) {
    ZK_ASSIGN_OR_RETURN(auto content, ReadFile(dir + "/" + name));
    files[name] = std::move(content);
  }
  return files;
}

Result<std::vector<OrderedJson>> PackageToConfigMaps(const Package& package,
                                                     const PackageFiles& files,
                                                     const std::string& namespace_) {
  const std::string hash = PackageHash(files);
  const std::string first = PackageConfigMapName(package.name, hash);
  std::vector<Part> parts(1);
  for (const auto& [path, content] : files) {
    size_t bytes = EncodeKey(path).size() +
                   (IsUtf8Text(content) ? content.size() : 4 * ((content.size() + 2) / 3));
    if (bytes > kPackageConfigMapBudget)
      return Status::InvalidInput("package " + package.name + ": " + path + " is " +
                                  std::to_string(content.size()) +
                                  " bytes; a file must fit a ConfigMap (" +
                                  std::to_string(kPackageConfigMapBudget / 1024) + " KiB)");
    if (parts.back().bytes + bytes > kPackageConfigMapBudget) parts.emplace_back();
    parts.back().entries.emplace_back(path, content);
    parts.back().bytes += bytes;
  }
  std::vector<OrderedJson> out;
  const int total = static_cast<int>(parts.size());
  for (int i = 0; i < total; ++i) {
    OrderedJson data = OrderedJson::object(), binary = OrderedJson::object();
    json index_files = json::object();
    std::set<std::string> used;
    for (const auto& [path, content] : parts[i].entries) {
      std::string key = EncodeKey(path);
      if (!used.insert(key).second)
        key = "file-" + Sha256Hex(path).substr(0, 32);  // cannot happen; be safe
      used.insert(key);
      index_files[key] = path;
      if (IsUtf8Text(content))
        data[key] = content;
      else
        binary[key] = Base64Encode(content);
    }
    json index = {
        {"package", package.name}, {"version", package.version}, {"hash", hash}, {"part", i + 1},
        {"parts", total},          {"files", index_files}};
    OrderedJson all_data = {{kPackageIndexKey, index.dump()}};
    for (auto& [k, v] : data.items()) all_data[k] = v;
    OrderedJson cm = {{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata",
                       {{"name", PartName(first, i + 1)},
                        {"namespace", namespace_},
                        {"labels",
                         {{kLabelManagedBy, kManagedByValue},
                          {kLabelPackage, package.name},
                          {kLabelPackageHash, hash.substr(0, 12)}}}}},
                      {"immutable", true},
                      {"data", all_data}};
    if (!binary.empty()) cm["binaryData"] = binary;
    out.push_back(std::move(cm));
  }
  return out;
}

Result<std::vector<std::string>> PackageConfigMapNames(const json& first) {
  const std::string name = first.value("metadata", json::object()).value("name", "");
  const json data = first.value("data", json::object());
  if (!data.is_object() || !data.contains(kPackageIndexKey) || !data[kPackageIndexKey].is_string())
    return Status::InvalidInput("ConfigMap " + name + ": no " + kPackageIndexKey +
                                ": not a zkpilot package");
  json index =
      json::parse(data[kPackageIndexKey].get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (!index.is_object() || !index.value("parts", json()).is_number_integer() ||
      index.value("part", 0) != 1)
    return Status::InvalidInput("ConfigMap " + name + ": " + kPackageIndexKey +
                                " is malformed or not part 1");
  std::vector<std::string> names;
  for (int i = 1; i <= index["parts"].get<int>(); ++i) names.push_back(PartName(name, i));
  return names;
}

Result<PackageFiles> PackageFilesFromConfigMaps(const std::vector<json>& config_maps,
                                                const std::string& expected_hash) {
  PackageFiles files;
  std::map<int, std::string> seen;  // part -> ConfigMap name
  int total = -1;
  std::string package = "?";
  for (const auto& cm : config_maps) {
    const std::string name = cm.value("metadata", json::object()).value("name", "");
    auto bad = [&](const std::string& msg) {
      return Status::InvalidInput("package ConfigMap " + name + ": " + msg);
    };
    const json data = cm.value("data", json::object());
    const json binary = cm.value("binaryData", json::object());
    if (!data.is_object() || !binary.is_object()) return bad("data is not a map");
    if (!data.contains(kPackageIndexKey) || !data[kPackageIndexKey].is_string())
      return bad(std::string("no ") + kPackageIndexKey);
    json index =
        json::parse(data[kPackageIndexKey].get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (!index.is_object() || !index.value("part", json()).is_number_integer() ||
        !index.value("parts", json()).is_number_integer() ||
        !index.value("files", json()).is_object())
      return bad(std::string(kPackageIndexKey) + " is malformed");
    package = index.value("package", package);
    if (index.value("hash", "") != expected_hash)
      return bad("holds the package with hash " + index.value("hash", "?") + ", not " +
                 expected_hash);
    const int part = index["part"].get<int>();
    if (total == -1) total = index["parts"].get<int>();
    if (index["parts"].get<int>() != total || part < 1 || part > total)
      return bad("part numbers disagree");
    if (!seen.emplace(part, name).second)
      return bad("part " + std::to_string(part) + " given twice");
    for (const auto& [key, path] : index["files"].items()) {
      if (!path.is_string())
        return bad(std::string(kPackageIndexKey) + ": " + key + " has no path");
      if (data.contains(key) && data[key].is_string()) {
        files[path.get<std::string>()] = data[key].get<std::string>();
      } else if (binary.contains(key) && binary[key].is_string()) {
        auto decoded = Base64Decode(binary[key].get<std::string>());
        if (!decoded.ok()) return bad("binaryData " + key + ": not base64");
        files[path.get<std::string>()] = std::move(decoded).value();
      } else {
        return bad("file " + path.get<std::string>() + " (key " + key + ") is missing");
      }
    }
  }
  if (total < 1) return Status::InvalidInput("package: no ConfigMaps given");
  if (static_cast<int>(seen.size()) != total)
    return Status::InvalidInput("package " + package + ": " + std::to_string(seen.size()) + " of " +
                                std::to_string(total) + " ConfigMaps present");
  if (PackageHash(files) != expected_hash)
    return Status::InvalidInput(
        "package " + package +
        ": the ConfigMaps' files do not match the hash in spec.package.hash (" + expected_hash +
        ")");
  return files;
}

Result<Package> PackageFromConfigMaps(const std::vector<json>& config_maps,
                                      const std::string& expected_hash) {
  ZK_ASSIGN_OR_RETURN(PackageFiles files, PackageFilesFromConfigMaps(config_maps, expected_hash));
  auto pkg = ParsePackage(files);
  if (!pkg.ok()) return pkg.status().WithContext("package from ConfigMaps");
  return pkg;
}

}  // namespace zkpilot
