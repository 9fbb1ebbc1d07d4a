#include "zk/endpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, at least 0, for poll().
int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z')
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

Result<bool> WaitReady(int fd, short events, Clock::time_point deadline, int wake_fd) {
  for (;;) {
    pollfd pfds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    int n = ::poll(pfds, 2, RemainingMs(deadline));  // poll skips a negative wake_fd
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return Status::IOError("poll: " + ErrnoText(errno));
  }
}

Result<UniqueFd> ConnectTcp(const Endpoint& endpoint, Clock::time_point deadline,
                            std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  std::string port = std::to_string(endpoint.port);
  int gai = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &addrs);
  if (gai != 0)
    return Status::IOError(fmt::format("resolve {}: {}", endpoint.host, gai_strerror(gai)));

  std::string last_error = "no address";
  for (addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = "socket: " + ErrnoText(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      Result<bool> ready = WaitReady(fd, POLLOUT, deadline);
      if (!ready.ok() || !*ready) {
        ::close(fd);
        ::freeaddrinfo(addrs);
        if (!ready.ok()) return ready.status();
        return Status::IOError(fmt::format("timed out after {}ms connecting", timeout.count()));
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      ::freeaddrinfo(addrs);
      return UniqueFd(fd);
    }
    last_error = ErrnoText(errno);
    ::close(fd);
  }
  ::freeaddrinfo(addrs);
  return Status::IOError(last_error);
}

std::string Endpoint::ToString() const { return fmt::format("{}:{}", host, port); }

Result<Endpoint> ParseEndpoint(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidInput(fmt::format("endpoint '{}': expected host:port", text));
  }
  Endpoint endpoint;
  endpoint.host = std::string(text.substr(0, colon));
  std::string_view port = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || endpoint.port <= 0 ||
      endpoint.port > 65535) {
    return Status::InvalidInput(fmt::format("endpoint '{}': bad port '{}'", text, port));
  }
  return endpoint;
}

Result<std::string> TcpExchange(const Endpoint& endpoint, std::string_view request,
                                std::chrono::milliseconds timeout, size_t max_reply_bytes) {
  const Clock::time_point deadline = Clock::now() + timeout;
  ZK_ASSIGN_OR_RETURN(UniqueFd fd, ConnectTcp(endpoint, deadline, timeout));

  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return Status::IOError("send: " + ErrnoText(errno));
    ZK_ASSIGN_OR_RETURN(bool ready, WaitReady(fd.get(), POLLOUT, deadline));
    if (!ready)
      return Status::IOError(fmt::format("timed out after {}ms sending", timeout.count()));
  }

  std::string reply;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n == 0) return reply;  // the peer closed: the reply is complete
    if (n > 0) {
      reply.append(buffer, static_cast<size_t>(n));
      if (reply.size() > max_reply_bytes) {
        return Status::IOError(fmt::format("reply larger than {} bytes", max_reply_bytes));
      }
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      // A reset after a complete reply still counts as the reply.
      if (errno == ECONNRESET && !reply.empty()) return reply;
      return Status::IOError("recv: " + ErrnoText(errno));
    }
    ZK_ASSIGN_OR_RETURN(bool ready, WaitReady(fd.get(), POLLIN, deadline));
    if (!ready) {
      return Status::IOError(
          fmt::format("timed out after {}ms waiting for a reply ({} bytes received)",
                      timeout.count(), reply.size()));
    }
  }
}

}  // namespace zkpilot
