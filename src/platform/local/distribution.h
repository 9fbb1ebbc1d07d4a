// Distributions: where the local platform gets the ZooKeeper JVM code of each
// version.
//
// A Distribution is everything needed to start one ZooKeeper version as a
// local JVM: the main class and an ordered classpath of absolute jar paths.
// The package's `versions` name one per ZooKeeper version by id:
//
//   debian-3.8.0   built in: Debian 12's own `zookeeper` package
//                  (/usr/share/java/zookeeper.jar), present when installed
//   debian-3.9.3   Debian trixie's .deb, fetched into the store by
//                  `scripts/fetch-zookeeper.sh 3.9.3`
//   apache-X.Y.Z   an Apache binary tarball registered with
//                  `scripts/fetch-zookeeper.sh --tarball PATH`
//
// The store is a directory with one subdirectory per fetched distribution,
// <store>/<id>/distribution.json, written by scripts/fetch-zookeeper.sh
// (format and pitfalls: docs/distributions.md). Classpath order matters: a
// Debian zookeeper jar's manifest names the system's older zookeeper-jute.jar,
// so each distribution lists its own jute jar first.
//
// Thread-safety: DistributionStore is immutable after construction; its
// methods read the file system on every call and may run concurrently.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

struct Distribution {
  std::string id;                      // "debian-3.9.3": the package's `distribution`
  std::string version;                 // ZooKeeper version, "3.9.3"
  std::string main_class;              // the server's main class (QuorumPeerMain)
  std::vector<std::string> classpath;  // absolute jar paths, in order
  std::string source;                  // where it came from, for people ("debian trixie .deb")

  // The JVM's -cp value: `conf_dir` first (ZooKeeper finds its logging
  // configuration on the classpath), then the jars, joined with ':'. An empty
  // conf_dir is left out.
  std::string ClasspathString(const std::string& conf_dir) const;
};

// ${ZKPILOT_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/zkpilot}/distributions,
// the default of both zkpilot and scripts/fetch-zookeeper.sh.
std::string DefaultDistributionStoreDir();

// Parses the text of a distribution.json. Pure: checks fields and shapes
// (absolute jar paths without ':'), not whether the jars exist. `origin`
// names the file in errors, which are InvalidInput.
Result<Distribution> ParseDistributionJson(const std::string& text, const std::string& origin);

class DistributionStore {
 public:
  // `system_java_dir` is where Debian installs jars; tests point it elsewhere.
  explicit DistributionStore(std::string store_dir,
                             std::string system_java_dir = "/usr/share/java");

  // The distribution `id`, ready to run: every classpath entry exists.
  // Errors: NotFound for an unknown id (the message lists the available ids
  // and how to fetch one) and for a missing jar (the message names the jar
  // and the command that restores it); InvalidInput for a malformed id or
  // distribution.json.
  Result<Distribution> Find(const std::string& id) const;

  // Every distribution that is ready to run, sorted by id: the built-in
  // Debian one if installed, and the store's. Incomplete or malformed
  // store entries are left out (Find explains what is wrong with one). A
  // store directory that does not exist yet is empty; one that cannot be read
  // is an IOError.
  Result<std::vector<Distribution>> List() const;

  const std::string& store_dir() const { return store_dir_; }

 private:
  // Debian's own zookeeper package, if /usr/share/java/zookeeper.jar is a
  // versioned zookeeper-X.Y.Z.jar; its jars are not checked here.
  Result<Distribution> SystemDistribution() const;
  Result<Distribution> ReadStoreEntry(const std::string& id) const;
  Status CheckJarsExist(const Distribution& d) const;

  std::string store_dir_;
  std::string system_java_dir_;
};

}  // namespace zkpilot
