// Endpoint and a one-shot TCP exchange: the network layer of the admin client.
//
// TcpExchange connects, sends a request, and reads until the peer closes the
// connection, all within one deadline. It is what ZooKeeper's four-letter
// words need (the server answers and closes). Errors are IOError statuses
// whose message says what failed ("connection refused", "timed out after
// 500ms waiting for a reply"); callers add the endpoint and command as context.
// Thread-safety: free functions without shared state.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/status.h"

namespace zkpilot {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 0;

  std::string ToString() const;  // "127.0.0.1:2181"
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

}  // namespace zkpilot
