// ZooKeeper's admin interfaces: four-letter words and the AdminServer.
//
// Two layers. The parsers (ParseSrvr, ParseMntr, ParseConf) are pure: reply
// text in, data out; they are tested on replies captured from a real 3.8.0
// server (src/zk/testdata/). AdminClient does the I/O: one TCP connection per
// four-letter word (the server answers and closes), and HTTP GETs against the
// AdminServer (`admin.serverPort`, JSON).
//
// Replies that are not data become errors naming the command:
//  - "<cmd> is not executed because it is not in the whitelist." (the server's
//    `4lw.commands.whitelist` lacks the command);
//  - "This ZooKeeper instance is not currently serving requests" (no quorum,
//    or still starting) is an error for mntr and conf, but a *state* for srvr:
//    ParseSrvr returns mode == kModeNotServing, because a health probe wants
//    to report it rather than fail.
// Error messages read "127.0.0.1:2181: srvr: connection refused".
//
// TLS: with TlsClientFiles, four-letter words go over TLS (TlsExchange,
// tls_transport.h) with zkpilot's client certificate: a server whose client
// port is secureClientPort answers them there once the handshake is done
// (NettyServerCnxn.receiveMessage -> checkFourLetterWord, 3.8.0 and 3.9.3).
// The AdminServer (Command) stays plain HTTP.
// Thread-safety: AdminClient is immutable; share it freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/tls_transport.h"

namespace zkpilot {

// The mode of a server that answered "not currently serving requests".
inline constexpr std::string_view kModeNotServing = "not-serving";

// The `srvr` reply.
struct SrvrInfo {
  std::string version;  // "3.8.0" (the release, without build details)
  std::string build;    // the whole version line: "3.8.0-..., built on ..."
  std::string mode;     // leader | follower | observer | standalone | read-only | kModeNotServing
  int64_t zxid = 0;
  int64_t latency_min = 0;
  double latency_avg = 0;
  int64_t latency_max = 0;
  int64_t received = 0;
  int64_t sent = 0;
  int64_t connections = 0;
  int64_t outstanding = 0;
  int64_t node_count = 0;

  // True for a server that serves clients as part of an ensemble or alone:
  // leader, follower, observer or standalone. Note: a server that a reconfig
  // just removed keeps reporting its old mode (even "leader") for a moment;
  // `conf` (its server.<id> line) tells whether it is still a member.
  bool IsServing() const;
};

Result<SrvrInfo> ParseSrvr(std::string_view reply);
// `zk_key<TAB>value` lines, keys as sent (with the "zk_" prefix).
Result<std::map<std::string, std::string>> ParseMntr(std::string_view reply);
// `key=value` lines; the "membership:" marker line is skipped, so dynamic
// members appear as "server.1" etc. and the config version as "version".
Result<std::map<std::string, std::string>> ParseConf(std::string_view reply);

// Fails when a four-letter-word reply is a refusal (not whitelisted, not
// serving) rather than data. Used by the parsers; exposed for raw replies.
Status CheckFourLetterReply(std::string_view cmd, std::string_view reply);

class AdminClient {
 public:
  // `timeout` bounds each call as a whole: connect, (handshake,) send and read.
  explicit AdminClient(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                       std::optional<TlsClientFiles> tls = {});

  // The raw reply to a four-letter word. Fails when the server refuses the
  // command (not whitelisted) or closes without a reply (unknown command);
  // "not currently serving" is passed through for the parsers to judge.
  // REQUIRES: cmd.size() == 4.
  Result<std::string> FourLetterWord(const Endpoint& endpoint, std::string_view cmd) const;

  Result<SrvrInfo> Srvr(const Endpoint& endpoint) const;
  Result<std::map<std::string, std::string>> Mntr(const Endpoint& endpoint) const;
  Result<std::map<std::string, std::string>> Conf(const Endpoint& endpoint) const;
  // OK iff the server answers "imok". Note that a server without quorum also
  // answers "imok": ruok says the process is up, not that it is healthy.
  Status Ruok(const Endpoint& endpoint) const;

  // GET http://<admin_endpoint>/commands/<command> and return the JSON body.
  // Fails on a transport error, a non-200 status, a body that is not JSON, or
  // a non-null "error" field (e.g. "Unknown command: x", "This ZooKeeper
  // instance is not currently serving requests").
  Result<nlohmann::json> Command(const Endpoint& admin_endpoint, std::string_view command) const;

  std::chrono::milliseconds timeout() const { return timeout_; }
  const std::optional<TlsClientFiles>& tls() const { return tls_; }

 private:
  std::chrono::milliseconds timeout_;
  std::optional<TlsClientFiles> tls_;
};

}  // namespace zkpilot
