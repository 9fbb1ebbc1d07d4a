#include "platform/local/services.h"

#include <filesystem>
#include <fstream>

#include "util/files.h"

namespace zkpilot {
namespace fs = std::filesystem;

std::string ServicesDir(const std::string& cluster_home) { return cluster_home + "/services"; }

Status WriteService(const std::string& cluster_home, const ServiceSpec& spec) {
  std::error_code ec;
  fs::create_directories(ServicesDir(cluster_home), ec);
  if (ec) return Status::IOError(ServicesDir(cluster_home) + ": " + ec.message());
  nlohmann::json j = {{"name", spec.name}, {"enabled", spec.enabled}, {"address", spec.address}, {"port", spec.port},
                      {"launch", spec.launch.ToJson()}};
  const std::string path = ServicesDir(cluster_home) + "/" + spec.name + ".json";
  return WriteFileAtomically(path, j.dump(2) + "\n", 0600);
}

Result<std::vector<ServiceSpec>> ReadServices(const std::string& cluster_home) {
  std::vector<ServiceSpec> out;
  ZK_ASSIGN_OR_RETURN(auto files, ListFilesRecursive(ServicesDir(cluster_home)));
  for (const auto& f : files) {
    if (f.size() < 5 || f.compare(f.size() - 5, 5, ".json") != 0 || f.find('/') != std::string::npos) continue;
    ZK_ASSIGN_OR_RETURN(std::string text, ReadFile(ServicesDir(cluster_home) + "/" + f));
    try {
      auto j = nlohmann::json::parse(text);
      ServiceSpec s;
      s.name = j.at("name").get<std::string>();
      s.enabled = j.value("enabled", false);
      s.address = j.value("address", "");
      s.port = j.value("port", 0);
      if (j.contains("launch") && !j["launch"].value("argv", nlohmann::json::array()).empty()) {
        ZK_ASSIGN_OR_RETURN(s.launch, LaunchSpec::FromJson(j["launch"]));
      }
      out.push_back(std::move(s));
    } catch (const std::exception& e) {
      return Status::IOError(ServicesDir(cluster_home) + "/" + f + ": " + e.what());
    }
  }
  return out;
}

Status DisableServices(const std::string& cluster_home) {
  ZK_ASSIGN_OR_RETURN(auto services, ReadServices(cluster_home));
  for (auto& s : services) {
    s.enabled = false;
    ZK_RETURN_IF_ERROR(WriteService(cluster_home, s));
  }
  return Status::Ok();
}

int ServicePid(const std::string& cluster_home, const std::string& name) {
  std::ifstream in(ServicesDir(cluster_home) + "/" + name + ".pid");
  int pid = 0;
  in >> pid;
  return pid;
}

void SetServicePid(const std::string& cluster_home, const std::string& name, int pid) {
  std::ofstream(ServicesDir(cluster_home) + "/" + name + ".pid", std::ios::trunc) << pid << "\n";
}

}  // namespace zkpilot
