// Package: everything a package directory says about how to run ZooKeeper.
//
// A package is loaded once (package_loader.h reads the directory; ParsePackage
// turns file contents into this struct) and then only read. It is pure data:
// metadata, the parameter schema, templates, declared files, hooks and add-ons.
// The format is documented for package authors in docs/package-format.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "package/schema.h"
#include "util/status.h"

namespace zkpilot {

// One ZooKeeper version the package supports.
struct VersionSpec {
  std::string version;       // "3.8.0"
  std::string image;         // container image for Kubernetes, "zookeeper:3.8.0"
  std::string distribution;  // local distribution id, "debian-3.8.0"
};

// Allowed version switches: from versions matching `from` to any matching
// one of `to`. Patterns are exact versions or "3.8.*"-style prefixes.
struct UpgradePath {
  std::string from;
  std::vector<std::string> to;
};

// A file of the package made available to templates as files.<name>.
struct DeclaredFile {
  std::string name;       // key under `files.` in the template context
  std::string path;       // relative to the package root
  bool is_template = false;  // rendered with the context before use
  bool in_config_hash = false;  // part of `configHash` (restart on change)
  std::vector<std::string> hash_ignore;  // lines starting with these are not hashed
  std::string content;    // the file's text as loaded
  std::string json_text;  // YAML/JSON files that are not templates: the content as JSON
};

enum class HookEvent { kDeploy, kUpgrade, kScale, kDelete };
enum class HookPhase { kInit, kCleanup };

// One step of a lifecycle hook. `action` names what to do (see
// docs/package-format.md for the list); `args` are its arguments, validated
// per action by the loader.
struct HookStep {
  std::string name;
  std::string action;
  nlohmann::json args;  // object: the step's keys except name/action/when
  std::string when;     // optional boolean parameter gating the step
};

struct Hook {
  HookEvent event;
  HookPhase phase;
  std::vector<HookStep> steps;
};

// An optional part of the package switched on by a boolean parameter.
struct Addon {
  std::string name;          // "prometheus"
  std::string description;
  std::string enabled_by;    // boolean parameter, "prometheus.enabled"
  std::string templates_dir; // relative dir of its templates, "addons/prometheus/templates"
};

// A template file: rendered once per cluster, or once per node.
enum class TemplateScope { kCluster, kNode };
struct TemplateFile {
  std::string path;     // relative to the package root, used in error messages
  std::string content;
  TemplateScope scope = TemplateScope::kCluster;
  std::string addon;    // empty for core templates
};

struct Package {
  std::string api_version;  // "zkpilot.io/v1"
  std::string name;
  std::string version;      // the package's own version
  std::string description;
  std::vector<VersionSpec> versions;
  std::vector<UpgradePath> upgrade_paths;
  std::string version_parameter = "version";
  Schema schema;
  std::vector<DeclaredFile> files;
  std::vector<Hook> hooks;
  std::vector<Addon> addons;
  std::vector<TemplateFile> templates;    // sorted by path: core first, then add-ons
  std::map<std::string, std::string> partials;  // name -> template text

  const VersionSpec* FindVersion(const std::string& v) const;
  // True when the package allows switching from `from` to `to`.
  bool UpgradeAllowed(const std::string& from, const std::string& to) const;
};

const char* HookEventName(HookEvent e);
const char* HookPhaseName(HookPhase p);

}  // namespace zkpilot
