// Reading a zoo.cfg back: its keys and values, as ZooKeeper reads them
// (QuorumPeerConfig.parse loads it with java.util.Properties), for what
// zkpilot observes of a server from the file it starts (local_tls.h
// ClassifyTlsStage, local_auth.h ClassifyQuorumAuthStage). Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace zkpilot {

// key -> value of every `key=value` (or `key: value`) line; `#` and `!`
// lines are comments, surrounding blanks are dropped, a later key wins.
// Line continuations and escapes (which neither zkpilot's template nor
// ZooKeeper's rewrite, QuorumPeerConfig.editStaticConfig, writes) are not
// interpreted.
std::map<std::string, std::string> ZooCfgProperties(std::string_view text);

// Whether `key` is set to true as Boolean.parseBoolean reads it
// (case-insensitive "true"); absent: false.
bool ZooCfgTrue(const std::map<std::string, std::string>& properties, const std::string& key);

}  // namespace zkpilot
