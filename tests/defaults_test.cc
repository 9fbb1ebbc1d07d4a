// A new cluster's defaults on the local platform, through the real binary
// against real ZooKeeper: `zkpilot deploy` with no security settings makes a
// TLS-only cluster with SASL users; `zkpilot connect -o json` gives a script
// what it needs (the TLS endpoints, the CA file, the users' password files);
// kazoo connects with an issued certificate and a user's password, and is
// refused without a certificate, over plaintext, and with a wrong password;
// every key and password file is the owner's alone.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "local_test_util.h"
#include "platform/local/paths.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
// Debian's interpreter, which has python3-kazoo and python3-pure-sasl.
constexpr const char* kPython = "/usr/bin/python3";
constexpr int kPortSpan = 40;  // 3 servers use base..base+24

// kazoo as an application uses a new cluster. argv: mode, hosts, ca, cert,
// key, password. Modes: "full" (TLS with a client certificate and SASL as
// app: creates /defaults-probe readable by sasl:app only, reads it back),
// "nocert" (TLS without a certificate), "plain" (no TLS), "wrong" (TLS with a
// certificate, SASL with `password`, which is wrong). Prints "read ..." or
// "refused <exception>"; every wait is bounded.
constexpr const char* kKazoo = R"PY(
import sys
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError
from kazoo.security import make_acl
mode, hosts, ca, cert, key, password = sys.argv[1:7]
kw = {}
if mode != "plain":
    kw = dict(use_ssl=True, verify_certs=True, ca=ca)
if mode in ("full", "wrong"):
    kw.update(certfile=cert, keyfile=key,
              sasl_options={"mechanism": "DIGEST-MD5", "username": "app", "password": password})
zk = KazooClient(hosts=hosts, timeout=5, connection_retry={"max_tries": 1}, **kw)
try:
    zk.start(timeout=15)
    try:
        zk.create_async("/defaults-probe", b"secure by default",
                        acl=[make_acl("sasl", "app", all=True)]).get(timeout=15)
    except NodeExistsError:
        pass
    data, _ = zk.get_async("/defaults-probe").get(timeout=15)
    acl, _ = zk.get_acls_async("/defaults-probe").get(timeout=15)
    print("read " + data.decode() + " acl " + ",".join("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acl))
except Exception as e:
    print("refused " + type(e).__name__)
finally:
    try:
        zk.stop()
    except Exception:
        pass
)PY";

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class DefaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-defaults", kPortSpan, &error)) << error;
    home_ = world_.home();
    scratch_ = world_.root() + "/client";
    ASSERT_TRUE(fs::create_directories(scratch_));
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
  std::string Kazoo(const std::string& mode, const std::string& hosts, const std::string& password) {
    ProcessResult r = Run({kPython, "-c", kKazoo, mode, hosts, scratch_ + "/ca.crt", scratch_ + "/app1.crt",
                           scratch_ + "/app1.key", password},
                          2min);
    EXPECT_EQ(r.exit_code, 0) << r.All();
    return r.out;
  }

  testing::TestHome world_;
  std::string home_, scratch_;
};

std::string Mode(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return "missing";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  return mode;
}

TEST_F(DefaultsTest, ANewClusterHasTlsAndSaslUsersAndConnectSaysWhereTheyAre) {
  const std::string port = std::to_string(world_.base_port());
  // Nothing about security on the command line.
  ProcessResult deploy = Zk({"deploy", "alpha", kPackage, "--set", "clientPort=" + port, "--timeout", "120"});
  ASSERT_EQ(deploy.exit_code, 0) << deploy.All();
  const std::string cluster_home = ClusterHome(home_, "alpha");

  auto cfg = ReadFile(cluster_home + "/nodes/1/conf/zoo.cfg");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_TRUE(Contains(*cfg, "secureClientPort=" + port + "\n"));
  EXPECT_EQ(cfg->find("\nclientPort="), std::string::npos) << *cfg;

  // connect -o json: everything a script needs.
  ProcessResult connect = Zk({"connect", "alpha", "-o", "json"});
  ASSERT_EQ(connect.exit_code, 0) << connect.All();
  auto doc = nlohmann::json::parse(connect.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << connect.out;
  const std::string hosts = "127.0.0.1:" + port + ",127.0.0.1:" + std::to_string(world_.base_port() + 10) +
                            ",127.0.0.1:" + std::to_string(world_.base_port() + 20);
  EXPECT_EQ(doc["connectString"], hosts);
  EXPECT_EQ(doc["tls"], true);
  EXPECT_EQ(doc["plaintextAccepted"], false);
  ASSERT_TRUE(doc["caFile"].is_string()) << connect.out;
  EXPECT_TRUE(fs::exists(doc["caFile"].get<std::string>())) << connect.out;
  ASSERT_TRUE(doc["credentials"].is_object()) << connect.out;
  EXPECT_EQ(doc["credentials"]["mechanism"], "DIGEST-MD5");
  EXPECT_EQ(doc["credentials"]["required"], false);
  ASSERT_EQ(doc["credentials"]["users"].size(), 1u) << connect.out;
  EXPECT_EQ(doc["credentials"]["users"][0]["user"], "app");
  const std::string password_file = doc["credentials"]["users"][0]["passwordFile"];
  EXPECT_EQ(Mode(password_file), "0600") << password_file;
  auto password = ReadFile(password_file);
  ASSERT_TRUE(password.ok()) << password.status().message();
  std::string secret = *password;
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  ASSERT_FALSE(secret.empty());

  // The text form says the same to a person.
  ProcessResult text = Zk({"connect", "alpha"});
  ASSERT_EQ(text.exit_code, 0) << text.All();
  EXPECT_TRUE(Contains(text.out, "plaintext clients are refused"));
  EXPECT_TRUE(Contains(text.out, "  app: " + password_file + "\n"));

  // A client as the output says: certificate from `certs --client`, user app.
  ProcessResult issued = Zk({"certs", "alpha", "--client", "app1", "-o", scratch_});
  ASSERT_EQ(issued.exit_code, 0) << issued.All();
  EXPECT_TRUE(Contains(Kazoo("full", hosts, secret), "read secure by default acl sasl:app:31"));
  EXPECT_TRUE(Contains(Kazoo("nocert", hosts, ""), "refused"));
  EXPECT_TRUE(Contains(Kazoo("plain", hosts, ""), "refused"));
  // A wrong password: processSasl answers AUTHFAILED and closes the session.
  EXPECT_TRUE(Contains(Kazoo("wrong", hosts, "not-" + secret), "refused AuthFailedError"));

  // Every key and password under the cluster is the owner's alone.
  int secrets = 0;
  std::string open;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(cluster_home, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string p = it->path().string();
    // Server keys are in pki/server-<id>.pem (key and certificate in one file).
    const bool secret_file = p.ends_with(".key") || p.ends_with(".password") || p.ends_with(".credential") ||
                             p.ends_with(".jaas") || p.ends_with(".secret") || p.ends_with("secret.args") ||
                             (p.find("/pki/server-") != std::string::npos && p.ends_with(".pem"));
    if (!secret_file || !it->is_regular_file()) continue;
    ++secrets;
    if (Mode(p) != "0600") open += "  " + Mode(p) + " " + p + "\n";
  }
  ASSERT_FALSE(ec) << ec.message();
  // The CA's and zkpilot's keys, 3 server key files, app's password, 3 JAAS
  // files, the super secret, 3 secret.args.
  EXPECT_GE(secrets, 13) << "the walk found too few secrets under " << cluster_home;
  EXPECT_EQ(open, "") << "secrets not 0600:\n" << open;

  ProcessResult status = Zk({"status", "alpha"});
  EXPECT_EQ(status.exit_code, 0) << status.All();
}

// A cluster deployed with plaintext stays plaintext through other changes:
// the new-cluster defaults are not filled in later.
TEST_F(DefaultsTest, AChangeOfAPlaintextClusterKeepsItPlaintext) {
  const std::string port = std::to_string(world_.base_port());
  ProcessResult deploy = Zk({"deploy", "alpha", kPackage, "--set", "clientPort=" + port, "--set", "replicas=1",
                             "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--timeout", "120"});
  ASSERT_EQ(deploy.exit_code, 0) << deploy.All();
  ProcessResult change = Zk({"configure", "alpha", "--set", "tickTime=2500", "--timeout", "120"});
  ASSERT_EQ(change.exit_code, 0) << change.All();
  ProcessResult connect = Zk({"connect", "alpha", "-o", "json"});
  ASSERT_EQ(connect.exit_code, 0) << connect.All();
  auto doc = nlohmann::json::parse(connect.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << connect.out;
  EXPECT_EQ(doc["tls"], false);
  EXPECT_TRUE(doc["credentials"].is_null()) << connect.out;
  auto cfg = ReadFile(ClusterHome(home_, "alpha") + "/nodes/1/conf/zoo.cfg");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_TRUE(Contains(*cfg, "tickTime=2500\n"));
  EXPECT_EQ(cfg->find("secureClientPort"), std::string::npos) << *cfg;
}

}  // namespace
}  // namespace zkpilot
