#include "zk/tls_connection.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <filesystem>

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// A file the context needs: set and present, else an error naming it.
Status CheckFile(std::string_view field, const std::string& path) {
  if (path.empty()) return Status::InvalidInput(fmt::format("TLS {}: not set", field));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound(fmt::format("TLS {} {}: no such file", field, path));
  }
  return Status::Ok();
}

// Why a handshake failed. A certificate check that failed (ours of the
// server's, or the server's of ours, which arrives as a TLS alert in
// OpenSSL's queue) is kPermissionDenied: the server answered and refused.
// A socket error or a close without an alert is kIOError, like a server that
// never answered. The liveness probe relies on the difference (liveness.h).
Status HandshakeFailure(SSL* ssl, int ssl_error, const TlsClientFiles& tls,
                        const Endpoint& endpoint) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    ERR_clear_error();
    return Status::PermissionDenied(
        fmt::format("TLS handshake: server certificate does not name {} ({})", endpoint.host,
                    X509_verify_cert_error_string(verify)));
  }
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return Status::PermissionDenied(
        fmt::format("TLS handshake: server certificate not trusted: {} (CA file {})",
                    X509_verify_cert_error_string(verify), tls.ca_file));
  }
  if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    return Status::IOError(
        "TLS handshake: " +
        (errno != 0
             ? ErrnoText(errno)
             : std::string("the server closed the connection (not a TLS port, or it refused us)")));
  }
  if (ssl_error == SSL_ERROR_SSL)
    return Status::PermissionDenied("TLS handshake: " + TakeSslErrors());
  return Status::IOError("TLS handshake: " + TakeSslErrors());
}

}  // namespace

std::string TakeSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    char text[256];
    if (reason == nullptr) ERR_error_string_n(e, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : text;
  }
  return out.empty() ? "unknown TLS error" : out;
}

Result<SslCtxPtr> NewTlsClientContext(const TlsClientFiles& tls) {
  ZK_RETURN_IF_ERROR(CheckFile("ca_file", tls.ca_file));
  ZK_RETURN_IF_ERROR(CheckFile("cert_file", tls.cert_file));
  ZK_RETURN_IF_ERROR(CheckFile("key_file", tls.key_file));
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::Internal("TLS: cannot create a context: " + TakeSslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr) != 1) {
    return Status::InvalidInput(
        fmt::format("TLS ca_file {}: not PEM certificates: {}", tls.ca_file, TakeSslErrors()));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1) {
    return Status::InvalidInput(
        fmt::format("TLS cert_file {}: not a PEM certificate: {}", tls.cert_file, TakeSslErrors()));
  }
  // Read apart from using it, to tell a file that is no key from a key of
  // another certificate.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(nullptr, &EVP_PKEY_free);
  if (std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(tls.key_file.c_str(), "r"),
                                                    &BIO_free);
      bio) {
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    return Status::InvalidInput(
        fmt::format("TLS key_file {}: not a PEM private key: {}", tls.key_file, TakeSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidInput(
        fmt::format("TLS key_file {}: does not match cert_file {}", tls.key_file, tls.cert_file));
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  // The relay retries a write with a buffer that may have moved; partial
  // writes let it forward what fits.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // ZooKeeper closes a four-letter-word connection without close_notify
  // (NettyServerCnxn.close); the reply is complete when the socket closes,
  // as over plaintext.
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  return ctx;
}

Result<TlsConnection> TlsConnection::Open(SSL_CTX* ctx, const TlsClientFiles& tls,
                                          const Endpoint& endpoint, Clock::time_point deadline,
                                          std::chrono::milliseconds timeout, int wake_fd,
                                          const std::atomic<bool>* stop) {
  ZK_ASSIGN_OR_RETURN(UniqueFd fd, ConnectTcp(endpoint, deadline, timeout));
  // Each TLS record goes out at once. With Nagle's algorithm a record that
  // follows an unacknowledged one waited for the server's delayed ACK: a
  // write through the tunnel took 40 ms instead of under 1 (bench/tls), as
  // the C client writes a request in more than one piece.
  const int one = 1;
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ERR_clear_error();
  SslPtr ssl(SSL_new(ctx));
  if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1) {
    return Status::Internal("TLS: cannot set up a connection: " + TakeSslErrors());
  }
  // The name to check: an IP SAN for an address, a DNS SAN (and SNI) for a name.
  if (IsIpAddress(endpoint.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), endpoint.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl.get(), endpoint.host.c_str());
    SSL_set1_host(ssl.get(), endpoint.host.c_str());
  }
  for (;;) {
    if (stop != nullptr && stop->load()) return Status::IOError("TLS handshake: abandoned");
    errno = 0;
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int error = SSL_get_error(ssl.get(), rc);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      return HandshakeFailure(ssl.get(), error, tls, endpoint);
    }
    ZK_ASSIGN_OR_RETURN(
        bool ready,
        WaitReady(fd.get(), error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, wake_fd));
    if (!ready) {
      return Status::IOError(fmt::format("TLS handshake: timed out after {}ms", timeout.count()));
    }
  }
  return TlsConnection(std::move(fd), std::move(ssl));
}

}  // namespace zkpilot
