// The ensemble's dynamic configuration, as stored in /zookeeper/config and
// returned by reconfig:
//
//   server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181
//   server.2=...
//   version=100000000
//
// Pure parsing and formatting; no I/O. Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "util/status.h"
#include "zk/endpoint.h"

namespace zkpilot {

// One `server.<id>=<host>:<quorum>:<election>[:<role>][;[<client host>:]<client port>]` line.
struct ServerEntry {
  int id = 0;
  std::string host;
  int quorum_port = 0;
  int election_port = 0;
  std::string role = "participant";  // participant | observer
  Endpoint client;                   // port 0 when the line has no client part

  // "server.3=127.0.0.1:2888:3888:participant;127.0.0.1:2181": the form that
  // zoo.cfg and an incremental reconfig's `joining` list take.
  std::string ToConfigLine() const;
  bool operator==(const ServerEntry&) const = default;
};

struct EnsembleConfig {
  std::map<int, ServerEntry> servers;  // by id
  int64_t version = 0;                 // the "version=" line (hexadecimal in the text); 0 if absent
};

Result<ServerEntry> ParseServerLine(std::string_view line);

// Parses the whole config; unknown keys are ignored.
Result<EnsembleConfig> ParseEnsembleConfig(std::string_view text);

}  // namespace zkpilot
