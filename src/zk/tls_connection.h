// The OpenSSL layer under tls_transport.h (internal to src/zk/): a client
// context loaded from TlsClientFiles, and one verified TLS connection over a
// non-blocking socket, with every wait bounded by a deadline.
// Thread-safety: a context may be shared by connections on any thread (OpenSSL
// 3 contexts are safe to use concurrently once set up); a connection is used
// by one thread.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/tls_transport.h"

namespace zkpilot {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// A client context: TLS 1.2 at least, the server verified against the CA,
// the client certificate and key presented, each read from memory (*_pem)
// or its file. Errors name the field and file ("TLS cert_file
// /x/zkpilot.crt: no such file", "TLS key_pem: not a PEM private key: ...").
Result<SslCtxPtr> NewTlsClientContext(const TlsClientFiles& tls);

// OpenSSL's error queue as text (reasons joined by "; "), emptied.
std::string TakeSslErrors();

class TlsConnection {
 public:
  // Connects and completes the handshake before `deadline`, verifying that
  // the server's certificate names endpoint.VerifiedName() (IP or DNS SAN).
  // `wake_fd` (>= 0) and `stop` let a tunnel abandon a handshake when it
  // shuts down.
  // Errors read "TLS handshake: server certificate not trusted: ..." (the
  // caller adds the endpoint).
  static Result<TlsConnection> Open(SSL_CTX* ctx, const TlsClientFiles& tls,
                                    const Endpoint& endpoint,
                                    std::chrono::steady_clock::time_point deadline,
                                    std::chrono::milliseconds timeout, int wake_fd = -1,
                                    const std::atomic<bool>* stop = nullptr);

  int fd() const { return fd_.get(); }
  SSL* ssl() const { return ssl_.get(); }

 private:
  TlsConnection(UniqueFd fd, SslPtr ssl) : fd_(std::move(fd)), ssl_(std::move(ssl)) {}
  UniqueFd fd_;  // declared first: destroyed after the SSL object that uses it
  SslPtr ssl_;
};

}  // namespace zkpilot
