// Endpoint and a one-shot TCP exchange: the network layer of the admin client.
//
// TcpExchange connects, sends a request, and reads until the peer closes the
// connection, all within one deadline. It is what ZooKeeper's four-letter
// words need (the server answers and closes). Errors are IOError statuses
// whose message says what failed ("connection refused", "timed out after
// 500ms waiting for a reply"); callers add the endpoint and command as context.
// The lower pieces (UniqueFd, ConnectTcp, WaitReady) are shared with the
// TLS transport (tls_transport.h).
// Thread-safety: free functions without shared state.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "util/status.h"

namespace zkpilot {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 0;
  // The DNS name a TLS connection verifies the server's certificate against
  // and sends as SNI; empty: `host` itself (an IP SAN for an address, a DNS
  // SAN for a name). On Kubernetes zkpilot dials a pod's IP, whose
  // certificate names the pod's stable DNS name instead. Unused without TLS.
  std::string tls_name = {};

  std::string ToString() const;  // "127.0.0.1:2181" (tls_name is not shown)
  // The name a TLS connection verifies: tls_name, else host.
  const std::string& VerifiedName() const { return tls_name.empty() ? host : tls_name; }
  bool operator==(const Endpoint&) const = default;
};

// Parses "host:port" (the host may be a name or an IPv4 address).
Result<Endpoint> ParseEndpoint(std::string_view text);

// Sends `request` to `endpoint` and returns everything the peer writes until
// it closes the connection. `timeout` bounds the whole exchange (resolving,
// connecting, writing and reading). Replies larger than `max_reply_bytes` are
// an error. REQUIRES: timeout > 0.
Result<std::string> TcpExchange(const Endpoint& endpoint, std::string_view request,
                                std::chrono::milliseconds timeout,
                                size_t max_reply_bytes = 16 << 20);

// Closes the descriptor when it goes out of scope. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset();

 private:
  int fd_ = -1;
};

// strerror() with a lower-case first letter, to read well after a colon.
std::string ErrnoText(int err);

// A connected, non-blocking, close-on-exec socket to `endpoint`, before
// `deadline`; `timeout` only words the error ("timed out after 500ms connecting").
Result<UniqueFd> ConnectTcp(const Endpoint& endpoint,
                            std::chrono::steady_clock::time_point deadline,
                            std::chrono::milliseconds timeout);

// Waits until `fd` is ready for `events` (poll's POLLIN/POLLOUT) or the
// deadline passes: false on timeout. `wake_fd` (if >= 0) ends the wait early
// when readable (then true is returned; the caller checks why it woke).
Result<bool> WaitReady(int fd, short events, std::chrono::steady_clock::time_point deadline,
                       int wake_fd = -1);

}  // namespace zkpilot
