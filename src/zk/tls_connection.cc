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
#include <vector>

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

// One PEM input of the context: in memory (`pem`, when set) or a file.
// Errors name it as "ca_pem" or "ca_file /x/ca.crt".
struct PemSource {
  std::string_view field;  // "ca", "cert", "key"
  const std::string& file;
  const std::string& pem;

  std::string Name() const {
    return pem.empty() ? fmt::format("{}_file {}", field, file) : fmt::format("{}_pem", field);
  }
  // Set and (a file) present.
  Status Check() const {
    if (!pem.empty()) return Status::Ok();
    if (file.empty()) return Status::InvalidInput(fmt::format("TLS {}_file: not set", field));
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      return Status::NotFound(fmt::format("TLS {}: no such file", Name()));
    return Status::Ok();
  }
  BioPtr Open() const {
    if (!pem.empty())
      return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    return BioPtr(BIO_new_file(file.c_str(), "r"), &BIO_free);
  }
};

// Every certificate in `source`, in order; an error when there is none.
Result<std::vector<X509*>> ReadCertificates(const PemSource& source, std::string_view what) {
  std::vector<X509*> out;
  BioPtr bio = source.Open();
  while (bio) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    out.push_back(cert);
  }
  // The end of the input reads as "no start line": only an error when
  // nothing was read.
  if (out.empty())
    return Status::InvalidInput(
        fmt::format("TLS {}: not {}: {}", source.Name(), what, TakeSslErrors()));
  ERR_clear_error();
  return out;
}

Status LoadCa(SSL_CTX* ctx, const PemSource& ca) {
  if (ca.pem.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, ca.file.c_str(), nullptr) == 1) return Status::Ok();
    return Status::InvalidInput(
        fmt::format("TLS {}: not PEM certificates: {}", ca.Name(), TakeSslErrors()));
  }
  ZK_ASSIGN_OR_RETURN(std::vector<X509*> certs, ReadCertificates(ca, "PEM certificates"));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  bool added = true;
  for (X509* cert : certs) {
    added = added && X509_STORE_add_cert(store, cert) == 1;
    X509_free(cert);  // the store holds its own reference
  }
  if (!added)
    return Status::InvalidInput(
        fmt::format("TLS {}: cannot be trusted: {}", ca.Name(), TakeSslErrors()));
  return Status::Ok();
}

// The leaf, then any intermediates, as SSL_CTX_use_certificate_chain_file does.
Status LoadCertificateChain(SSL_CTX* ctx, const PemSource& cert) {
  if (cert.pem.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.file.c_str()) == 1) return Status::Ok();
    return Status::InvalidInput(
        fmt::format("TLS {}: not a PEM certificate: {}", cert.Name(), TakeSslErrors()));
  }
  ZK_ASSIGN_OR_RETURN(std::vector<X509*> certs, ReadCertificates(cert, "a PEM certificate"));
  bool used = SSL_CTX_use_certificate(ctx, certs[0]) == 1;
  X509_free(certs[0]);
  for (size_t i = 1; i < certs.size(); ++i) {
    // add0: the context takes the reference, also when it fails.
    used = used && SSL_CTX_add0_chain_cert(ctx, certs[i]) == 1;
    if (!used) X509_free(certs[i]);
  }
  if (!used)
    return Status::InvalidInput(
        fmt::format("TLS {}: not a usable certificate: {}", cert.Name(), TakeSslErrors()));
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
        fmt::format("TLS handshake: server certificate does not name {} ({})",
                    endpoint.VerifiedName(), X509_verify_cert_error_string(verify)));
  }
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return Status::PermissionDenied(
        fmt::format("TLS handshake: server certificate not trusted: {} ({})",
                    X509_verify_cert_error_string(verify),
                    tls.ca_pem.empty() ? "CA file " + tls.ca_file : std::string("CA in memory")));
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
  const PemSource ca{"ca", tls.ca_file, tls.ca_pem};
  const PemSource cert{"cert", tls.cert_file, tls.cert_pem};
  const PemSource key_source{"key", tls.key_file, tls.key_pem};
  for (const PemSource* source : {&ca, &cert, &key_source}) ZK_RETURN_IF_ERROR(source->Check());
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::Internal("TLS: cannot create a context: " + TakeSslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  ZK_RETURN_IF_ERROR(LoadCa(ctx.get(), ca));
  ZK_RETURN_IF_ERROR(LoadCertificateChain(ctx.get(), cert));
  // Read apart from using it, to tell a file that is no key from a key of
  // another certificate.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(nullptr, &EVP_PKEY_free);
  if (BioPtr bio = key_source.Open(); bio) {
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    return Status::InvalidInput(
        fmt::format("TLS {}: not a PEM private key: {}", key_source.Name(), TakeSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidInput(
        fmt::format("TLS {}: does not match {}", key_source.Name(), cert.Name()));
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
  // The name to check: an IP SAN for an address, a DNS SAN (and SNI) for a
  // name. With tls_name, that name, whatever address `host` is.
  const std::string& name = endpoint.VerifiedName();
  if (IsIpAddress(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl.get(), name.c_str());
    SSL_set1_host(ssl.get(), name.c_str());
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
