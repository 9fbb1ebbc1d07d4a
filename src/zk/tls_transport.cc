#include "zk/tls_transport.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <list>
#include <mutex>
#include <thread>

#include "util/proc_sockets.h"
#include "zk/tls_connection.h"

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;

// Runs one SSL_read/SSL_write-like call until it makes progress, waiting for
// the socket as OpenSSL asks. Returns the call's result (> 0), 0 for a clean
// close by the peer, or an error.
template <typename Call>
Result<int> SslCall(SSL* ssl, int fd, Clock::time_point deadline, std::string_view what,
                    std::chrono::milliseconds timeout, size_t received, Call call) {
  for (;;) {
    errno = 0;
    const int rc = call();
    if (rc > 0) return rc;
    const int error = SSL_get_error(ssl, rc);
    if (error == SSL_ERROR_ZERO_RETURN) return 0;
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      ZK_ASSIGN_OR_RETURN(bool ready,
                          WaitReady(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline));
      if (!ready) {
        return Status::IOError(fmt::format("timed out after {}ms {} ({} bytes received)",
                                           timeout.count(), what, received));
      }
      continue;
    }
    // A reset after a complete reply still counts as the reply (as over TCP).
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && received > 0) return 0;
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      return Status::IOError(fmt::format(
          "TLS {}: {}", what, errno != 0 ? ErrnoText(errno) : "the server closed the connection"));
    }
    // E.g. "tlsv13 alert certificate required": the server refused our
    // certificate. With TLS 1.3 the server checks it after our side of the
    // handshake is done, so its alert arrives here (kPermissionDenied: it
    // answered, see HandshakeFailure in tls_connection.cc).
    if (error == SSL_ERROR_SSL)
      return Status::PermissionDenied(fmt::format("TLS {}: {}", what, TakeSslErrors()));
    return Status::IOError(fmt::format("TLS {}: {}", what, TakeSslErrors()));
  }
}

// True when the peer of `fd`, a connection accepted on 127.0.0.1, is a
// socket this process holds: its row in /proc/net/tcp is the one whose local
// address is our peer and whose remote address is us.
bool PeerIsOwnSocket(int fd) {
  sockaddr_in local{}, peer{};
  socklen_t local_len = sizeof local, peer_len = sizeof peer;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
      peer.sin_family != AF_INET)
    return false;
  // /proc writes an IPv4 address as the 32-bit value in network order, %08X.
  const std::string peer_address = fmt::format("{:08X}", peer.sin_addr.s_addr);
  const std::string local_address = fmt::format("{:08X}", local.sin_addr.s_addr);
  std::vector<uint64_t> inodes;
  for (const TcpSocketEntry& socket : ReadTcpSockets()) {
    if (socket.local_port == ntohs(peer.sin_port) && socket.remote_port == ntohs(local.sin_port) &&
        socket.local_address == peer_address && socket.remote_address == local_address &&
        socket.inode != 0)
      inodes.push_back(socket.inode);
  }
  return ProcessHoldsSocket("self", inodes);
}

// Moves bytes both ways between `plain` and the TLS connection until either
// side closes (the server's last bytes are delivered first), an error, or
// `stop`. Both sockets are non-blocking.
void Pump(int plain, const TlsConnection& tls, int wake_fd, const std::atomic<bool>& stop) {
  SSL* ssl = tls.ssl();
  std::string up, down;  // up: plaintext -> TLS; down: TLS -> plaintext
  char buffer[16 * 1024];
  bool plain_eof = false, tls_eof = false;
  // What OpenSSL asked for on the last attempt of each direction.
  bool write_wants_read = false, write_wants_write = false, read_wants_write = false;
  while (!stop.load()) {
    for (bool progress = true; progress;) {
      progress = false;
      if (up.empty() && !plain_eof) {
        const ssize_t n = ::recv(plain, buffer, sizeof buffer, 0);
        if (n > 0) {
          up.assign(buffer, static_cast<size_t>(n));
          progress = true;
        } else if (n == 0) {
          plain_eof = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          return;
        }
      }
      if (!up.empty()) {
        write_wants_read = write_wants_write = false;
        const int rc = SSL_write(ssl, up.data(), static_cast<int>(up.size()));
        if (rc > 0) {
          up.erase(0, static_cast<size_t>(rc));
          progress = true;
        } else {
          const int error = SSL_get_error(ssl, rc);
          if (error == SSL_ERROR_WANT_READ) {
            write_wants_read = true;
          } else if (error == SSL_ERROR_WANT_WRITE) {
            write_wants_write = true;
          } else {
            ERR_clear_error();
            return;
          }
        }
      }
      if (down.empty() && !tls_eof) {
        read_wants_write = false;
        const int rc = SSL_read(ssl, buffer, sizeof buffer);
        if (rc > 0) {
          down.assign(buffer, static_cast<size_t>(rc));
          progress = true;
        } else {
          const int error = SSL_get_error(ssl, rc);
          if (error == SSL_ERROR_WANT_WRITE) {
            read_wants_write = true;
          } else if (error != SSL_ERROR_WANT_READ) {
            ERR_clear_error();
            tls_eof = true;  // closed, cleanly or not: deliver what came, then end
          }
        }
      }
      if (!down.empty()) {
        const ssize_t n = ::send(plain, down.data(), down.size(), MSG_NOSIGNAL);
        if (n > 0) {
          down.erase(0, static_cast<size_t>(n));
          progress = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          return;
        }
      }
    }
    if ((plain_eof && up.empty()) || (tls_eof && down.empty())) return;
    pollfd fds[3] = {
        {plain,
         static_cast<short>((up.empty() && !plain_eof ? POLLIN : 0) |
                            (!down.empty() ? POLLOUT : 0)),
         0},
        {tls.fd(),
         static_cast<short>(
             ((down.empty() && !tls_eof && !read_wants_write) || write_wants_read ? POLLIN : 0) |
             (write_wants_write || read_wants_write ? POLLOUT : 0)),
         0},
        {wake_fd, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) return;
    // A side that hung up or failed while we were not reading it: nothing more will move.
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) && !(fds[i].events & POLLIN)) return;
    }
  }
}

}  // namespace

Result<std::string> TlsExchange(const Endpoint& endpoint, std::string_view request,
                                std::chrono::milliseconds timeout, const TlsClientFiles& tls,
                                size_t max_reply_bytes) {
  const Clock::time_point deadline = Clock::now() + timeout;
  ZK_ASSIGN_OR_RETURN(SslCtxPtr ctx, NewTlsClientContext(tls));
  ZK_ASSIGN_OR_RETURN(TlsConnection connection,
                      TlsConnection::Open(ctx.get(), tls, endpoint, deadline, timeout));
  SSL* ssl = connection.ssl();
  size_t sent = 0;
  while (sent < request.size()) {
    ZK_ASSIGN_OR_RETURN(int n, SslCall(ssl, connection.fd(), deadline, "sending", timeout, 0, [&] {
                          return SSL_write(ssl, request.data() + sent,
                                           static_cast<int>(request.size() - sent));
                        }));
    if (n == 0) return Status::IOError("TLS sending: the server closed the connection");
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buffer[8192];
  for (;;) {
    ZK_ASSIGN_OR_RETURN(
        int n, SslCall(ssl, connection.fd(), deadline, "waiting for a reply", timeout, reply.size(),
                       [&] { return SSL_read(ssl, buffer, sizeof buffer); }));
    if (n == 0) return reply;  // the server closed: the reply is complete
    reply.append(buffer, static_cast<size_t>(n));
    if (reply.size() > max_reply_bytes) {
      return Status::IOError(fmt::format("reply larger than {} bytes", max_reply_bytes));
    }
  }
}

// ---------------------------------------------------------------------------

struct TlsTunnel::State {
  SslCtxPtr ctx;
  TlsClientFiles tls;
  std::vector<Endpoint> targets;
  std::vector<UniqueFd> listeners;  // listeners[i] relays to targets[i]
  std::vector<int> ports;
  std::chrono::milliseconds handshake_timeout{0};
  UniqueFd wake;  // an eventfd, written once by the destructor: every wait ends
  std::atomic<bool> stop{false};
  std::thread acceptor;

  std::mutex mu;  // guards the rest
  struct Relay {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Relay> relays;
  std::string last_error;
  int refused = 0;

  void Accept();
  void Serve(UniqueFd plain, size_t target);
  void NoteFailure(const std::string& error);
};

void TlsTunnel::State::Accept() {
  while (!stop.load()) {
    std::vector<pollfd> fds;
    for (const UniqueFd& listener : listeners) fds.push_back({listener.get(), POLLIN, 0});
    fds.push_back({wake.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      spdlog::error("TLS tunnel: poll: {}", ErrnoText(errno));
      return;
    }
    if (stop.load()) return;
    for (size_t i = 0; i < listeners.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      int fd = ::accept4(listeners[i].get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) continue;
      // A reply that spans TLS records is relayed in pieces: each goes at once
      // (see TlsConnection::Open).
      const int one = 1;
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard<std::mutex> lock(mu);
      for (auto it = relays.begin(); it != relays.end();) {  // reap finished relays
        if (it->done->load()) {
          it->thread.join();
          it = relays.erase(it);
        } else {
          ++it;
        }
      }
      auto done = std::make_shared<std::atomic<bool>>(false);
      relays.push_back({std::thread([this, fd, i, done] {
                          Serve(UniqueFd(fd), i);
                          done->store(true);
                        }),
                        done});
    }
  }
}

void TlsTunnel::State::Serve(UniqueFd plain, size_t target) {
  // The plaintext side is unauthenticated, and what it reaches is a session
  // as zkpilot's certificate: the super user. Any local user can connect to
  // 127.0.0.1, so a connection is served only when its other end is a socket
  // of this process (the C client's); anything else is closed unread.
  if (!PeerIsOwnSocket(plain.get())) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++refused;
    }
    spdlog::warn(
        "TLS tunnel 127.0.0.1:{} -> {}: refused a connection from another process "
        "(its socket is not this process's)",
        ports[target], targets[target].ToString());
    return;
  }
  const Clock::time_point deadline = Clock::now() + handshake_timeout;
  Result<TlsConnection> tls_connection = TlsConnection::Open(
      ctx.get(), tls, targets[target], deadline, handshake_timeout, wake.get(), &stop);
  if (!tls_connection.ok()) {
    NoteFailure(tls_connection.status().WithContext(targets[target].ToString()).message());
    return;
  }
  Pump(plain.get(), *tls_connection, wake.get(), stop);
}

void TlsTunnel::State::NoteFailure(const std::string& error) {
  std::lock_guard<std::mutex> lock(mu);
  if (stop.load()) return;
  // The C client retries every few hundred milliseconds: say each new failure once.
  if (error != last_error) spdlog::warn("TLS tunnel: {}", error);
  last_error = error;
}

Result<std::unique_ptr<TlsTunnel>> TlsTunnel::Start(const std::vector<Endpoint>& targets,
                                                    const TlsClientFiles& tls,
                                                    std::chrono::milliseconds handshake_timeout) {
  if (targets.empty()) return Status::InvalidInput("TLS tunnel: no targets");
  auto state = std::make_unique<State>();
  ZK_ASSIGN_OR_RETURN(state->ctx, NewTlsClientContext(tls));
  state->tls = tls;
  state->targets = targets;
  state->handshake_timeout = handshake_timeout;
  state->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (state->wake.get() < 0) return Status::IOError("TLS tunnel: eventfd: " + ErrnoText(errno));
  for (const Endpoint& target : targets) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never any other address
    socklen_t len = sizeof addr;
    if (fd.get() < 0 || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd.get(), 16) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return Status::IOError(fmt::format("TLS tunnel to {}: listen on 127.0.0.1: {}",
                                         target.ToString(), ErrnoText(errno)));
    }
    state->ports.push_back(ntohs(addr.sin_port));
    state->listeners.push_back(std::move(fd));
  }
  State* raw = state.get();
  state->acceptor = std::thread([raw] { raw->Accept(); });
  return std::unique_ptr<TlsTunnel>(new TlsTunnel(std::move(state)));
}

TlsTunnel::TlsTunnel(std::unique_ptr<State> state) : state_(std::move(state)) {}

TlsTunnel::~TlsTunnel() {
  state_->stop.store(true);
  const uint64_t one = 1;
  if (::write(state_->wake.get(), &one, sizeof one) < 0) {
    spdlog::error("TLS tunnel: cannot wake its threads: {}", ErrnoText(errno));
  }
  state_->acceptor.join();  // no relay starts after this
  std::list<State::Relay> relays;
  {
    std::lock_guard<std::mutex> lock(state_->mu);  // relays take it too: join outside
    relays.swap(state_->relays);
  }
  for (State::Relay& relay : relays) relay.thread.join();
}

std::string TlsTunnel::ConnectString() const {
  std::string out;
  for (int port : state_->ports) out += fmt::format("{}127.0.0.1:{}", out.empty() ? "" : ",", port);
  return out;
}

Endpoint TlsTunnel::Local(size_t i) const { return Endpoint{"127.0.0.1", state_->ports.at(i)}; }

std::string TlsTunnel::LastError() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->last_error;
}

int TlsTunnel::RefusedConnections() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->refused;
}

}  // namespace zkpilot
