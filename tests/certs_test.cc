// `zkpilot certs` and `zkpilot connect` through the real binary, on clusters
// deployed for real (not dry runs): client certificates signed by the
// cluster's CA, checked with the openssl CLI; the cluster's certificates
// listed with their expiry; what a client needs to connect; and every
// refusal (not a TLS cluster, unknown cluster, bad client names, an existing
// key) with exit code 2 and nothing written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/local_files.h"
#include "platform/local/local_pki.h"
#include "platform/local/paths.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr int kPortSpan = 40;
// A kazoo client over TLS (the PKI integration tests' own).
constexpr char kKazooScript[] = ZKPILOT_SOURCE_DIR "/src/security/testdata/kazoo_tls.py";

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class CertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-certs", kPortSpan, &error)) << error;
    home_ = world_.home();
    base_ = world_.base_port();
  }
  void TearDown() override {
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived SIGKILL";
  }

  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return testing::RunProcess(args, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 3min});
  }
  ProcessResult Openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv, {{}, "", world_.capture(), 30s});
  }
  // A one-server cluster on the test's ports.
  void Deploy(const std::string& name, const std::string& package, std::vector<std::string> sets = {}) {
    std::vector<std::string> args = {"deploy", name, package, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "replicas=1", "--set",
                                     "clientPort=" + std::to_string(base_), "--timeout", "90"};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    ProcessResult r = Zk(args);
    ASSERT_EQ(r.exit_code, 0) << r.All();
  }
  // A one-server cluster deployed with tls.enabled=true: its servers speak
  // TLS only, and the deploy made its PKI files.
  void DeployTls(const std::string& name) {
    ASSERT_NO_FATAL_FAILURE(Deploy(name, kPackage, {"tls.enabled=true"}));
    ASSERT_TRUE(fs::exists(LocalPkiAt(ClusterHome(home_, name)).ca_cert));
  }
  // kazoo over TLS (src/security/testdata/kazoo_tls.py) with `cert` and `key` ("-": none).
  ProcessResult Kazoo(const std::string& ca, const std::string& cert, const std::string& key,
                      const std::vector<std::string>& action) {
    std::vector<std::string> argv = {"/usr/bin/python3", kKazooScript, "127.0.0.1:" + std::to_string(base_), ca, cert,
                                     key, "15"};
    argv.insert(argv.end(), action.begin(), action.end());
    return testing::RunProcess(argv, {{}, "", world_.capture(), 90s});
  }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  static std::string Read(const std::string& path) {
    auto text = ReadFile(path);
    EXPECT_TRUE(text.ok()) << text.status().message();
    return text.ok() ? *text : "";
  }

  testing::TestHome world_;
  std::string home_;
  int base_ = 0;
};

TEST_F(CertsTest, BadClientNamesAndFlagsAreRefusedBeforeAnythingIsRead) {
  const std::string out = world_.root() + "/out";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--client", "../app1"}, "--client \"../app1\": only letters, digits, '.', '_' and '-'"},
      {{"--client", "app 1"}, "only letters, digits"},
      {{"--client", "CN=app1"}, "only letters, digits"},
      {{"--client", ".."}, "not a file name"},
      {{"--client", std::string(65, 'a')}, "longer than 64 characters"},
      {{"--client", "zkpilot-super"}, "reserved: it is zkpilot's own identity"},
      {{"--client", "app1"}, "--client needs -o DIR"},
      {{"--client", "app1", "-o", out, "--validity", "90"}, "is not a validity: write whole days (90d)"},
      {{"--client", "app1", "-o", out, "--validity", "0d"}, "--validity"},
      {{"--client", "app1", "-o", out, "--validity", "3651d"}, "--validity"},
      {{"-o", out}, "-o \"" + out + "\": table or json (a directory only with --client)"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"certs", "alpha"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    if (c.args.size() == 2 && c.args[0] == "--client" && c.args[1] != "app1") args.insert(args.end(), {"-o", out});
    ProcessResult r = Zk(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << "\n" << r.All();
    EXPECT_TRUE(Contains(r.err, c.message));
    EXPECT_FALSE(fs::exists(out)) << "nothing written";
  }
  EXPECT_FALSE(fs::exists(StateDbPath(home_))) << "a refused command creates no state";

  // Local clusters only, for now: said, not attempted against an API server.
  std::vector<std::string> env = world_.Env();
  env.push_back("ZKPILOT_PLATFORM=kubernetes");
  for (const std::string verb : {"certs", "connect"}) {
    ProcessResult r =
        testing::RunProcess({ZKPILOT_BINARY, verb, "alpha"}, {env, ZKPILOT_SOURCE_DIR, world_.capture(), 1min});
    EXPECT_EQ(r.exit_code, 2) << r.All();
    EXPECT_TRUE(Contains(r.err, verb + ": the local platform only for now"));
  }
}

TEST_F(CertsTest, APlaintextClusterHasNoCertificatesAndConnectSaysPlaintext) {
  ASSERT_NO_FATAL_FAILURE(Deploy("plain", kPackage));
  const std::string out = world_.root() + "/out";
  const std::string not_tls = "certs plain: cluster plain does not use TLS: switch it with `zkpilot configure plain --set tls.enabled=true` (or deploy with it)";
  ProcessResult r = Zk({"certs", "plain", "--client", "app1", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, not_tls));
  EXPECT_FALSE(fs::exists(out));
  r = Zk({"certs", "plain"});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, not_tls));
  EXPECT_FALSE(fs::exists(LocalPkiAt(ClusterHome(home_, "plain")).dir)) << "no CA made by looking";

  r = Zk({"certs", "nosuch", "--client", "app1", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, "certs nosuch: no cluster named nosuch (clusters: plain)"));
  EXPECT_FALSE(fs::exists(out));
  r = Zk({"connect", "nosuch"});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, "connect nosuch: no cluster named nosuch"));

  const std::string endpoint = "127.0.0.1:" + std::to_string(base_);
  r = Zk({"connect", "plain"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "connect string: " + endpoint + "\n"));
  EXPECT_TRUE(Contains(r.out, "plaintext"));
  r = Zk({"connect", "plain", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["connectString"], endpoint);
  EXPECT_EQ(doc["tls"], false);
  EXPECT_EQ(doc["plaintextAccepted"], true);
  EXPECT_TRUE(doc["caFile"].is_null());
  EXPECT_TRUE(doc["clientCertificateCommand"].is_null());
  EXPECT_TRUE(doc.contains("credentials") && doc["credentials"].is_null());
}

TEST_F(CertsTest, ClientCertificatesAreSignedByTheClustersCa) {
  ASSERT_NO_FATAL_FAILURE(DeployTls("tlsy"));
  const LocalPki pki = LocalPkiAt(ClusterHome(home_, "tlsy"));
  const std::string out = world_.root() + "/app1-tls";
  ProcessResult r = Zk({"certs", "tlsy", "--client", "app1", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "wrote " + out + "/ca.crt, " + out + "/app1.crt, " + out + "/app1.key"));
  EXPECT_EQ(Mode(out), 0700u);
  EXPECT_EQ(Mode(out + "/app1.key"), 0600u);
  EXPECT_EQ(Mode(out + "/app1.crt"), 0644u) << "certificates are public";
  EXPECT_EQ(Mode(out + "/ca.crt"), 0644u);
  EXPECT_EQ(Read(out + "/ca.crt"), Read(pki.ca_cert)) << "the cluster's CA, which its servers trust";

  // The real openssl: the chain, the subject, the purpose, the key.
  ProcessResult v = Openssl({"verify", "-CAfile", out + "/ca.crt", "-purpose", "sslclient", out + "/app1.crt"});
  EXPECT_EQ(v.exit_code, 0) << v.All();
  EXPECT_TRUE(Contains(v.out, out + "/app1.crt: OK"));
  ProcessResult subject = Openssl({"x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", out + "/app1.crt"});
  EXPECT_TRUE(Contains(subject.out, "subject=CN=app1\n"));
  ProcessResult cert_key = Openssl({"x509", "-noout", "-pubkey", "-in", out + "/app1.crt"});
  ProcessResult key = Openssl({"pkey", "-pubout", "-in", out + "/app1.key"});
  ASSERT_EQ(key.exit_code, 0) << key.All();
  EXPECT_EQ(cert_key.out, key.out) << "app1.key is the key of app1.crt";
  // A real client with these files, as they are: kazoo over TLS.
  ProcessResult kazoo = Kazoo(out + "/ca.crt", out + "/app1.crt", out + "/app1.key", {"create-read", "/certs-app1"});
  EXPECT_EQ(kazoo.exit_code, 0) << kazoo.All();
  EXPECT_TRUE(Contains(kazoo.out, "read: over-tls"));
  ProcessResult anonymous = Kazoo(out + "/ca.crt", "-", "-", {"create-read", "/certs-anonymous"});
  EXPECT_EQ(anonymous.exit_code, 4) << "no client certificate, no connection\n" << anonymous.All();
  // Another cluster's CA does not vouch for it.
  ProcessResult foreign = Openssl({"verify", "-CAfile", pki.admin_cert, out + "/app1.crt"});
  EXPECT_NE(foreign.exit_code, 0) << foreign.All();

  // An existing key is kept unless --force.
  const std::string first_key = Read(out + "/app1.key");
  r = Zk({"certs", "tlsy", "--client", "app1", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, out + "/app1.key exists: --force replaces it"));
  EXPECT_EQ(Read(out + "/app1.key"), first_key);
  r = Zk({"certs", "tlsy", "--client", "app1", "-o", out, "--force", "--validity", "2d"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_NE(Read(out + "/app1.key"), first_key);
  EXPECT_EQ(Openssl({"verify", "-CAfile", out + "/ca.crt", out + "/app1.crt"}).exit_code, 0);
  // Valid for 2 days: not for 3.
  EXPECT_EQ(Openssl({"x509", "-noout", "-checkend", std::to_string(47 * 3600), "-in", out + "/app1.crt"}).exit_code, 0);
  EXPECT_NE(Openssl({"x509", "-noout", "-checkend", std::to_string(72 * 3600), "-in", out + "/app1.crt"}).exit_code, 0);

  // A shared output directory (world-writable and sticky, like /tmp) where
  // someone planted files at the names a predictable temporary file would
  // have: a symlink to a file of theirs and a file they keep a link to. The
  // key lands in neither; each output is a new file of its own.
  const std::string shared = world_.root() + "/shared";
  fs::create_directories(shared);
  fs::permissions(shared, static_cast<fs::perms>(01777), fs::perm_options::replace);
  std::ofstream(shared + "/theirs") << "theirs\n";
  fs::create_symlink(shared + "/theirs", shared + "/app2.key.tmp");
  std::ofstream(shared + "/app2.crt.tmp") << "planted\n";
  fs::create_hard_link(shared + "/app2.crt.tmp", shared + "/their-link");
  r = Zk({"certs", "tlsy", "--client", "app2", "-o", shared});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_EQ(Read(shared + "/theirs"), "theirs\n");
  EXPECT_EQ(Read(shared + "/their-link"), "planted\n");
  EXPECT_FALSE(fs::is_symlink(shared + "/app2.key"));
  EXPECT_EQ(Mode(shared + "/app2.key"), 0600u);
  EXPECT_EQ(Mode(shared + "/app2.crt"), 0644u);
  ProcessResult shared_key = Openssl({"pkey", "-pubout", "-in", shared + "/app2.key"});
  EXPECT_EQ(shared_key.exit_code, 0) << shared_key.All();
  EXPECT_EQ(Openssl({"verify", "-CAfile", shared + "/ca.crt", shared + "/app2.crt"}).exit_code, 0);
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(shared)) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"theirs", "app2.key.tmp", "app2.crt.tmp", "their-link", "ca.crt",
                                          "app2.crt", "app2.key"}))
      << "no temporary file left";

  r = Zk({"connect", "tlsy", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["connectString"], "127.0.0.1:" + std::to_string(base_));
  EXPECT_EQ(doc["tls"], true);
  EXPECT_EQ(doc["plaintextAccepted"], false);
  EXPECT_EQ(doc["caFile"], pki.ca_cert);
  EXPECT_EQ(doc["clientCertificateCommand"], "zkpilot certs tlsy --client CLIENT -o DIR");
  EXPECT_TRUE(doc.contains("credentials") && doc["credentials"].is_null());
  r = Zk({"connect", "tlsy"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "TLS endpoints"));
  EXPECT_TRUE(Contains(r.out, "CA certificate: " + pki.ca_cert));
}

TEST_F(CertsTest, TheClustersCertificatesAreListedWithTheirExpiry) {
  ASSERT_NO_FATAL_FAILURE(DeployTls("tlsy"));
  const LocalPki pki = LocalPkiAt(ClusterHome(home_, "tlsy"));
  ProcessResult r = Zk({"certs", "tlsy", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["certificates"].size(), 3u) << r.out;
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  std::vector<std::string> names;
  for (const auto& c : doc["certificates"]) {
    names.push_back(c["name"]);
    EXPECT_TRUE(std::regex_match(c["notAfter"].get<std::string>(), rfc3339)) << c;
    EXPECT_EQ(c["needsRenewal"], false) << c;
    EXPECT_GT(c["daysLeft"].get<int>(), 300) << c;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"ca", "zkpilot", "server-1"}));
  EXPECT_EQ(doc["certificates"][1]["subject"], "CN=zkpilot-super");
  EXPECT_EQ(doc["certificates"][2]["file"], pki.ServerPem(1));

  // Server 1's certificate about to expire: listed as due, and only it.
  auto ca_cert = ReadFile(pki.ca_cert);
  auto ca_key = ReadFile(pki.ca_key);
  ASSERT_TRUE(ca_cert.ok() && ca_key.ok());
  CertificateRequest request;
  request.common_name = "tlsy-server-1";
  request.ip_addresses = {"127.0.0.1"};
  request.server = request.client = true;
  request.validity = 24h * 10;
  auto pair = IssueCertificate(KeyPair{*ca_cert, *ca_key}, request);
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  ASSERT_TRUE(WriteFileAtomically(pki.ServerPem(1), pair->key_pem + pair->cert_pem).ok());
  r = Zk({"certs", "tlsy", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["certificates"][0]["needsRenewal"], false);
  EXPECT_EQ(doc["certificates"][1]["needsRenewal"], false);
  EXPECT_EQ(doc["certificates"][2]["needsRenewal"], true);
  EXPECT_LE(doc["certificates"][2]["daysLeft"].get<int>(), 10);
  EXPECT_TRUE(Contains(doc["certificates"][2]["reason"].get<std::string>(), "within the 30 days before renewal"));

  r = Zk({"certs", "tlsy"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "NAME"));
  EXPECT_TRUE(Contains(r.out, "CN=zkpilot-super"));
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(server-1 +CN=tlsy-server-1 +\S+Z +(9|10) +yes)"))) << r.out;
  EXPECT_TRUE(Contains(r.out, "server-1 (" + pki.ServerPem(1) + "): expires "));

  // A CA about to expire is due too, but is never replaced behind the
  // clients' back; the certificates it did not sign are not the cluster's.
  // (The servers keep the CA they loaded; the cluster's own files come back
  // afterwards, so that `delete` can still reach them.)
  const std::string kept_cert = *ca_cert, kept_key = *ca_key;
  auto short_ca = CreateCertificateAuthority("zkpilot tlsy CA", 24h * 20);
  ASSERT_TRUE(short_ca.ok()) << short_ca.status().message();
  ASSERT_TRUE(WriteFileAtomically(pki.ca_key, short_ca->key_pem).ok());
  ASSERT_TRUE(WriteFileAtomically(pki.ca_cert, short_ca->cert_pem).ok());
  r = Zk({"certs", "tlsy", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["certificates"][0]["needsRenewal"], true);
  EXPECT_TRUE(Contains(doc["certificates"][0]["reason"].get<std::string>(), "it is not replaced automatically"));
  EXPECT_TRUE(Contains(doc["certificates"][1]["reason"].get<std::string>(), "not issued by this cluster's CA"));
  ASSERT_TRUE(WriteFileAtomically(pki.ca_key, kept_key).ok());
  ASSERT_TRUE(WriteFileAtomically(pki.ca_cert, kept_cert).ok());
}

}  // namespace
}  // namespace zkpilot
