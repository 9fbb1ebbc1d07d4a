// ZkClient: a ZooKeeper session, over the C client (libzookeeper_mt).
//
// Connect() opens a session and waits, up to a deadline, until it is
// connected; the destructor closes it. Every call is synchronous and returns
// a Status/Result whose message names the operation and path:
//   "create /a/b: node does not exist (ZNONODE)".
// ZNONODE maps to ErrorCode::kNotFound, bad arguments/ACLs to kInvalidInput,
// everything else to kIOError. "Already exists" is reported through
// CreateOptions::ignore_existing and CreatedNode::outcome, not by parsing text.
//
// Blocking: the C client's synchronous calls have no per-call timeout. A call
// returns when the server answers or when the client gives up on the
// connection: with no server reachable, after about 2/3 of the session timeout
// (ZCONNECTIONLOSS), and at worst when the session expires. Keep the session
// timeout short where that matters.
//
// Reconfig and authentication. With `reconfigEnabled=true`, /zookeeper/config
// has the ACL world:anyone:r in 3.8, so reconfig by an unauthenticated client
// fails with ZNOAUTH ("not authenticated"). Two ways out, checked against
// Debian's 3.8.0:
//  - (recommended) start the servers with
//      -Dzookeeper.DigestAuthenticationProvider.superDigest=super:<digest>
//    where <digest> is SuperDigest("super", password) below (base64 SHA-1 of
//    "super:<password>"), and call AddAuth("digest", "super:<password>")
//    before Reconfig(). The super user bypasses every ACL, so treat the
//    password as a secret.
//  - `skipACL=yes` in zoo.cfg disables ACL checks for everyone: insecure,
//    acceptable only in throwaway test ensembles.
//
// TLS: Debian's C client has no TLS. With ZkConnectOptions::tls, Connect()
// starts a TlsTunnel (tls_transport.h) to the connect string's servers and
// points the C client at it; the session is then authenticated as the client
// certificate's subject (x509:<DN>, the super user when the DN is the
// servers' X509AuthenticationProvider.superUser), so AddAuth is not needed.
// The ZkClient owns the tunnel and closes the session before it.
//
// Logging: the C client's own log goes to spdlog (debug level by default);
// SetClientLogging(kVerbose) raises it to info with the library's INFO level.
//
// Thread-safety: the C client is thread-safe; a ZkClient may be shared by
// threads. Connect() and the destructor must not race with other calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/tls_transport.h"

namespace zkpilot {

enum class CreateMode { kPersistent, kEphemeral, kPersistentSequential, kEphemeralSequential };
enum class DeleteMode { kNodeOnly, kRecursive };
enum class ClientLogging { kQuiet, kVerbose };

struct CreateOptions {
  // Comma-separated scheme:id:perms entries; perms from "crwda". The digest
  // scheme's id contains a colon: "digest:user:base64hash:cdrwa".
  std::string acl = "world:anyone:cdrwa";
  CreateMode mode = CreateMode::kPersistent;
  // Create missing ancestors first (persistent, empty data, the same ACL).
  bool make_parents = false;
  // An existing node is success (outcome kAlreadyExisted; its data is left as it is).
  bool ignore_existing = false;
  // With ignore_existing: an existing node is given `acl` too (setAcl, any
  // version), so that a node made with an older, wider ACL is tightened.
  bool enforce_acl = false;
};

struct CreatedNode {
  enum class Outcome { kCreated, kAlreadyExisted };
  Outcome outcome = Outcome::kCreated;
  std::string path;  // the actual path: sequential modes append a counter
};

// "super:<base64 sha1>" for -Dzookeeper.DigestAuthenticationProvider.superDigest,
// and the id part of a "digest:" ACL: `user:base64(sha1(user:password))`.
std::string DigestId(const std::string& user, const std::string& password);

struct ZkConnectOptions {
  int session_timeout_ms = 10000;
  // Set: connect over TLS with these files (see the top of this file).
  std::optional<TlsClientFiles> tls;
};

class ZkClient {
 public:
  // `connect_string`: "host:port,host:port[/chroot]". Fails if no session is
  // established within `timeout` (e.g. every server down or without quorum).
  static Result<std::unique_ptr<ZkClient>> Connect(const std::string& connect_string,
                                                   std::chrono::milliseconds timeout,
                                                   int session_timeout_ms = 10000);
  // The same with options. With `tls`, a server that cannot be reached over
  // TLS makes the error say why ("127.0.0.1:2181: TLS handshake: server
  // certificate not trusted: ..."); a chroot suffix is kept.
  static Result<std::unique_ptr<ZkClient>> Connect(const std::string& connect_string,
                                                   std::chrono::milliseconds timeout,
                                                   const ZkConnectOptions& options);
  // The same to `servers` (no chroot). With `tls`, the tunnel has one
  // listener per server, each verifying that server's certificate against
  // its own tls_name (endpoint.h): how zkpilot reaches pods by IP whose
  // certificates name their DNS names. REQUIRES: !servers.empty().
  static Result<std::unique_ptr<ZkClient>> Connect(const std::vector<Endpoint>& servers,
                                                   std::chrono::milliseconds timeout,
                                                   const ZkConnectOptions& options);
  ~ZkClient();
  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;

  // Process-wide: the C client's log level is global.
  static void SetClientLogging(ClientLogging logging);

  // Adds credentials to the session (e.g. "digest", "super:password") and
  // waits for the server to accept them. Credentials are re-sent on reconnect.
  Status AddAuth(const std::string& scheme, const std::string& credentials);

  // The ACL id ZooKeeper knows this session by ("scheme:id", for an ACL
  // entry "scheme:id:perms"): over TLS "x509:<subject DN of the client
  // certificate>" (X509AuthenticationProvider.getClientId), else after
  // AddAuth("digest", "user:password") "digest:user:<base64 sha1>"
  // (DigestAuthenticationProvider); "" for an anonymous session.
  std::string OwnAclId() const;

  Status Create(const std::string& path, const std::string& data,
                const CreateOptions& options = {});
  Result<CreatedNode> CreateNode(const std::string& path, const std::string& data,
                                 const CreateOptions& options = {});
  Result<bool> Exists(const std::string& path);
  Result<std::string> Get(const std::string& path);
  Status Set(const std::string& path, const std::string& data);
  // kRecursive deletes the children first. A missing node is kNotFound.
  // REQUIRES: path != "/".
  Status Delete(const std::string& path, DeleteMode mode = DeleteMode::kNodeOnly);
  // Child names (not paths), sorted.
  Result<std::vector<std::string>> Children(const std::string& path);
  // Waits until the connected server has caught up with the leader, so a
  // following read sees every write acknowledged before the call.
  Status Sync(const std::string& path = "/");

  // The data of /zookeeper/config (see ParseEnsembleConfig).
  Result<std::string> GetConfig();
  // Incremental reconfig: `joining` is a comma-separated list of server lines
  // ("server.4=host:q:e:participant;host:c"), `leaving` a comma-separated list
  // of ids; either may be empty. `from_config` is the config version the
  // change applies to, or -1 for "whatever is current". Returns the new
  // config. Needs the rights described at the top of this file.
  // Removing the current leader makes it step down, which drops the session's
  // connection before the answer arrives (ZCONNECTIONLOSS); the call then
  // waits for the session to reconnect and succeeds if the config read back
  // shows the change in effect.
  Result<std::string> Reconfig(const std::string& joining, const std::string& leaving,
                               int64_t from_config = -1);
  // Non-incremental reconfig: `members`, a comma-separated list of server
  // lines, becomes the whole membership. Unlike an incremental one it
  // accepts lines without a client address (PrepRequestProcessor checks a
  // joining line for one; parseDynamicConfig, which reads `members`, does
  // not): the form a TLS-only ensemble's lines have. Returns the new config.
  Result<std::string> SetMembers(const std::string& members, int64_t from_config = -1);
  // The same sent without waiting for the answer (as StartReconfig).
  Result<std::function<std::optional<Status>()>> StartSetMembers(const std::string& members, int64_t from_config);

  // The same change sent without waiting for the answer: the returned
  // function says nullopt while none has come, then the outcome. For a
  // leader hand-off, whose answer the old leader may send only when it steps
  // down at its next tick (or never, when it is stopped first).
  Result<std::function<std::optional<Status>()>> StartReconfig(const std::string& joining,
                                                                const std::string& leaving);

  // Sets a (soft) quota on `path`; -1 leaves that dimension unlimited.
  // ZooKeeper logs a warning past it, or rejects writes if the servers run
  // with -Dzookeeper.enforceQuota=true. Writes
  // /zookeeper/quota<path>/zookeeper_limits and zookeeper_stats. Unlike
  // zkCli's setquota it does not check for quotas on ancestors/descendants.
  Status SetQuota(const std::string& path, int64_t bytes, int64_t count);

  const std::string& connect_string() const { return connect_string_; }

 private:
  struct Impl;
  ZkClient(std::string connect_string, std::unique_ptr<Impl> impl);
  // A tunnel to `servers`, then the session through it (`chroot` appended).
  static Result<std::unique_ptr<ZkClient>> ConnectTunneled(const std::vector<Endpoint>& servers,
                                                           const std::string& chroot,
                                                           const std::string& connect_string,
                                                           std::chrono::milliseconds timeout,
                                                           const ZkConnectOptions& options);
  // The session: the C client connects to `c_connect` (the tunnel's, if
  // any, which the client then owns); errors name `connect_string`.
  static Result<std::unique_ptr<ZkClient>> ConnectVia(const std::string& connect_string,
                                                      const std::string& c_connect,
                                                      std::unique_ptr<TlsTunnel> tunnel,
                                                      std::chrono::milliseconds timeout,
                                                      const ZkConnectOptions& options);
  Status DeleteRecursive(const std::string& path);
  Result<std::string> AwaitReconfigResult(const std::string& joining, const std::string& leaving);

  std::string connect_string_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkpilot
