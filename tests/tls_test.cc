// TLS on the local platform, through the real binary against real ZooKeeper:
// a cluster deployed with tls.enabled serves clients over TLS only, with
// certificates its CA issued (kazoo, ZooKeeper's own Java client, openssl
// s_client), refuses clients without one and plaintext ones, and zkpilot's
// own work (hooks, status, a quorum-gated roll, a scale by reconfig, delete)
// goes on over TLS as CN=zkpilot-super.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "local_test_util.h"
#include "platform/local/local_files.h"
#include "platform/local/local_pki.h"
#include "platform/local/paths.h"
#include "security/pki.h"
#include "util/files.h"
#include "zk/endpoint.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
// Debian's interpreter, which has python3-kazoo (another python3 on PATH may not).
constexpr const char* kPython = "/usr/bin/python3";
constexpr int kPortSpan = 60;  // five servers' blocks and the add-ons'

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

// kazoo as an application would use it. Modes: "cert" (TLS with a client
// certificate: writes and reads /tls-probe, tries to delete /zkpilot/keep,
// prints /zkpilot's ACL (or NOAUTH) and the membership), "nocert" (TLS without one),
// "plain" (no TLS). A client that gets no session prints "REFUSED".
constexpr const char* kKazooScript = R"PY(
import os, sys
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError, NodeExistsError
mode, hosts = sys.argv[1], sys.argv[2]
kw = {}
if mode in ("cert", "nocert"):
    kw = dict(use_ssl=True, verify_certs=True, ca=sys.argv[3])
if mode == "cert":
    kw.update(certfile=sys.argv[4], keyfile=sys.argv[5])
zk = KazooClient(hosts=hosts, timeout=5, connection_retry={"max_tries": 1}, **kw)
try:
    zk.start(timeout=8)
except Exception as e:
    print("REFUSED", type(e).__name__, flush=True)
    os._exit(3)
try:
    zk.create("/tls-probe", b"written over TLS")
except NodeExistsError:
    pass
print("READ", zk.get("/tls-probe")[0].decode(), flush=True)
try:
    acl = zk.get_acls("/zkpilot")[0]
    print("ACL", ",".join("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acl), flush=True)
except NoAuthError:
    print("NOAUTH ACL /zkpilot", flush=True)
try:
    zk.delete("/zkpilot/keep")
    print("DELETED /zkpilot/keep", flush=True)
except NoAuthError:
    print("NOAUTH /zkpilot/keep", flush=True)
for line in zk.get("/zookeeper/config")[0].decode().splitlines():
    print("CONFIG", line, flush=True)
zk.stop()
os._exit(0)
)PY";

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-tls", kPortSpan, &error)) << error;
    home_ = world_.home();
    base_ = world_.base_port();
    scratch_ = world_.root() + "/client";
    ASSERT_TRUE(fs::create_directories(scratch_));
    std::ofstream(scratch_ + "/kazoo_probe.py") << kKazooScript;
  }
  void TearDown() override {
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived SIGKILL";
  }

  ProcessResult Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 3min) {
    return testing::RunProcess(argv, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), timeout});
  }
  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return Run(args);
  }
  void DeployAlpha(const std::vector<std::string>& sets = {}) {
    std::vector<std::string> args = {"deploy", "alpha", kPackage, "--set", "tls.enabled=true", "--set", "auth.enabled=false", "--set",
                                     "clientPort=" + std::to_string(base_), "--timeout", "120"};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    ProcessResult r = Zk(args);
    ASSERT_EQ(r.exit_code, 0) << r.All();
  }
  nlohmann::json Status() {
    ProcessResult r = Zk({"status", "alpha", "-o", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.All();
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.All();
    return j;
  }
  std::string Port(int id) const { return std::to_string(base_ + (id - 1) * 10); }
  std::string Hosts(int servers) const {
    std::string hosts;
    for (int id = 1; id <= servers; ++id) hosts += (hosts.empty() ? "" : ",") + ("127.0.0.1:" + Port(id));
    return hosts;
  }
  LocalPki Pki() const { return LocalPkiAt(ClusterHome(home_, "alpha")); }
  // A client certificate CN=app1 from the cluster's CA, as a user gets it.
  void IssueApp1() {
    ProcessResult r = Zk({"certs", "alpha", "--client", "app1", "-o", scratch_});
    ASSERT_EQ(r.exit_code, 0) << r.All();
    for (const char* f : {"/ca.crt", "/app1.crt", "/app1.key"}) ASSERT_TRUE(fs::exists(scratch_ + f)) << f;
  }
  ProcessResult Kazoo(const std::string& mode, const std::string& hosts) {
    return Run({kPython, scratch_ + "/kazoo_probe.py", mode, hosts, scratch_ + "/ca.crt", scratch_ + "/app1.crt",
                scratch_ + "/app1.key"},
               1min);
  }

  testing::TestHome world_;
  std::string home_, scratch_;
  int base_ = 0;
};

// What the server lines of /zookeeper/config say (kazoo's CONFIG lines).
std::vector<std::string> ServerLines(const std::string& kazoo_out) {
  std::vector<std::string> lines;
  std::istringstream in(kazoo_out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("CONFIG server.", 0) == 0) lines.push_back(line.substr(7));
  return lines;
}

TEST_F(TlsTest, ClientsWithTheClustersCertificatesAreServedAndNoOthers) {
  // The supervisor's probes read the servers over TLS too: the exporter (with
  // Prometheus), and the liveness probe, which would kill a server that never
  // answers its ruok within startupTimeoutSeconds (checked at the end).
  ASSERT_NO_FATAL_FAILURE(DeployAlpha({"prometheus.enabled=true", "startupTimeoutSeconds=10"}));
  // zkpilot reads its servers over TLS: a leader and two followers.
  nlohmann::json status = Status();
  EXPECT_EQ(status.value("healthy", false), true) << status.dump(2);
  std::map<std::string, int> roles;
  for (const auto& n : status.value("nodes", nlohmann::json::array())) ++roles[n.value("role", std::string("?"))];
  EXPECT_EQ(roles, (std::map<std::string, int>{{"follower", 2}, {"leader", 1}})) << status.dump(2);
  // Each server's zoo.cfg: no plaintext client port at all.
  auto cfg = ReadFile(ClusterHome(home_, "alpha") + "/nodes/1/conf/zoo.cfg");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_TRUE(Contains(*cfg, "secureClientPort=" + Port(1) + "\n"));

  ASSERT_NO_FATAL_FAILURE(IssueApp1());
  ProcessResult app = Kazoo("cert", Hosts(3));
  ASSERT_EQ(app.exit_code, 0) << app.All();
  EXPECT_TRUE(Contains(app.out, "READ written over TLS\n"));
  // The deploy hooks ran as zkpilot's certificate and gave /zkpilot to it
  // alone (x509:CN=zkpilot-super): a client certificate is someone else.
  EXPECT_TRUE(Contains(app.out, "NOAUTH ACL /zkpilot\n"));
  EXPECT_TRUE(Contains(app.out, "NOAUTH /zkpilot/keep\n"));
  for (const auto& line : ServerLines(app.out))
    EXPECT_EQ(line.find(';'), std::string::npos) << "a client address in " << line;
  EXPECT_EQ(ServerLines(app.out).size(), 3u) << app.out;

  // Without a certificate, and without TLS: no session.
  ProcessResult nocert = Kazoo("nocert", Hosts(3));
  EXPECT_EQ(nocert.exit_code, 3) << nocert.All();
  EXPECT_TRUE(Contains(nocert.out, "REFUSED"));
  ProcessResult plain = Kazoo("plain", Hosts(3));
  EXPECT_EQ(plain.exit_code, 3) << plain.All();
  EXPECT_TRUE(Contains(plain.out, "REFUSED"));

  // openssl: the chain verifies against the cluster's CA; without a client
  // certificate the server ends the handshake.
  const std::string connect = "127.0.0.1:" + Port(2);
  ProcessResult chain = Run({"/usr/bin/openssl", "s_client", "-connect", connect, "-CAfile", scratch_ + "/ca.crt",
                             "-cert", scratch_ + "/app1.crt", "-key", scratch_ + "/app1.key", "-verify_return_error",
                             "-showcerts", "-brief"},
                            30s);
  EXPECT_TRUE(Contains(chain.All(), "Verification: OK")) << chain.All();
  ProcessResult full = Run({"/usr/bin/openssl", "s_client", "-connect", connect, "-CAfile", scratch_ + "/ca.crt",
                            "-cert", scratch_ + "/app1.crt", "-key", scratch_ + "/app1.key", "-verify_return_error"},
                           30s);
  EXPECT_TRUE(Contains(full.All(), "Verify return code: 0 (ok)"));
  EXPECT_TRUE(Contains(full.All(), "Certificate chain"));
  // (-ign_eof: with TLS 1.3 the refusal comes after the client's side of the handshake.)
  ProcessResult anonymous = Run({"/usr/bin/openssl", "s_client", "-connect", connect, "-CAfile",
                                 scratch_ + "/ca.crt", "-verify_return_error", "-ign_eof"},
                                30s);
  EXPECT_TRUE(Contains(anonymous.All(), "alert")) << "the server must end a handshake without a client certificate";

  // ZooKeeper's own Java client, with the distribution the servers run
  // (their launch file's class path) and the client TLS properties.
  auto launch = ReadFile(ClusterHome(home_, "alpha") + "/nodes/1/conf/launch.json");
  ASSERT_TRUE(launch.ok()) << launch.status().message();
  const auto argv = nlohmann::json::parse(*launch)["argv"];
  std::string java, classpath;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i == 0) java = argv[i];
    if (argv[i] == "-cp" && i + 1 < argv.size()) classpath = argv[i + 1];
  }
  ASSERT_FALSE(classpath.empty()) << *launch;
  {  // The Java PEM key store wants the key and the certificate in one file.
    auto key = ReadFile(scratch_ + "/app1.key");
    auto crt = ReadFile(scratch_ + "/app1.crt");
    ASSERT_TRUE(key.ok() && crt.ok());
    ASSERT_TRUE(WriteFileAtomically(scratch_ + "/app1.pem", *key + *crt, 0600).ok());
  }
  ProcessResult cli = Run({java, "-cp", classpath, "-Dzookeeper.client.secure=true",
                           "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
                           "-Dzookeeper.ssl.keyStore.location=" + scratch_ + "/app1.pem",
                           "-Dzookeeper.ssl.keyStore.type=PEM",
                           "-Dzookeeper.ssl.trustStore.location=" + scratch_ + "/ca.crt",
                           "-Dzookeeper.ssl.trustStore.type=PEM", "org.apache.zookeeper.ZooKeeperMain", "-server",
                           connect, "get", "/tls-probe"},
                          2min);
  EXPECT_TRUE(Contains(cli.out, "written over TLS")) << cli.All();

  // The exporter's srvr and mntr over TLS: every server up.
  std::string metrics;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        auto reply = TcpExchange(Endpoint{"127.0.0.1", base_ + 5}, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                                 5s);
        metrics = reply.ok() ? *reply : reply.status().message();
        for (const char* node : {"1", "2", "3"})
          if (metrics.find("zkpilot_node_up{cluster=\"alpha\",node=\"" + std::string(node) + "\"} 1") ==
              std::string::npos)
            return false;
        return true;
      },
      60s, 500ms))
      << metrics;
  // The liveness probe's ruok over TLS: once each server has run past its
  // startup grace, none was killed for not answering.
  nlohmann::json later;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        later = Status();
        for (const auto& n : later.value("nodes", nlohmann::json::array()))
          if (n.value("uptime_s", 0) < 12) return false;
        return true;
      },
      60s, 1s))
      << later.dump(2);
  for (const auto& n : later.value("nodes", nlohmann::json::array())) {
    EXPECT_EQ(n.value("restarts", -1), 0) << n.dump();
    EXPECT_EQ(n.dump().find("liveness"), std::string::npos) << n.dump();
  }
}

TEST_F(TlsTest, RollScaleAndDeleteWorkOverTls) {
  ASSERT_NO_FATAL_FAILURE(DeployAlpha());
  // Switching TLS goes alone: not with a change of replicas.
  ProcessResult off = Zk({"configure", "alpha", "--set", "tls.enabled=false", "--set", "replicas=5"});
  EXPECT_EQ(off.exit_code, 2) << off.All();
  EXPECT_TRUE(Contains(off.All(), "switching TLS (tls.enabled, tls.allowPlaintext) on a running cluster and "
                                  "replicas at once is refused"))
      << off.All();

  // A quorum-gated roll: every wait reads the servers over TLS, and the
  // leader hands over by a reconfig through a TLS session (the membership
  // stated whole: its line has no client address).
  ProcessResult roll = Zk({"restart", "alpha", "--timeout", "120"});
  ASSERT_EQ(roll.exit_code, 0) << roll.All();
  EXPECT_TRUE(Contains(roll.All(), "leads (hand-off in"));
  EXPECT_EQ(roll.All().find("no hand-off"), std::string::npos) << roll.All();
  nlohmann::json status = Status();
  EXPECT_EQ(status.value("healthy", false), true) << status.dump(2);

  // Scale by reconfig: the new servers join with no client address (the
  // membership stated whole), as reconfig sessions over TLS.
  ProcessResult scale = Zk({"scale", "alpha", "--replicas", "5", "--timeout", "120"});
  ASSERT_EQ(scale.exit_code, 0) << scale.All();
  status = Status();
  EXPECT_EQ(status.value("healthy", false), true) << status.dump(2);
  EXPECT_EQ(status.value("nodes", nlohmann::json::array()).size(), 5u) << status.dump(2);

  ASSERT_NO_FATAL_FAILURE(IssueApp1());
  ProcessResult app = Kazoo("cert", "127.0.0.1:" + Port(5));
  ASSERT_EQ(app.exit_code, 0) << app.All();
  const auto lines = ServerLines(app.out);
  EXPECT_EQ(lines.size(), 5u) << app.out;
  for (const auto& line : lines) EXPECT_EQ(line.find(';'), std::string::npos) << "a client address in " << line;

  ProcessResult del = Zk({"delete", "alpha", "--purge-data", "--timeout", "60"});
  EXPECT_EQ(del.exit_code, 0) << del.All();
  EXPECT_FALSE(fs::exists(ClusterHome(home_, "alpha"))) << "--purge-data leaves the cluster's directory";
  EXPECT_TRUE(testing::PidsWithCmdline(home_).empty()) << "processes of the deleted cluster still run";
}

// The server PIDs status reports, by id.
std::map<int, int> PidsOf(const nlohmann::json& status) {
  std::map<int, int> pids;
  for (const auto& n : status.value("nodes", nlohmann::json::array()))
    pids[n.value("id", 0)] = n.value("pid", 0);
  return pids;
}

// A certificate and key of another CA (self-signed, as openssl makes one).
void WriteForeignCertificate(const std::string& dir, const std::string& cert,
                             const std::string& key) {
  const ProcessResult r = testing::RunProcess(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=zkpilot-super", "-days", "30"},
      {{}, dir, dir, 1min});
  ASSERT_EQ(r.exit_code, 0) << r.All();
}

// The liveness probe counts only silence: with zkpilot's own certificate
// refused by every server (another CA's), then missing, and no CA key to
// renew it with, no server is killed past liveness.timeoutSeconds (every
// server at once, before). Once the CA key is back the supervisor renews
// zkpilot.crt by itself, and status and a roll work; one forced near its
// expiry is renewed before zkpilot talks to the cluster.
TEST_F(TlsTest, OwnCertificateProblemsKillNoServerAndItIsRenewed) {
  ASSERT_NO_FATAL_FAILURE(DeployAlpha({"liveness.timeoutSeconds=2"}));
  const std::map<int, int> pids = PidsOf(Status());
  ASSERT_EQ(pids.size(), 3u);
  for (const auto& [id, pid] : pids) ASSERT_GT(pid, 0) << "server " << id;
  const LocalPki pki = Pki();
  const std::string supervisor_log = ClusterHome(home_, "alpha") + "/supervisor.log";
  const auto log_has = [&](const std::string& part) {
    auto text = ReadFile(supervisor_log);
    return text.ok() && text->find(part) != std::string::npos;
  };
  const auto all_alive = [&] {
    for (const auto& [id, pid] : pids)
      if (!testing::PidAlive(pid)) return false;
    return true;
  };
  // Without ca.key nothing can renew zkpilot.crt: the probe alone must not kill.
  fs::rename(pki.ca_key, pki.ca_key + ".aside");
  ASSERT_NO_FATAL_FAILURE(WriteForeignCertificate(pki.dir, pki.admin_cert, pki.admin_key));
  ASSERT_TRUE(testing::WaitUntil([&] { return log_has("counted as alive"); }, 30s))
      << *ReadFile(supervisor_log);
  // More than liveness.timeoutSeconds (2 s) and several probe periods (1 s):
  // watched throughout, every server keeps its process.
  EXPECT_FALSE(testing::WaitUntil([&] { return !all_alive(); }, 6s, 200ms))
      << *ReadFile(supervisor_log);

  fs::remove(pki.admin_cert);
  ASSERT_TRUE(testing::WaitUntil([&] { return log_has("could not probe it: TLS cert_file"); }, 30s))
      << *ReadFile(supervisor_log);
  EXPECT_FALSE(testing::WaitUntil([&] { return !all_alive(); }, 6s, 200ms))
      << *ReadFile(supervisor_log);
  EXPECT_EQ(ReadFile(supervisor_log)->find("killing it"), std::string::npos)
      << *ReadFile(supervisor_log);

  // The CA key back: the supervisor renews zkpilot.crt on its own (no command run).
  fs::rename(pki.ca_key + ".aside", pki.ca_key);
  ASSERT_TRUE(testing::WaitUntil([&] { return log_has("zkpilot.crt renewed"); }, 30s))
      << *ReadFile(supervisor_log);
  nlohmann::json status = Status();
  EXPECT_EQ(status.value("healthy", false), true) << status.dump(2);
  EXPECT_EQ(PidsOf(status), pids) << status.dump(2);
  for (const auto& n : status.value("nodes", nlohmann::json::array()))
    EXPECT_EQ(n.value("restarts", -1), 0) << n.dump();

  // zkpilot.crt one day from expiry (within tls.renewBeforeDays): renewed by
  // the next command before it talks to the cluster; the roll then works.
  KeyPair ca{*ReadFile(pki.ca_cert), *ReadFile(pki.ca_key)};
  CertificateRequest near;
  near.common_name = kSuperUserCommonName;
  near.client = true;
  near.validity = 24h;
  auto pair = IssueCertificate(ca, near);
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  ASSERT_TRUE(WriteFileAtomically(pki.admin_key, pair->key_pem, 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(pki.admin_cert, pair->cert_pem, 0600).ok());
  // status restarts nothing (a roll would renew it with the servers').
  EXPECT_EQ(Status().value("healthy", false), true);
  auto renewed = ReadCertificate(*ReadFile(pki.admin_cert));
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_GT(renewed->not_after, std::chrono::system_clock::now() + 24h * 300)
      << "zkpilot.crt was not renewed";
  ProcessResult roll = Zk({"restart", "alpha", "--timeout", "120"});
  EXPECT_EQ(roll.exit_code, 0) << roll.All();
}

// A server reads its certificate only when it starts: one within
// tls.renewBeforeDays is said by status (table and JSON) with the command
// that renews it, and a roll renews it.
TEST_F(TlsTest, ServerCertificateDueShowsInStatusAndARollRenewsIt) {
  ASSERT_NO_FATAL_FAILURE(DeployAlpha());
  const LocalPki pki = Pki();
  KeyPair ca{*ReadFile(pki.ca_cert), *ReadFile(pki.ca_key)};
  CertificateRequest near;
  near.common_name = "server-2";
  near.server = true;
  near.client = true;
  near.ip_addresses = {"127.0.0.1"};
  near.dns_names = {"localhost"};
  near.validity = 24h;
  auto pair = IssueCertificate(ca, near);
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  ASSERT_TRUE(WriteFileAtomically(pki.ServerPem(2), KeyStorePem(*pair), 0600).ok());

  nlohmann::json status = Status();
  ASSERT_EQ(status.value("certificatesDue", nlohmann::json::array()).size(), 1u) << status.dump(2);
  EXPECT_EQ(status["certificatesDue"][0].value("server", 0), 2) << status.dump(2);
  EXPECT_TRUE(Contains(status["certificatesDue"][0].value("renewal", ""),
                       "within the 30 days before renewal"));
  std::string message;
  for (const auto& c : status.value("conditions", nlohmann::json::array()))
    if (c.value("type", "") == "CertificatesDue") message = c.value("message", "");
  EXPECT_TRUE(Contains(message, "server 2: certificate expires "));
  EXPECT_TRUE(Contains(message, "run `zkpilot restart alpha` to renew them with a roll"));
  ProcessResult table = Zk({"status", "alpha"});
  EXPECT_EQ(table.exit_code, 0) << table.All();
  EXPECT_TRUE(Contains(table.out, "run `zkpilot restart alpha` to renew them with a roll"));

  ProcessResult roll = Zk({"restart", "alpha", "--timeout", "120"});
  ASSERT_EQ(roll.exit_code, 0) << roll.All();
  status = Status();
  EXPECT_TRUE(status.value("certificatesDue", nlohmann::json::array()).empty()) << status.dump(2);
}

// Kubernetes: TLS renders with zkpilot-made certificates and with
// cert-manager's (whose Issuers and Certificates the operator applies,
// kube_certmanager.h), the same manifests either way.
TEST(TlsRefusals, CertManagerRendersLikeZkpilotsCertificates) {
  testing::TempDir out;
  ProcessResult ok = testing::RunProcess(
      {ZKPILOT_BINARY, "render", kPackage, "--set", "tls.enabled=true", "--output-dir", out.path() + "/ok"},
      {{}, ZKPILOT_SOURCE_DIR, out.path(), 1min});
  EXPECT_EQ(ok.exit_code, 0) << ok.All();
  ProcessResult r = testing::RunProcess({ZKPILOT_BINARY, "render", kPackage, "--set", "tls.enabled=true", "--set",
                                         "tls.certificates=cert-manager", "--output-dir", out.path() + "/m"},
                                        {{}, ZKPILOT_SOURCE_DIR, out.path(), 1min});
  EXPECT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(fs::exists(out.path() + "/m"));
}

}  // namespace
}  // namespace zkpilot
