#include "platform/local/distribution.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <system_error>

#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

constexpr char kMainClass[] = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
constexpr char kDescriptorName[] = "distribution.json";
constexpr char kFetchScript[] = "scripts/fetch-zookeeper.sh";
constexpr char kInstallDebianZookeeper[] =
    "install Debian's zookeeper package (apt-get install zookeeper)";

// Jars Debian's zookeeper jar needs but leaves out of its manifest
// Class-Path: without servlet-api the AdminServer silently does not start;
// without the Netty ones the Netty connection factory (the one TLS needs)
// fails on the first connection; without an SLF4J binding the server logs
// nothing (slf4j-log4j12 + log4j-1.2 read log4j.properties from the
// classpath's first entry, the node's conf dir). All come with the
// dependencies of Debian's zookeeper package. Keep in sync with
// DEBIAN_EXTRA_JARS in scripts/fetch-zookeeper.sh.
constexpr const char* kDebianExtraJars[] = {
    "servlet-api.jar",    "netty-codec.jar",
    "netty-resolver.jar", "netty-transport-native-unix-common.jar",
    "slf4j-log4j12.jar",  "log4j-1.2.jar",
};

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

bool IsValidId(const std::string& id) {
  static const std::regex kId("[A-Za-z0-9][A-Za-z0-9._+-]*");
  return std::regex_match(id, kId) && id.find("..") == std::string::npos;
}

bool PathIsWithin(const std::string& path, const std::string& dir) {
  return !dir.empty() && path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// How to get distribution `id` (debian-X.Y.Z, apache-X.Y.Z or other).
std::string FetchHint(const std::string& id) {
  static const std::regex kDebian("debian-([0-9]+\\.[0-9]+\\.[0-9]+)");
  static const std::regex kApache("apache-([0-9]+\\.[0-9]+\\.[0-9]+)");
  std::smatch m;
  if (std::regex_match(id, m, kDebian)) {
    return std::string("fetch it with '") + kFetchScript + " " + m[1].str() + "'";
  }
  if (std::regex_match(id, m, kApache)) {
    return std::string("register the Apache binary tarball with '") + kFetchScript +
           " --tarball apache-zookeeper-" + m[1].str() + "-bin.tar.gz'";
  }
  return std::string("fetch one with '") + kFetchScript +
         " VERSION' or register an Apache tarball with '" + kFetchScript + " --tarball PATH'";
}

}  // namespace

std::string Distribution::ClasspathString(const std::string& conf_dir) const {
  std::vector<std::string> parts;
  if (!conf_dir.empty()) parts.push_back(conf_dir);
  parts.insert(parts.end(), classpath.begin(), classpath.end());
  return Join(parts, ":");
}

std::string DefaultDistributionStoreDir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  if (std::string d = env("ZKPILOT_DISTRIBUTIONS"); !d.empty()) return d;
  std::string home = env("ZKPILOT_HOME");
  if (home.empty()) {
    std::string state = env("XDG_STATE_HOME");
    if (state.empty()) {
      std::string user_home = env("HOME");
      if (user_home.empty()) {
        const passwd* pw = getpwuid(getuid());
        user_home = pw && pw->pw_dir ? pw->pw_dir : "/tmp";
      }
      state = user_home + "/.local/state";
    }
    home = state + "/zkpilot";
  }
  return home + "/distributions";
}

Result<Distribution> ParseDistributionJson(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidInput(origin + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return Status::InvalidInput(origin + ": expected a JSON object");

  auto string_field = [&](const char* name, bool required, std::string* out) -> Status {
    auto it = j.find(name);
    if (it == j.end()) {
      return required ? Status::InvalidInput(origin + ": missing field \"" + name + "\"")
                      : Status::Ok();
    }
    if (!it->is_string() || (required && it->get<std::string>().empty())) {
      return Status::InvalidInput(origin + ": field \"" + name + "\" must be a non-empty string");
    }
    *out = it->get<std::string>();
    return Status::Ok();
  };

  Distribution d;
  ZK_RETURN_IF_ERROR(string_field("id", true, &d.id));
  ZK_RETURN_IF_ERROR(string_field("version", true, &d.version));
  ZK_RETURN_IF_ERROR(string_field("mainClass", true, &d.main_class));
  ZK_RETURN_IF_ERROR(string_field("source", false, &d.source));

  auto cp = j.find("classpath");
  if (cp == j.end()) return Status::InvalidInput(origin + ": missing field \"classpath\"");
  if (!cp->is_array() || cp->empty()) {
    return Status::InvalidInput(origin +
                                ": field \"classpath\" must be a non-empty array of jar paths");
  }
  for (size_t i = 0; i < cp->size(); ++i) {
    const auto& entry = (*cp)[i];
    std::string where = origin + ": classpath[" + std::to_string(i) + "]";
    if (!entry.is_string()) return Status::InvalidInput(where + ": must be a string");
    const std::string path = entry.get<std::string>();
    if (path.empty() || path[0] != '/') {
      return Status::InvalidInput(where + ": \"" + path + "\" is not an absolute path");
    }
    if (path.find(':') != std::string::npos) {
      return Status::InvalidInput(where + ": \"" + path +
                                  "\" contains ':', the classpath separator");
    }
    d.classpath.push_back(path);
  }
  return d;
}

DistributionStore::DistributionStore(std::string store_dir, std::string system_java_dir)
    : store_dir_(std::move(store_dir)), system_java_dir_(std::move(system_java_dir)) {
  while (store_dir_.size() > 1 && store_dir_.back() == '/') store_dir_.pop_back();
}

Result<Distribution> DistributionStore::SystemDistribution() const {
  const fs::path jar = fs::path(system_java_dir_) / "zookeeper.jar";
  std::error_code ec;
  if (!fs::is_regular_file(jar, ec)) {
    return Status::NotFound(jar.string() + " does not exist");
  }
  // Debian installs zookeeper.jar next to zookeeper-X.Y.Z.jar, one a symlink
  // to the other (which way round differs between releases).
  static const std::regex kVersioned("zookeeper-([0-9]+\\.[0-9]+\\.[0-9]+)\\.jar");
  std::string version;
  for (const auto& entry : fs::directory_iterator(system_java_dir_, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, kVersioned) && fs::equivalent(entry.path(), jar, ec)) {
      version = m[1].str();
      break;
    }
  }
  if (version.empty()) {
    return Status::NotFound(jar.string() + " is not a versioned zookeeper-X.Y.Z.jar");
  }
  Distribution d;
  d.id = "debian-" + version;
  d.version = version;
  d.main_class = kMainClass;
  d.classpath = {(fs::path(system_java_dir_) / "zookeeper-jute.jar").string(), jar.string()};
  for (const char* extra : kDebianExtraJars) {
    d.classpath.push_back((fs::path(system_java_dir_) / extra).string());
  }
  d.source = "debian package zookeeper (" + system_java_dir_ + ")";
  return d;
}

Result<Distribution> DistributionStore::ReadStoreEntry(const std::string& id) const {
  const std::string path = store_dir_ + "/" + id + "/" + kDescriptorName;
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(path + " does not exist");
  ZK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ZK_ASSIGN_OR_RETURN(Distribution d, ParseDistributionJson(text, path));
  if (d.id != id) {
    return Status::InvalidInput(path + ": id \"" + d.id + "\" does not match its directory \"" +
                                id + "\"");
  }
  return d;
}

Status DistributionStore::CheckJarsExist(const Distribution& d) const {
  for (const auto& jar : d.classpath) {
    std::error_code ec;
    if (fs::is_regular_file(jar, ec)) continue;
    std::string fix = PathIsWithin(jar, store_dir_) ? FetchHint(d.id) : kInstallDebianZookeeper;
    return Status::NotFound("distribution " + d.id + ": missing jar " + jar + "; " + fix);
  }
  return Status::Ok();
}

Result<Distribution> DistributionStore::Find(const std::string& id) const {
  if (!IsValidId(id)) {
    return Status::InvalidInput("\"" + id +
                                "\" is not a distribution id (like debian-3.9.3 or apache-3.8.4)");
  }
  Result<Distribution> system = SystemDistribution();
  if (system.ok() && system->id == id) {
    ZK_RETURN_IF_ERROR(CheckJarsExist(*system));
    return system;
  }
  Result<Distribution> stored = ReadStoreEntry(id);
  if (stored.ok()) {
    ZK_RETURN_IF_ERROR(CheckJarsExist(*stored));
    return stored;
  }
  if (stored.status().code() != ErrorCode::kNotFound) return stored.status();

  std::vector<std::string> available;
  if (Result<std::vector<Distribution>> all = List(); all.ok()) {
    for (const auto& d : *all) available.push_back(d.id);
  }
  std::string hint = FetchHint(id);
  // Debian 12's own version comes from its package, not from the store.
  if (id == "debian-3.8.0") hint = kInstallDebianZookeeper;
  return Status::NotFound("unknown ZooKeeper distribution \"" + id +
                          "\"; available: " + (available.empty() ? "none" : Join(available, ", ")) +
                          " (store " + store_dir_ + "); " + hint);
}

Result<std::vector<Distribution>> DistributionStore::List() const {
  std::map<std::string, Distribution> by_id;
  if (Result<Distribution> system = SystemDistribution();
      system.ok() && CheckJarsExist(*system).ok()) {
    by_id.emplace(system->id, *system);
  }
  std::error_code ec;
  if (!fs::exists(store_dir_, ec)) {
    std::vector<Distribution> out;
    for (auto& [id, d] : by_id) out.push_back(std::move(d));
    return out;
  }
  fs::directory_iterator it(store_dir_, ec);
  if (ec) return Status::IOError("distribution store " + store_dir_ + ": " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Hidden entries are the fetch script's lock and work in progress.
    if (name.empty() || name[0] == '.' || !it->is_directory(ec) || !IsValidId(name)) continue;
    if (by_id.count(name)) continue;  // the system's own package wins
    Result<Distribution> d = ReadStoreEntry(name);
    if (d.ok() && CheckJarsExist(*d).ok()) by_id.emplace(name, std::move(d).value());
  }
  if (ec) return Status::IOError("distribution store " + store_dir_ + ": " + ec.message());
  std::vector<Distribution> out;
  for (auto& [id, d] : by_id) out.push_back(std::move(d));
  return out;
}

}  // namespace zkpilot
