// The `render`, `lint` and `params` verbs, as library calls the CLI wraps.
//
// Each validates everything before writing anything: an error leaves no
// output file or directory behind.
#pragma once

#include <string>
#include <vector>

#include "package/package.h"
#include "render/renderer.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

// What the user gave for values: -f files (paths) and --set assignments.
struct ValuesRequest {
  std::vector<std::string> files;
  std::vector<std::string> sets;
};

// Reads the -f files (a missing file is invalid input naming it).
Result<ValuesInput> ReadValuesInput(const ValuesRequest& request);

// Loads the package and resolves its values: the start of every verb.
struct LoadedCluster {
  Package package;
  Values values;
};
// With `new_cluster_platform` ("local", "kubernetes"): the values of a new
// cluster there, parameters' newClusterDefault included (deploy).
Result<LoadedCluster> LoadAndResolve(const std::string& package_dir, const ValuesRequest& values,
                                     const std::string& new_cluster_platform = "");

enum class OutputFormat { kYaml, kJson };

struct RenderRequest {
  std::string package_dir;
  ValuesRequest values;
  RenderOptions options;
  OutputFormat format = OutputFormat::kYaml;
  std::string output_dir;  // empty: return the text for stdout
};

// Returns the text to print (empty when writing to output_dir).
Result<std::string> RunRender(const RenderRequest& request);

struct LintReport {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  int objects_rendered = 0;
};
// Checks the package (every template, including disabled add-ons) and the
// values. Never fails itself: problems are in the report.
LintReport RunLint(const std::string& package_dir, const ValuesRequest& values);

// A table of the package's parameters.
Result<std::string> RunParams(const std::string& package_dir, OutputFormat format);

}  // namespace zkpilot
