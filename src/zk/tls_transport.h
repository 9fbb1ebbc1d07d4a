// zkpilot's own connections to a ZooKeeper whose client port speaks TLS only.
//
// Why this exists: Debian's ZooKeeper C client (libzookeeper-mt 3.8.0, what
// zk_client.h wraps) is built without TLS, yet zkpilot must run hooks,
// reconfigs and health checks against such a cluster, as the super user.
// ZooKeeper maps a client certificate to the id x509:<subject DN>, and to the
// super user when the DN equals X509AuthenticationProvider.superUser
// (X509AuthenticationProvider.handleAuthentication, called by
// NettyServerCnxnFactory.CertificateVerifier once the handshake is done;
// 3.8.0 and 3.9.3 alike). So zkpilot presents its own certificate
// (CN=zkpilot-super) and needs no other credentials.
//
//  - TlsExchange: TcpExchange (endpoint.h) over TLS, for four-letter words,
//    which a secure port answers like a plaintext one once the handshake is
//    done (NettyServerCnxn.receiveMessage -> checkFourLetterWord).
//  - TlsTunnel: for the C client. A listening socket on 127.0.0.1 per
//    target; each plaintext connection accepted there is relayed over a fresh
//    TLS connection to its target. The plaintext side would give any local
//    user zkpilot's identity, so it serves only sockets of its own process.
//
// Verification: the server's certificate must chain to the CA and name the
// endpoint's tls_name, else its host (an IP SAN for an address, a DNS SAN
// for a name; endpoint.h). TLS 1.2
// at least. Errors say what failed ("TLS handshake: server certificate not
// trusted: unable to get local issuer certificate (CA file /x/ca.crt)");
// TlsExchange's callers add the endpoint (as with TcpExchange), the tunnel
// adds it itself (LastError); unreadable files name the file and the field.
// Codes: zkpilot's own files unusable -> kNotFound / kInvalidInput; the
// server answered but a certificate was refused either way (verification, a
// TLS alert) -> kPermissionDenied; no connection, no handshake or reply in
// time, a close without an alert -> kIOError.
// Thread-safety: TlsExchange has no shared state; a TlsTunnel runs its own
// threads, and its methods may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "zk/endpoint.h"

namespace zkpilot {

// PEM: the cluster's CA (to verify the server) and zkpilot's client
// certificate and key, each from a file or held in memory (on Kubernetes
// they come from a Secret, and no key is written to disk). A non-empty
// *_pem is used instead of its file.
struct TlsClientFiles {
  std::string ca_file, cert_file, key_file;
  // Initialised, so that {ca_file, cert_file, key_file} draws no
  // -Wmissing-field-initializers warning.
  std::string ca_pem = {}, cert_pem = {}, key_pem = {};
  bool operator==(const TlsClientFiles&) const = default;
};

// TcpExchange over TLS: handshake (server certificate verified against the
// CA and the endpoint's VerifiedName()), send, read until the server
// closes, all within one deadline. REQUIRES: timeout > 0.
Result<std::string> TlsExchange(const Endpoint& endpoint, std::string_view request,
                                std::chrono::milliseconds timeout, const TlsClientFiles& tls,
                                size_t max_reply_bytes = 16 << 20);

// An in-process TLS tunnel: one listener per target, each connection to
// targets[i] verified against targets[i]'s own name (tls_name). ConnectString()
// is "127.0.0.1:p1,127.0.0.1:p2" in the targets' order. A connection is relayed while both sides are open;
// the TLS handshake gets `handshake_timeout`. Threads stop and sockets close
// in the destructor.
class TlsTunnel {
 public:
  // Fails (nothing started) when a file cannot be loaded or the key does not
  // match the certificate, or no port can be bound. REQUIRES: !targets.empty().
  static Result<std::unique_ptr<TlsTunnel>> Start(
      const std::vector<Endpoint>& targets, const TlsClientFiles& tls,
      std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10));
  ~TlsTunnel();
  TlsTunnel(const TlsTunnel&) = delete;
  TlsTunnel& operator=(const TlsTunnel&) = delete;

  std::string ConnectString() const;
  // The local endpoint that relays to targets[i].
  Endpoint Local(size_t i) const;

  // The last failure to reach a target ("127.0.0.1:2181: TLS handshake: ..."),
  // or "" when none failed: for an error when a session never comes up.
  std::string LastError() const;
  // How many accepted connections were refused (not from this process).
  int RefusedConnections() const;

 private:
  struct State;
  explicit TlsTunnel(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace zkpilot
