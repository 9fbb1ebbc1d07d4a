// The PKI's certificates against a real ZooKeeper (Debian's 3.8.0, and 3.9.3
// when fetched): one voter (standaloneEnabled=false) with a TLS client port
// configured exactly as docs/security.md says, and real clients — the openssl
// CLI and kazoo — holding certificates this library issued.
//
// Each distribution's server starts once for the suite (tests/zk_fixture
// kills it by PID at the end); the fixture waits for it on its plaintext
// client port, which these servers keep only for that.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "cli_runner.h"
#include "local_test_util.h"
#include "platform/local/distribution.h"
#include "security/pki.h"
#include "zk_fixture/zk_fixture.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using ::zkpilot::testing::ProcessResult;
using ::zkpilot::testing::RunOptions;
using ::zkpilot::testing::RunProcess;
using ::zkpilot::testing::TempDir;

constexpr char kOpenssl[] = "/usr/bin/openssl";
// Debian's python3-kazoo lives with the system interpreter.
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kKazooScript[] = ZKPILOT_SOURCE_DIR "/src/security/testdata/kazoo_tls.py";
constexpr char kCaName[] = "zkpilot-integration-ca";
constexpr char kSuperName[] = "zkpilot-super";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::Ok() : Status::IOError("write " + path);
}

// Certificate files of one party: <dir>/<name>.crt and <dir>/<name>.key.
struct ClientFiles {
  std::string cert, key;
};

// One TLS server of a distribution with the files its clients use.
struct TlsServer {
  TempDir dir;  // pki files and the log4j configuration
  std::string ca_file;
  std::map<std::string, ClientFiles> clients;  // by common name; "foreign": another CA's
  int secure_port = 0;
  std::unique_ptr<ZkTestEnsemble> ensemble;
  std::string server_fingerprint;

  std::string Hosts() const { return "127.0.0.1:" + std::to_string(secure_port); }
};

Result<ClientFiles> WriteClient(const std::string& dir, const KeyPair& ca, const std::string& name,
                                const std::string& cn) {
  CertificateRequest request;
  request.common_name = cn;
  request.client = true;
  ZK_ASSIGN_OR_RETURN(KeyPair pair, IssueCertificate(ca, request));
  ClientFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  ZK_RETURN_IF_ERROR(WriteText(files.cert, pair.cert_pem));
  ZK_RETURN_IF_ERROR(WriteText(files.key, pair.key_pem));
  return files;
}

// Debian's distributions log through log4j 1.2, which reads this from the
// classpath (`dir` first): the server's output lands in the fixture's server.log.
Status WriteLog4jConfiguration(const std::string& dir) {
  return WriteText(
      dir + "/log4j.properties",
      "log4j.rootLogger=INFO, CONSOLE\n"
      "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
      "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
      "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\n");
}

// A server certificate as the local platform needs one: reached at 127.0.0.1
// (or localhost), and a TLS client too (a quorum peer connects to the others).
CertificateRequest ServerRequest(int id) {
  CertificateRequest request;
  request.common_name = "zk-server-" + std::to_string(id);
  request.dns_names = {"localhost"};
  request.ip_addresses = {"127.0.0.1"};
  request.server = true;
  request.client = true;
  return request;
}

// The distribution `id`, or why not: "skip: ..." when 3.9.3 is not fetched.
Result<Distribution> FindDistribution(const std::string& id) {
  DistributionStore store(::zkpilot::testing::DistributionStore());
  Result<Distribution> found = store.Find(id);
  if (id != "debian-3.8.0" && found.status().code() == ErrorCode::kNotFound) {
    return Status::NotFound("skip: " + found.status().message());
  }
  return found;
}

// Writes the PKI, then starts one voter with the zoo.cfg keys of
// docs/security.md ("TLS").
Result<std::unique_ptr<TlsServer>> StartTlsServer(const Distribution& distribution) {
  auto server = std::make_unique<TlsServer>();
  const std::string dir = server->dir.path();
  ZK_ASSIGN_OR_RETURN(KeyPair ca, CreateCertificateAuthority(kCaName, 24h));
  ZK_ASSIGN_OR_RETURN(KeyPair server_pair, IssueCertificate(ca, ServerRequest(1)));
  ZK_ASSIGN_OR_RETURN(CertificateInfo server_info, ReadCertificate(server_pair.cert_pem));
  server->server_fingerprint = server_info.sha256_fingerprint;
  server->ca_file = dir + "/ca.crt";
  ZK_RETURN_IF_ERROR(WriteText(server->ca_file, ca.cert_pem));
  const std::string key_store = dir + "/server-1.pem";
  ZK_RETURN_IF_ERROR(WriteText(key_store, KeyStorePem(server_pair)));
  for (const auto& [name, cn] :
       {std::pair<std::string, std::string>{"super", kSuperName}, {"app1", "app1"}}) {
    ZK_ASSIGN_OR_RETURN(server->clients[name], WriteClient(dir, ca, name, cn));
  }
  ZK_ASSIGN_OR_RETURN(KeyPair other_ca, CreateCertificateAuthority("some-other-ca", 24h));
  ZK_ASSIGN_OR_RETURN(server->clients["foreign"],
                      WriteClient(dir, other_ca, "foreign", kSuperName));

  ZK_RETURN_IF_ERROR(WriteLog4jConfiguration(dir));

  server->secure_port = ::zkpilot::testing::FindFreePortBlock(1);
  if (server->secure_port == 0) return Status::IOError("no free port on 127.0.0.1");
  ZkTestEnsembleOptions options;
  options.classpath = distribution.ClasspathString(dir);
  options.extra_config = {
      "secureClientPort=" + std::to_string(server->secure_port),
      "secureClientPortAddress=127.0.0.1",
      "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
      "ssl.keyStore.location=" + key_store,
      "ssl.keyStore.type=PEM",
      "ssl.trustStore.location=" + server->ca_file,
      "ssl.trustStore.type=PEM",
      "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
      std::string("X509AuthenticationProvider.superUser=CN=") + kSuperName,
  };
  ZK_ASSIGN_OR_RETURN(server->ensemble, ZkTestEnsemble::Start(1, options));
  return server;
}

class PkiIntegration : public ::testing::TestWithParam<std::string> {
 protected:
  static void TearDownTestSuite() {
    servers_.clear();
    not_started_.clear();
  }

  void SetUp() override {
    const std::string id = GetParam();
    if (!servers_.count(id) && !not_started_.count(id)) Start(id);
    if (auto it = not_started_.find(id); it != not_started_.end()) {
      if (it->second.rfind("skip: ", 0) == 0) GTEST_SKIP() << it->second.substr(6);
      FAIL() << it->second;
    }
    server_ = servers_.at(id).get();
  }

  // Once per distribution; a failure is kept for the suite's other tests.
  static void Start(const std::string& id) {
    Result<Distribution> distribution = FindDistribution(id);
    Result<std::unique_ptr<TlsServer>> started =
        distribution.ok() ? StartTlsServer(*distribution) : distribution.status();
    if (!started.ok()) {
      const std::string& why = started.status().message();
      not_started_[id] = why.rfind("skip: ", 0) == 0 ? why : id + ": " + why;
      return;
    }
    servers_[id] = std::move(started).value();
  }

  ProcessResult Run(const std::vector<std::string>& argv) {
    RunOptions options;
    options.capture_dir = server_->dir.path();
    options.timeout = 60s;
    return RunProcess(argv, options);
  }
  // kazoo_tls.py with `client`'s certificate ("" for none).
  ProcessResult Kazoo(const std::string& client, const std::string& timeout,
                      const std::vector<std::string>& action) {
    const ClientFiles files = client.empty() ? ClientFiles{"-", "-"} : server_->clients.at(client);
    std::vector<std::string> argv = {kPython,    kKazooScript, server_->Hosts(), server_->ca_file,
                                     files.cert, files.key,    timeout};
    argv.insert(argv.end(), action.begin(), action.end());
    return Run(argv);
  }
  std::string LogTail() const { return server_->ensemble->LogTail(1, 40); }

  static std::map<std::string, std::unique_ptr<TlsServer>> servers_;
  static std::map<std::string, std::string> not_started_;  // id -> why ("skip: " ...)
  TlsServer* server_ = nullptr;
};

std::map<std::string, std::unique_ptr<TlsServer>> PkiIntegration::servers_;
std::map<std::string, std::string> PkiIntegration::not_started_;

TEST_P(PkiIntegration, OpensslHandshakeWithClientCertificateShowsTheChain) {
  const ClientFiles& super = server_->clients.at("super");
  ProcessResult s_client =
      Run({kOpenssl, "s_client", "-connect", server_->Hosts(), "-CAfile", server_->ca_file, "-cert",
           super.cert, "-key", super.key, "-verify_return_error", "-showcerts"});
  ASSERT_EQ(s_client.exit_code, 0) << s_client.All() << LogTail();
  EXPECT_TRUE(Contains(s_client.out, " 0 s:CN = zk-server-1\n")) << s_client.out;
  EXPECT_TRUE(Contains(s_client.out, std::string("   i:CN = ") + kCaName + "\n")) << s_client.out;
  EXPECT_TRUE(Contains(s_client.out, "Verify return code: 0 (ok)")) << s_client.out;
  // The certificate the server presented is the one issued for it.
  const size_t begin = s_client.out.find("-----BEGIN CERTIFICATE-----");
  const size_t end = s_client.out.find("-----END CERTIFICATE-----");
  ASSERT_NE(end, std::string::npos) << s_client.out;
  Result<CertificateInfo> presented = ReadCertificate(s_client.out.substr(begin, end + 26 - begin));
  ASSERT_TRUE(presented.ok()) << presented.status().message();
  EXPECT_EQ(presented->sha256_fingerprint, server_->server_fingerprint);
}

TEST_P(PkiIntegration, ClientWithoutCertificateIsRefused) {
  // -ign_eof: wait for the server's verdict, which TLS 1.3 sends after the
  // client's side of the handshake is done.
  ProcessResult s_client = Run({kOpenssl, "s_client", "-ign_eof", "-connect", server_->Hosts(),
                                "-CAfile", server_->ca_file, "-verify_return_error"});
  EXPECT_NE(s_client.exit_code, 0) << s_client.All();
  EXPECT_TRUE(Contains(s_client.err, "alert bad certificate")) << s_client.All();

  ProcessResult kazoo = Kazoo("", "5", {"create-read", "/pki-anonymous"});
  EXPECT_EQ(kazoo.exit_code, 4) << kazoo.All();
  EXPECT_TRUE(Contains(kazoo.out, "connect failed")) << kazoo.All();

  // A certificate of the right name from another CA: refused as well.
  ProcessResult foreign = Kazoo("foreign", "5", {"create-read", "/pki-foreign"});
  EXPECT_EQ(foreign.exit_code, 4) << foreign.All();
}

TEST_P(PkiIntegration, KazooCreatesAndReadsAZnode) {
  ProcessResult kazoo = Kazoo("app1", "30", {"create-read", "/pki-kazoo"});
  EXPECT_EQ(kazoo.exit_code, 0) << kazoo.All() << LogTail();
  EXPECT_EQ(kazoo.out, "read: over-tls\n") << kazoo.All();
}

// Deleting /guarded/child needs DELETE on /guarded, whose ACL grants only
// world:anyone:r: the super user (X509AuthenticationProvider.superUser, which
// must equal the client's X500Principal.getName()) may, app1 may not.
TEST_P(PkiIntegration, SuperUserCertificateOverridesAcls) {
  ProcessResult guard = Kazoo("super", "30", {"guard", "/guarded"});
  ASSERT_EQ(guard.exit_code, 0) << guard.All() << LogTail();

  ProcessResult app1 = Kazoo("app1", "30", {"delete", "/guarded/child"});
  EXPECT_EQ(app1.exit_code, 3) << app1.All();
  EXPECT_EQ(app1.out, "NoAuthError\n") << app1.All();

  ProcessResult super = Kazoo("super", "30", {"delete", "/guarded/child"});
  EXPECT_EQ(super.exit_code, 0) << super.All() << LogTail();
  EXPECT_EQ(super.out, "deleted\n") << super.All();
}

// Quorum and election over TLS (sslQuorum, the ssl.quorum.* keys of
// docs/security.md): three voters form a quorum with certificates of
// ServerRequest's shape. QuorumX509Util verifies a peer's address against its
// certificate and a peer's certificate must allow clientAuth (both seen to fail
// by hand without them: "Failed to verify both host address and host name",
// "certificate_unknown"). Locally every server is 127.0.0.1, so one
// certificate may serve all three here; the fixture's zoo.cfg lines are the
// same for every server.
class PkiQuorumIntegration : public ::testing::TestWithParam<std::string> {};

TEST_P(PkiQuorumIntegration, ThreeVotersFormAQuorumOverTls) {
  Result<Distribution> distribution = FindDistribution(GetParam());
  if (distribution.status().message().rfind("skip: ", 0) == 0) {
    GTEST_SKIP() << distribution.status().message();
  }
  ASSERT_TRUE(distribution.ok()) << distribution.status().message();
  TempDir dir;
  Result<KeyPair> ca = CreateCertificateAuthority(kCaName, 24h);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  Result<KeyPair> server = IssueCertificate(*ca, ServerRequest(1));
  ASSERT_TRUE(server.ok()) << server.status().message();
  const std::string key_store = dir.path() + "/server.pem", ca_file = dir.path() + "/ca.crt";
  ASSERT_TRUE(WriteText(key_store, KeyStorePem(*server)).ok());
  ASSERT_TRUE(WriteText(ca_file, ca->cert_pem).ok());
  ASSERT_TRUE(WriteLog4jConfiguration(dir.path()).ok());

  ZkTestEnsembleOptions options;
  options.classpath = distribution->ClasspathString(dir.path());
  options.extra_config = {
      "sslQuorum=true",
      "ssl.quorum.keyStore.location=" + key_store,
      "ssl.quorum.keyStore.type=PEM",
      "ssl.quorum.trustStore.location=" + ca_file,
      "ssl.quorum.trustStore.type=PEM",
  };
  Result<std::unique_ptr<ZkTestEnsemble>> ensemble = ZkTestEnsemble::Start(3, options);
  ASSERT_TRUE(ensemble.ok()) << ensemble.status().message();
  for (int id = 1; id <= 3; ++id) {
    // QuorumCnxManager.Listener.ListenerHandler.createNewServerSocket: the
    // election listener accepts TLS only, so the quorum formed over TLS.
    EXPECT_TRUE(
        Contains((*ensemble)->LogTail(id, 100000), "Creating TLS-only quorum server socket"))
        << "server " << id << ":\n"
        << (*ensemble)->LogTail(id);
  }
}

// "debian_3_8_0": test names allow only letters, digits and '_'.
std::string DistributionTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(ZooKeeper, PkiIntegration,
                         ::testing::Values("debian-3.8.0", "debian-3.9.3"), DistributionTestName);
INSTANTIATE_TEST_SUITE_P(ZooKeeper, PkiQuorumIntegration,
                         ::testing::Values("debian-3.8.0", "debian-3.9.3"), DistributionTestName);

}  // namespace
}  // namespace zkpilot
