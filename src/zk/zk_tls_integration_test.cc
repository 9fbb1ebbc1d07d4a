// zkpilot's own connections to a real, TLS-only ZooKeeper ensemble (Debian's
// 3.8.0, three servers, secureClientPort only, quorum over TLS, x509 client
// authentication, CN=zkpilot-super the super user): four-letter words through
// AdminClient, sessions through ZkClient's TLS tunnel, the tunnel's refusal of
// another process, and a CA that does not vouch for the servers. The
// zoo.cfg lines are ZkTestEnsemble's TlsConfig (tests/zk_fixture), recorded
// in docs/security.md.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "zk/ensemble_config.h"
#include "zk/four_letter.h"
#include "zk/tls_transport.h"
#include "zk/zk_client.h"
#include "zk_fixture/test_pki.h"
#include "zk_fixture/zk_fixture.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ZkTlsIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / fmt::format("zkpilot-tls-zk-{}", ::getpid()));
    fs::create_directories(*dir_);
    Result<TestPki> pki = MakeTestPki(*dir_);
    if (!pki.ok()) {
      start_error_ = new std::string(pki.status().message());
      return;
    }
    pki_ = new TestPki(*pki);
    ZkTestEnsembleOptions options;
    options.keep_dir = getenv("ZKPILOT_KEEP") != nullptr;  // to read the servers' logs
    options.tls = ZkTestTls{pki_->server_pem, pki_->ca_cert, pki_->super_user};
    Result<std::unique_ptr<ZkTestEnsemble>> started = ZkTestEnsemble::Start(3, options);
    if (started.ok()) {
      ensemble_ = std::move(started).value().release();
    } else {
      start_error_ = new std::string(started.status().message());
    }
  }
  static void TearDownTestSuite() {
    delete ensemble_;  // kills the servers by PID, removes their directory
    ensemble_ = nullptr;
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    delete pki_;
    delete start_error_;
  }
  void SetUp() override { ASSERT_NE(ensemble_, nullptr) << *start_error_; }

  static std::unique_ptr<ZkClient> Session(const TlsClientFiles& tls,
                                           const std::string& chroot = "") {
    ZkConnectOptions options;
    options.tls = tls;
    Result<std::unique_ptr<ZkClient>> client =
        ZkClient::Connect(ensemble_->ConnectString() + chroot, 20s, options);
    EXPECT_TRUE(client.ok()) << client.status().message();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  static fs::path* dir_;
  static TestPki* pki_;
  static ZkTestEnsemble* ensemble_;
  static std::string* start_error_;
};
fs::path* ZkTlsIntegrationTest::dir_ = nullptr;
TestPki* ZkTlsIntegrationTest::pki_ = nullptr;
ZkTestEnsemble* ZkTlsIntegrationTest::ensemble_ = nullptr;
std::string* ZkTlsIntegrationTest::start_error_ = nullptr;

TEST_F(ZkTlsIntegrationTest, FourLetterWordsOverTlsFromEveryServer) {
  const AdminClient tls_admin(10s, pki_->super_user);
  const AdminClient plain_admin(1s);
  for (int id = 1; id <= 3; ++id) {
    Result<SrvrInfo> srvr = tls_admin.Srvr(ensemble_->Client(id));
    ASSERT_TRUE(srvr.ok()) << srvr.status().message();
    EXPECT_TRUE(srvr->mode == "leader" || srvr->mode == "follower") << srvr->mode;
    EXPECT_EQ(srvr->version, "3.8.0");
    auto mntr = tls_admin.Mntr(ensemble_->Client(id));
    ASSERT_TRUE(mntr.ok()) << mntr.status().message();
    EXPECT_EQ(mntr->count("zk_server_state"), 1u);
    auto conf = tls_admin.Conf(ensemble_->Client(id));
    ASSERT_TRUE(conf.ok()) << conf.status().message();
    EXPECT_EQ(conf->at("secureClientPort"), std::to_string(ensemble_->Client(id).port));
    // No plaintext client port at all: ZooKeeperServer.dumpConf prints
    // getClientPort(), -1 without a plaintext connection factory.
    EXPECT_EQ(conf->at("clientPort"), "-1");

    Result<SrvrInfo> plain = plain_admin.Srvr(ensemble_->Client(id));
    ASSERT_FALSE(plain.ok());
    EXPECT_TRUE(Contains(plain.status().message(), ensemble_->Client(id).ToString() + ": srvr"));
    // Netty's SslHandler waits for a whole TLS record header: a plaintext
    // four-letter word (4 bytes) gets no answer at all.
    EXPECT_TRUE(Contains(plain.status().message(), "timed out after 1000ms waiting for a reply"))
        << plain.status().message();
  }
}

TEST_F(ZkTlsIntegrationTest, SuperUserSessionOverridesAclsAndAnotherIdentityDoesNot) {
  std::unique_ptr<ZkClient> super = Session(pki_->super_user);
  ASSERT_NE(super, nullptr);
  ASSERT_TRUE(super->Create("/tls-plain", "hello").ok());
  Result<std::string> data = super->Get("/tls-plain");
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ(*data, "hello");
  ASSERT_TRUE(super->Delete("/tls-plain").ok());

  // world:anyone:r grants no delete on the children: only the super user may.
  CreateOptions read_only;
  read_only.acl = "world:anyone:r";
  ASSERT_TRUE(super->Create("/tls-acl", "", read_only).ok());
  ASSERT_TRUE(super->Create("/tls-acl/child", "", read_only).ok());

  std::unique_ptr<ZkClient> app1 = Session(pki_->app1);
  ASSERT_NE(app1, nullptr);
  EXPECT_TRUE(app1->Get("/tls-acl/child").ok());  // read is granted to anyone
  Status denied = app1->Delete("/tls-acl/child");
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(Contains(denied.message(), "ZNOAUTH")) << denied.message();
  // An x509 identity is an ACL id like any other: app1 owns what it makes so.
  CreateOptions own;
  own.acl = "x509:CN=app1:cdrwa";
  ASSERT_TRUE(app1->Create("/tls-app1", "", own).ok());
  EXPECT_TRUE(app1->Delete("/tls-app1").ok());

  Status deleted = super->Delete("/tls-acl/child");
  EXPECT_TRUE(deleted.ok()) << deleted.message();
  EXPECT_TRUE(super->Delete("/tls-acl").ok());
}

TEST_F(ZkTlsIntegrationTest, ChrootSuffixIsKept) {
  std::unique_ptr<ZkClient> root = Session(pki_->super_user);
  ASSERT_NE(root, nullptr);
  ASSERT_TRUE(root->Create("/tls-chroot", "").ok());
  {
    std::unique_ptr<ZkClient> chrooted = Session(pki_->super_user, "/tls-chroot");
    ASSERT_NE(chrooted, nullptr);
    ASSERT_TRUE(chrooted->Create("/inside", "x").ok());
  }
  Result<bool> inside = root->Exists("/tls-chroot/inside");
  EXPECT_TRUE(inside.ok() && *inside) << inside.status().message();
  EXPECT_TRUE(root->Delete("/tls-chroot", DeleteMode::kRecursive).ok());
}

// The session moves to another server through another tunnel port when its
// server dies: whichever server it is on, one of the kills below takes its
// server away. All three servers are in the connect string: with two, the C
// client (3.8.0) retries the same one for ever once a connection that it had
// opened is dropped (handle_error advances to the next address and
// zookeeper_interest's zoo_cycle_next_server advances again). Before the
// reconfig test: a server re-added by reconfig cannot be restarted, see
// docs/security.md.
TEST_F(ZkTlsIntegrationTest, SessionMovesToAnotherServerWhenItsServerDies) {
  ZkConnectOptions options;
  options.tls = pki_->super_user;
  options.session_timeout_ms = 30000;
  Result<std::unique_ptr<ZkClient>> client =
      ZkClient::Connect(ensemble_->ConnectString(), 20s, options);
  ASSERT_TRUE(client.ok()) << client.status().message();
  ZkClient& session = **client;
  CreateOptions ephemeral;
  ephemeral.mode = CreateMode::kEphemeral;
  ASSERT_TRUE(session.Create("/tls-session", "alive", ephemeral).ok());
  for (int id : {1, 2, 3}) {
    ASSERT_TRUE(ensemble_->Kill(id).ok());
    // Retried: the call may land while the client is still reconnecting.
    Result<std::string> data = session.Get("/tls-session");
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         !data.ok() && std::chrono::steady_clock::now() < deadline;
         data = session.Get("/tls-session")) {
      std::this_thread::sleep_for(200ms);
    }
    if (!data.ok()) {
      const AdminClient admin(2s, pki_->super_user);
      for (int other : {1, 2, 3}) {
        auto srvr = admin.Srvr(ensemble_->Client(other));
        std::cerr << "server " << other << ": "
                  << (srvr.ok() ? srvr->mode : srvr.status().message()) << "\n"
                  << ensemble_->LogTail(other, 25);
      }
    }
    ASSERT_TRUE(data.ok()) << "after killing server " << id << ": " << data.status().message();
    EXPECT_EQ(*data, "alive");
    ASSERT_TRUE(ensemble_->Restart(id).ok());
    Status serving = ensemble_->WaitUntilServing();
    ASSERT_TRUE(serving.ok()) << serving.message();
  }
  EXPECT_TRUE(session.Delete("/tls-session").ok());
}

TEST_F(ZkTlsIntegrationTest, ReconfigRemovesAndReaddsAFollower) {
  const AdminClient admin(10s, pki_->super_user);
  int follower = 0;
  for (int id = 1; id <= 3 && follower == 0; ++id) {
    auto srvr = admin.Srvr(ensemble_->Client(id));
    if (srvr.ok() && srvr->mode == "follower") follower = id;
  }
  ASSERT_NE(follower, 0);
  std::unique_ptr<ZkClient> super = Session(pki_->super_user);
  ASSERT_NE(super, nullptr);
  Result<std::string> before = super->GetConfig();
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_TRUE(Contains(*before, ensemble_->ServerLine(follower))) << *before;

  // /zookeeper/config is world:anyone:r: only the super user may reconfig.
  Result<std::string> removed = super->Reconfig("", std::to_string(follower));
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_FALSE(Contains(*removed, fmt::format("server.{}=", follower))) << *removed;

  // A joining line needs a client address (PrepRequestProcessor), even for a
  // server without a plaintext client port: ReconfigLine gives the secure
  // port. The running server keeps serving over TLS; docs/security.md says
  // why it must not be restarted with that line in its dynamic config.
  Result<std::string> readded = super->Reconfig(ensemble_->ReconfigLine(follower), "");
  ASSERT_TRUE(readded.ok()) << readded.status().message();
  EXPECT_TRUE(Contains(*readded, ensemble_->ReconfigLine(follower))) << *readded;
  Status serving = ensemble_->WaitUntilServing();
  EXPECT_TRUE(serving.ok()) << serving.message();
  Result<SrvrInfo> back = admin.Srvr(ensemble_->Client(follower));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->mode, "follower");

  std::unique_ptr<ZkClient> app1 = Session(pki_->app1);
  ASSERT_NE(app1, nullptr);
  Result<std::string> refused = app1->Reconfig("", std::to_string(follower));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.status().message(), "ZNOAUTH")) << refused.status().message();
}

TEST_F(ZkTlsIntegrationTest, TunnelServesThisProcessAndClosesAnotherUnrelayed) {
  Result<std::unique_ptr<TlsTunnel>> tunnel =
      TlsTunnel::Start({ensemble_->Client(1)}, pki_->super_user);
  ASSERT_TRUE(tunnel.ok()) << tunnel.status().message();
  const int port = (*tunnel)->Local(0).port;
  // Through the tunnel, `srvr` from this process reaches the real server:
  // so an empty answer below is the refusal, not a server that is silent.
  Result<std::string> own = TcpExchange((*tunnel)->Local(0), "srvr", 10s);
  ASSERT_TRUE(own.ok()) << own.status().message();
  EXPECT_TRUE(Contains(*own, "Mode: ")) << *own;

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
      port);
  FILE* child = ::popen(command.c_str(), "r");
  ASSERT_NE(child, nullptr);
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, child) != nullptr) output += buffer;
  EXPECT_EQ(::pclose(child), 0) << output;
  EXPECT_EQ(output, "received 0\n");
  EXPECT_EQ((*tunnel)->RefusedConnections(), 1);
}

TEST_F(ZkTlsIntegrationTest, CaThatDoesNotVouchForTheServersIsRefusedNamingTheEndpoint) {
  const std::string endpoint = ensemble_->Client(2).ToString();
  Result<SrvrInfo> srvr = AdminClient(5s, pki_->WithWrongCa()).Srvr(ensemble_->Client(2));
  ASSERT_FALSE(srvr.ok());
  EXPECT_TRUE(Contains(srvr.status().message(),
                       endpoint + ": srvr: TLS handshake: server certificate not trusted"))
      << srvr.status().message();

  ZkConnectOptions options;
  options.tls = pki_->WithWrongCa();
  Result<std::unique_ptr<ZkClient>> client =
      ZkClient::Connect(ensemble_->ConnectString({2}), 3s, options);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(Contains(client.status().message(),
                       endpoint + ": TLS handshake: server certificate not trusted"))
      << client.status().message();
}

// A server whose client certificate names only a pod's DNS name, as on
// Kubernetes, reached on 127.0.0.1 (zkpilot dials pod IPs there) with the
// name as the endpoint's tls_name and zkpilot's credentials in memory (as
// read from a Secret). One server: what is proven is the client port.
class ZkPodNameTlsIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / fmt::format("zkpilot-tls-pod-{}", ::getpid()));
    fs::create_directories(*dir_);
    Result<TestPki> pki = MakeTestPki(*dir_);
    if (!pki.ok()) {
      start_error_ = new std::string(pki.status().message());
      return;
    }
    pki_ = new TestPki(*pki);
    ZkTestEnsembleOptions options;
    options.keep_dir = getenv("ZKPILOT_KEEP") != nullptr;
    ZkTestTls tls{pki_->server_pem, pki_->ca_cert, pki_->SuperUserInMemory()};
    tls.ssl_quorum = false;
    tls.client_pem = pki_->pods[0].pem;
    tls.tls_name = pki_->pods[0].name;  // the fixture's own probes verify it too
    options.tls = tls;
    Result<std::unique_ptr<ZkTestEnsemble>> started = ZkTestEnsemble::Start(1, options);
    if (started.ok()) {
      ensemble_ = std::move(started).value().release();
    } else {
      start_error_ = new std::string(started.status().message());
    }
  }
  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    delete pki_;
    delete start_error_;
  }
  void SetUp() override { ASSERT_NE(ensemble_, nullptr) << *start_error_; }

  static fs::path* dir_;
  static TestPki* pki_;
  static ZkTestEnsemble* ensemble_;
  static std::string* start_error_;
};
fs::path* ZkPodNameTlsIntegrationTest::dir_ = nullptr;
TestPki* ZkPodNameTlsIntegrationTest::pki_ = nullptr;
ZkTestEnsemble* ZkPodNameTlsIntegrationTest::ensemble_ = nullptr;
std::string* ZkPodNameTlsIntegrationTest::start_error_ = nullptr;

TEST_F(ZkPodNameTlsIntegrationTest, SessionAndFourLetterWordsVerifyThePodNameOnItsAddress) {
  const Endpoint pod = ensemble_->Client(1);
  ASSERT_EQ(pod.host, "127.0.0.1");
  ASSERT_EQ(pod.tls_name, pki_->pods[0].name);
  const AdminClient admin(10s, pki_->SuperUserInMemory());
  Result<SrvrInfo> srvr = admin.Srvr(pod);
  ASSERT_TRUE(srvr.ok()) << srvr.status().message();
  EXPECT_EQ(srvr->mode, "leader");

  ZkConnectOptions options;
  options.tls = pki_->SuperUserInMemory();
  Result<std::unique_ptr<ZkClient>> session = ZkClient::Connect({pod}, 20s, options);
  ASSERT_TRUE(session.ok()) << session.status().message();
  EXPECT_EQ((*session)->connect_string(), pod.ToString());
  // The super user (CN=zkpilot-super from memory): it may delete under a
  // node whose ACL grants nobody that.
  CreateOptions read_only;
  read_only.acl = "world:anyone:r";
  ASSERT_TRUE((*session)->Create("/pod-name", "", read_only).ok());
  ASSERT_TRUE((*session)->Create("/pod-name/child", "x", read_only).ok());
  Result<std::string> data = (*session)->Get("/pod-name/child");
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ(*data, "x");
  Status deleted = (*session)->Delete("/pod-name", DeleteMode::kRecursive);
  EXPECT_TRUE(deleted.ok()) << deleted.message();

  // The same address without the name: the certificate does not name it.
  Endpoint bare = pod;
  bare.tls_name.clear();
  Result<SrvrInfo> refused = admin.Srvr(bare);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.status().message(),
                       pod.ToString() + ": srvr: TLS handshake: server certificate does not name "
                                        "127.0.0.1"))
      << refused.status().message();
  Result<std::unique_ptr<ZkClient>> no_session = ZkClient::Connect({bare}, 3s, options);
  ASSERT_FALSE(no_session.ok());
  EXPECT_TRUE(Contains(no_session.status().message(),
                       "over TLS: " + pod.ToString() +
                           ": TLS handshake: server certificate does not name 127.0.0.1"))
      << no_session.status().message();
}

}  // namespace
}  // namespace zkpilot
