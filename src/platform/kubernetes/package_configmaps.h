// A package stored in the cluster as data: immutable ConfigMaps named by the
// package's content hash, so the operator renders exactly the files the CLI
// validated, and a changed package is a new set of ConfigMaps (never an edit).
//
//   name    zkpilot-pkg-<package>-<first 12 hex of the hash>, then -2, -3 ...
//           when the files need more than one (about 900 KiB each)
//   labels  app.kubernetes.io/managed-by=zkpilot, zkpilot.io/package=<name>,
//           zkpilot.io/package-hash=<hash12>
//   keys    each file under an encoded key (ConfigMap keys allow only
//           [-._a-zA-Z0-9]); UTF-8 text in data, anything else in
//           binaryData; the key "index.json" maps keys to paths and says
//           which part of how many this ConfigMap is.
//
// The hash (PackageHash) covers every file's path and content, so the
// reader checks both completeness and integrity. Pure: no API calls.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "package/package.h"
#include "package/package_loader.h"
#include "platform/kubernetes/cluster_resource.h"
#include "util/status.h"
#include "util/yaml_json.h"

namespace zkpilot {

inline constexpr char kPackageIndexKey[] = "index.json";
inline constexpr char kLabelPackage[] = "zkpilot.io/package";
inline constexpr char kLabelPackageHash[] = "zkpilot.io/package-hash";
inline constexpr size_t kPackageConfigMapBudget =
    900 * 1024;  // bytes of keys + values per ConfigMap

// SHA-256 (hex) over every file: path, length and content, in path order.
std::string PackageHash(const PackageFiles& files);

// "zkpilot-pkg-<name>-<hash12>": the first (often only) ConfigMap.
std::string PackageConfigMapName(const std::string& package_name, const std::string& hash);

// spec.package for a package and its files: name, version, the first
// ConfigMap's name and the hash.
PackageRef MakePackageRef(const Package& package, const PackageFiles& files);

// Every regular file of a package directory (what LoadPackage reads).
Result<PackageFiles> ReadPackageFiles(const std::string& dir);

// The ConfigMaps holding `files` in `namespace_`, the first one first.
// InvalidInput when one file alone exceeds the budget. `package` gives the
// name and version (ParsePackage(files) of the same files).
Result<std::vector<OrderedJson>> PackageToConfigMaps(const Package& package,
                                                     const PackageFiles& files,
                                                     const std::string& namespace_);

// Names of all parts, read from the first ConfigMap's index (the first
// ConfigMap's own name first).
Result<std::vector<std::string>> PackageConfigMapNames(const nlohmann::json& first);

// All parts (any order) -> the files. Fails (InvalidInput) when a part is
// missing or foreign, an index is malformed, or the files' hash is not
// `expected_hash` ("package zookeeper: ConfigMap contents do not match the
// hash in spec.package.hash").
Result<PackageFiles> PackageFilesFromConfigMaps(const std::vector<nlohmann::json>& config_maps,
                                                const std::string& expected_hash);

// PackageFilesFromConfigMaps, then ParsePackage.
Result<Package> PackageFromConfigMaps(const std::vector<nlohmann::json>& config_maps,
                                      const std::string& expected_hash);

}  // namespace zkpilot
