// TlsExchange, TlsTunnel and AdminClient over TLS against a TLS server in this
// process (OpenSSL, certificates made by the openssl command line), and the
// tunnel's refusal of another process. The same against real ZooKeeper:
// zk_tls_integration_test.cc.
#include "zk/tls_transport.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "zk/four_letter.h"
#include "zk/zk_client.h"
#include "zk_fixture/test_pki.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A TLS server on 127.0.0.1:<ephemeral> that requires a client certificate
// issued by the CA. kOnce: reads one chunk, answers "<chunk> from <client
// subject>" and closes (like a four-letter word). kEcho: echoes until the
// client closes.
class TestTlsServer {
 public:
  enum class Mode { kOnce, kEcho };

  TestTlsServer(const std::string& cert, const std::string& key, const std::string& ca, Mode mode)
      : mode_(mode) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_file(ctx_, cert.c_str(), SSL_FILETYPE_PEM), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM), 1);
    EXPECT_EQ(SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr), 1);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    EXPECT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~TestTlsServer() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
    SSL_CTX_free(ctx_);
  }

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }
  int accepted() const { return accepted_.load(); }

 private:
  void Run() {
    while (!stop_) {
      pollfd pfd{listener_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      timeval tv{5, 0};  // a stuck client cannot hold the test up
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      // Like Netty's SslHandler on ZooKeeper's secure port: what does not
      // start as a TLS handshake record (0x16) is dropped.
      unsigned char first = 0;
      if (::recv(fd, &first, 1, MSG_PEEK) != 1 || first != 0x16) {
        char discard[64];
        (void)!::recv(fd, discard, sizeof discard,
                      MSG_DONTWAIT);  // Netty has read it: FIN, not RST
        ::close(fd);
        continue;
      }
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) Serve(ssl);
      ERR_clear_error();
      SSL_free(ssl);
      ::close(fd);
    }
  }
  void Serve(SSL* ssl) {
    char buffer[4096];
    for (;;) {
      int n = SSL_read(ssl, buffer, sizeof buffer);
      if (n <= 0) return;
      std::string reply(buffer, static_cast<size_t>(n));
      if (mode_ == Mode::kOnce) {
        X509* peer = SSL_get1_peer_certificate(ssl);
        char subject[256] = "none";
        if (peer != nullptr)
          X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
        X509_free(peer);
        reply += std::string(" from ") + subject;
      }
      SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
      if (mode_ == Mode::kOnce) return;  // close without close_notify, like ZooKeeper
    }
  }

  Mode mode_;
  SSL_CTX* ctx_ = nullptr;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

class TlsTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("zkpilot-tls-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    Result<TestPki> pki = MakeTestPki(*dir_);
    ASSERT_TRUE(pki.ok()) << pki.status().message();
    pki_ = new TestPki(*pki);
    // The server's key store for ZooKeeper: its key, then its certificate.
    ASSERT_GT(fs::file_size(pki_->server_pem), fs::file_size(pki_->server_cert));
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    delete pki_;
  }
  void SetUp() override { ASSERT_NE(pki_, nullptr); }

  static fs::path* dir_;
  static TestPki* pki_;
};
fs::path* TlsTransportTest::dir_ = nullptr;
TestPki* TlsTransportTest::pki_ = nullptr;

// Connects a plain socket to `endpoint`, sends `data`, reads `want` bytes.
std::string PlainRoundTrip(const Endpoint& endpoint, const std::string& data, size_t want) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(endpoint.port));
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size())) {
    char buffer[4096];
    while (got.size() < want) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      got.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

TEST_F(TlsTransportTest, ExchangePresentsClientCertificateAndReadsUntilClose) {
  TestTlsServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  Result<std::string> reply = TlsExchange(server.endpoint(), "srvr", 5s, pki_->super_user);
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(*reply, "srvr from /CN=zkpilot-super");
}

TEST_F(TlsTransportTest, ExchangeRefusesServerTheCaDoesNotVouchFor) {
  TestTlsServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  Result<std::string> reply = TlsExchange(server.endpoint(), "srvr", 5s, pki_->WithWrongCa());
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(Contains(reply.status().message(), "server certificate not trusted"))
      << reply.status().message();
  EXPECT_TRUE(Contains(reply.status().message(), pki_->other_ca_cert)) << reply.status().message();
  // The server answered: refused, not silent (the liveness probe tells them apart).
  EXPECT_EQ(reply.status().code(), ErrorCode::kPermissionDenied);
}

TEST_F(TlsTransportTest, ExchangeRefusesCertificateForAnotherHost) {
  TestTlsServer server(pki_->dns_only_cert, pki_->dns_only_key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  Result<std::string> reply = TlsExchange(server.endpoint(), "srvr", 5s, pki_->super_user);
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(Contains(reply.status().message(), "does not name 127.0.0.1"))
      << reply.status().message();
  // The same certificate is right for the name it carries.
  Result<std::string> by_name =
      TlsExchange(Endpoint{"localhost", server.endpoint().port}, "srvr", 5s, pki_->super_user);
  EXPECT_TRUE(by_name.ok()) << by_name.status().message();
}

// On Kubernetes zkpilot dials a pod's IP, and the pod's certificate names
// only its DNS name: tls_name is what is verified (and sent as SNI).
TEST_F(TlsTransportTest, ExchangeVerifiesTlsNameInsteadOfTheAddress) {
  const TestPki::PodCertificate& pod = pki_->pods[0];
  TestTlsServer server(pod.cert, pod.key, pki_->ca_cert, TestTlsServer::Mode::kOnce);
  Endpoint by_address = server.endpoint();
  Result<std::string> refused = TlsExchange(by_address, "srvr", 5s, pki_->super_user);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.status().message(), "does not name 127.0.0.1"))
      << refused.status().message();

  Endpoint by_name = by_address;
  by_name.tls_name = pod.name;
  Result<std::string> reply = TlsExchange(by_name, "srvr", 5s, pki_->super_user);
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(*reply, "srvr from /CN=zkpilot-super");
  EXPECT_EQ(by_name.ToString(), by_address.ToString());  // where it connects is unchanged

  // Another pod's name is refused: the name is checked, not merely the CA.
  Endpoint other = by_address;
  other.tls_name = pki_->pods[1].name;
  Result<std::string> wrong = TlsExchange(other, "srvr", 5s, pki_->super_user);
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(Contains(wrong.status().message(), "does not name " + pki_->pods[1].name))
      << wrong.status().message();
  EXPECT_EQ(wrong.status().code(), ErrorCode::kPermissionDenied);
}

TEST_F(TlsTransportTest, TunnelVerifiesEachTargetAgainstItsOwnName) {
  TestTlsServer first(pki_->pods[0].cert, pki_->pods[0].key, pki_->ca_cert,
                      TestTlsServer::Mode::kOnce);
  TestTlsServer second(pki_->pods[1].cert, pki_->pods[1].key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  std::vector<Endpoint> targets = {first.endpoint(), second.endpoint()};
  targets[0].tls_name = pki_->pods[0].name;
  targets[1].tls_name = pki_->pods[1].name;
  Result<std::unique_ptr<TlsTunnel>> tunnel = TlsTunnel::Start(targets, pki_->super_user);
  ASSERT_TRUE(tunnel.ok()) << tunnel.status().message();
  EXPECT_EQ(PlainRoundTrip((*tunnel)->Local(0), "ruok", 100), "ruok from /CN=zkpilot-super");
  EXPECT_EQ(PlainRoundTrip((*tunnel)->Local(1), "srvr", 100), "srvr from /CN=zkpilot-super");
  EXPECT_EQ((*tunnel)->LastError(), "");

  // The names swapped: each server is refused for naming another pod.
  std::swap(targets[0].tls_name, targets[1].tls_name);
  Result<std::unique_ptr<TlsTunnel>> swapped = TlsTunnel::Start(targets, pki_->super_user);
  ASSERT_TRUE(swapped.ok()) << swapped.status().message();
  EXPECT_EQ(PlainRoundTrip((*swapped)->Local(0), "ruok", 100), "");
  EXPECT_TRUE(
      Contains((*swapped)->LastError(), first.endpoint().ToString() +
                                            ": TLS handshake: server certificate does not name " +
                                            pki_->pods[1].name))
      << (*swapped)->LastError();
}

TEST_F(TlsTransportTest, PemInMemoryWorksLikeFiles) {
  TestTlsServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  const TlsClientFiles in_memory = pki_->SuperUserInMemory();
  ASSERT_TRUE(in_memory.ca_file.empty() && in_memory.cert_file.empty() &&
              in_memory.key_file.empty());
  Result<std::string> reply = TlsExchange(server.endpoint(), "srvr", 5s, in_memory);
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(*reply, "srvr from /CN=zkpilot-super");
  Result<std::unique_ptr<TlsTunnel>> tunnel = TlsTunnel::Start({server.endpoint()}, in_memory);
  ASSERT_TRUE(tunnel.ok()) << tunnel.status().message();
  EXPECT_EQ(PlainRoundTrip((*tunnel)->Local(0), "ruok", 100), "ruok from /CN=zkpilot-super");

  // In memory wins over a file that would be wrong.
  TlsClientFiles both = in_memory;
  both.ca_file = pki_->other_ca_cert;
  EXPECT_TRUE(TlsExchange(server.endpoint(), "srvr", 5s, both).ok());

  // Text that is no PEM (a file name, say) is refused as such.
  TlsClientFiles not_pem = in_memory;
  not_pem.ca_pem = pki_->ca_cert;
  Result<std::string> bad = TlsExchange(server.endpoint(), "srvr", 5s, not_pem);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status().message(), "TLS ca_pem: not PEM certificates"))
      << bad.status().message();
  // The CA in memory is what is trusted: another CA's is refused.
  TestPki other = *pki_;
  other.super_user = pki_->WithWrongCa();
  TlsClientFiles wrong_ca = in_memory;
  wrong_ca.ca_pem = other.SuperUserInMemory().ca_pem;
  bad = TlsExchange(server.endpoint(), "srvr", 5s, wrong_ca);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status().message(), "server certificate not trusted"))
      << bad.status().message();
  EXPECT_TRUE(Contains(bad.status().message(), "(CA in memory)")) << bad.status().message();

  // Errors name the field, never quote the key.
  TlsClientFiles no_key = in_memory;
  no_key.key_pem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  bad = TlsExchange(server.endpoint(), "srvr", 5s, no_key);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status().message(), "TLS key_pem: not a PEM private key"))
      << bad.status().message();
  EXPECT_FALSE(Contains(bad.status().message(), "not a key")) << bad.status().message();
  TlsClientFiles other_key = in_memory;
  other_key.key_file = pki_->app1.key_file;
  other_key.key_pem.clear();
  bad = TlsExchange(server.endpoint(), "srvr", 5s, other_key);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "TLS key_file " + pki_->app1.key_file + ": does not match cert_pem");
}

// A stopped server: the kernel accepts the connection into the backlog and
// nothing more happens. That is silence (kIOError), unlike a refusal.
TEST_F(TlsTransportTest, NoHandshakeWithinTheTimeoutIsSilence) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Result<std::string> reply =
      TlsExchange(Endpoint{"127.0.0.1", ntohs(addr.sin_port)}, "ruok", 300ms, pki_->super_user);
  ::close(fd);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kIOError) << reply.status().message();
  EXPECT_TRUE(Contains(reply.status().message(), "timed out")) << reply.status().message();
}

TEST_F(TlsTransportTest, UnreadableFilesAreNamed) {
  TlsClientFiles missing = pki_->super_user;
  missing.key_file = (*dir_ / "absent.key").string();
  Result<std::string> reply = TlsExchange(Endpoint{"127.0.0.1", 1}, "srvr", 1s, missing);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().message(), "TLS key_file " + missing.key_file + ": no such file");
  EXPECT_EQ(reply.status().code(), ErrorCode::kNotFound);  // our files, not the server

  TlsClientFiles mismatched = pki_->super_user;
  mismatched.key_file = pki_->app1.key_file;
  Result<std::unique_ptr<TlsTunnel>> tunnel =
      TlsTunnel::Start({Endpoint{"127.0.0.1", 1}}, mismatched);
  ASSERT_FALSE(tunnel.ok());
  EXPECT_TRUE(Contains(tunnel.status().message(), "does not match cert_file"))
      << tunnel.status().message();
}

TEST_F(TlsTransportTest, AdminClientUsesTlsOnlyWhenGivenFiles) {
  TestTlsServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  Result<std::string> reply =
      AdminClient(5s, pki_->super_user).FourLetterWord(server.endpoint(), "srvr");
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(*reply, "srvr from /CN=zkpilot-super");

  Result<std::string> plain = AdminClient(5s).FourLetterWord(server.endpoint(), "srvr");
  ASSERT_FALSE(plain.ok());
  EXPECT_TRUE(Contains(plain.status().message(), "a TLS-only port")) << plain.status().message();
}

TEST_F(TlsTransportTest, TunnelRelaysBothWaysInTargetOrder) {
  TestTlsServer first(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                      TestTlsServer::Mode::kEcho);
  TestTlsServer second(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  Result<std::unique_ptr<TlsTunnel>> tunnel =
      TlsTunnel::Start({first.endpoint(), second.endpoint()}, pki_->super_user);
  ASSERT_TRUE(tunnel.ok()) << tunnel.status().message();
  EXPECT_EQ((*tunnel)->ConnectString(),
            (*tunnel)->Local(0).ToString() + "," + (*tunnel)->Local(1).ToString());
  const std::string big(100000, 'x');  // more than one TLS record each way
  EXPECT_EQ(PlainRoundTrip((*tunnel)->Local(0), big, big.size()), big);
  EXPECT_EQ(PlainRoundTrip((*tunnel)->Local(1), "ruok", 100), "ruok from /CN=zkpilot-super");
  EXPECT_EQ((*tunnel)->RefusedConnections(), 0);
}

TEST_F(TlsTransportTest, TunnelClosesConnectionsFromAnotherProcessUnrelayed) {
  TestTlsServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kOnce);
  Result<std::unique_ptr<TlsTunnel>> tunnel =
      TlsTunnel::Start({server.endpoint()}, pki_->super_user);
  ASSERT_TRUE(tunnel.ok()) << tunnel.status().message();
  // Another process (python3) connects, sends, and counts what comes back
  // before the connection ends.
  const std::string command = fmt::format(
      "python3 -c \"import socket\n"
      "s = socket.create_connection(('127.0.0.1', {}), timeout=10)\n"
      "s.sendall(b'srvr')\n"
      "n = 0\n"
      "try:\n"
      "    while True:\n"
      "        c = s.recv(100)\n"
      "        if not c: break\n"
      "        n += len(c)\n"
      "except ConnectionResetError:\n"
      "    pass\n"
      "print('received', n)\" 2>&1",
      (*tunnel)->Local(0).port);
  FILE* child = ::popen(command.c_str(), "r");
  ASSERT_NE(child, nullptr);
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, child) != nullptr) output += buffer;
  EXPECT_EQ(::pclose(child), 0) << output;
  EXPECT_EQ(output, "received 0\n");
  EXPECT_EQ((*tunnel)->RefusedConnections(), 1);
  EXPECT_EQ(server.accepted(), 0);  // nothing was relayed: no TLS connection was even opened
  // This process is still served.
  EXPECT_EQ(PlainRoundTrip((*tunnel)->Local(0), "srvr", 100), "srvr from /CN=zkpilot-super");
}

TEST_F(TlsTransportTest, TunnelSaysWhyTargetIsUnreachable) {
  TestTlsServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kEcho);
  Result<std::unique_ptr<TlsTunnel>> tunnel =
      TlsTunnel::Start({server.endpoint()}, pki_->WithWrongCa());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status().message();
  EXPECT_EQ(PlainRoundTrip((*tunnel)->Local(0), "hello", 5), "");
  const std::string error = (*tunnel)->LastError();
  EXPECT_TRUE(Contains(error, server.endpoint().ToString() + ": TLS handshake: server certificate "
                                                             "not trusted"))
      << error;
}

TEST_F(TlsTransportTest, ZkClientOverTlsReportsTheTunnelsError) {
  TestTlsServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert,
                       TestTlsServer::Mode::kEcho);
  ZkConnectOptions options;
  options.tls = pki_->WithWrongCa();
  // Long enough for the tunnel's handshake to fail (and say so) on a busy
  // machine: the error is read when the session's deadline passes.
  Result<std::unique_ptr<ZkClient>> client =
      ZkClient::Connect(server.endpoint().ToString() + "/chroot", 8s, options);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(Contains(client.status().message(),
                       "over TLS: " + server.endpoint().ToString() + ": TLS handshake"))
      << client.status().message();

  options.tls->cert_file = (*dir_ / "absent.crt").string();
  client = ZkClient::Connect(server.endpoint().ToString(), 3s, options);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(Contains(client.status().message(), "TLS cert_file " + options.tls->cert_file))
      << client.status().message();
}

}  // namespace
}  // namespace zkpilot
