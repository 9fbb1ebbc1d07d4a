// Loading a package: directory on disk -> PackageFiles -> Package.
//
// ParsePackage (pure, no disk) turns the contents of a package's files into a
// Package and checks it: metadata, schema, hooks, add-ons and the Mustache
// syntax of every template. Errors are InvalidInput and name the file and
// line ("parameters.yaml:14: parameter replicas: min must be a number").
#pragma once

#include <map>
#include <string>

#include "package/package.h"
#include "util/status.h"

namespace zkpilot {

// Relative path (with '/') -> content, for every regular file of a package.
using PackageFiles = std::map<std::string, std::string>;

Result<Package> ParsePackage(const PackageFiles& files);

// Reads every file under `dir` and parses it. Errors are prefixed with the
// package directory: "packages/zookeeper/parameters.yaml:3: ...".
Result<Package> LoadPackage(const std::string& dir);

}  // namespace zkpilot
