// The TLS Secrets of a Kubernetes cluster (kube_tls.h) against a real
// kube-sim API server: made once and read back, owned by the cluster
// resource, kept when add-ons are pruned, and the certificates in them chain
// to the right CA with the right names.
#include "platform/kubernetes/kube_tls.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kube_sim_fixture/kube_sim_env.h"
#include "package/package_loader.h"
#include "security/pki.h"
#include "zk/four_letter.h"
#include "zk/tls_transport.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const ResourceRef kSecrets{"", "v1", "secrets", true, "Secret"};

const Package& DefaultPackage() {
  static const Package package = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    if (!p.ok()) throw std::runtime_error(p.status().message());
    return std::move(p).value();
  }();
  return package;
}

Values TestValues(std::vector<std::string> sets) {
  ValuesInput in;
  in.sets = std::move(sets);
  auto values = ResolveValues(DefaultPackage().schema, in);
  if (!values.ok()) throw std::runtime_error(values.status().message());
  return std::move(values).value();
}

std::string Decoded(const json& secret, const std::string& key) {
  auto d = Base64Decode(secret["data"][key].get<std::string>());
  return d.ok() ? *d : "";
}

class KubeTlsSecrets : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = kubesim::NewNamespace("tls");
    client_ = kubesim::Client(ns_);
    options_.namespace_name = ns_;
    options_.cluster = "demo";
    options_.owner_uid = "0b5f6c1e-1111-2222-3333-444455556666";
  }
  json Get(const std::string& name) {
    auto object = client_->Get(kSecrets, ns_, name);
    EXPECT_TRUE(object.ok()) << object.status().message();
    return object.ok() && *object ? **object : json();
  }

  std::string ns_;
  std::unique_ptr<KubeClient> client_;
  KubePlatformOptions options_;
};

TEST_F(KubeTlsSecrets, AreMadeOnceThenReadBack) {
  const Values values = TestValues({"replicas=3", "tls.enabled=true"});
  auto first = EnsureTlsSecrets(*client_, options_, values, {1, 2, 3});
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_EQ(first->size(), 3u);
  std::map<std::string, std::string> versions;
  for (const std::string name : {"demo-tls-ca", "demo-tls-quorum-ca", "demo-tls-zkpilot",
                                 "demo-tls-server-1", "demo-tls-server-2", "demo-tls-server-3"}) {
    json s = Get(name);
    ASSERT_FALSE(s.is_null()) << name;
    versions[name] = s["metadata"].value("resourceVersion", "");
    EXPECT_EQ(s["metadata"]["labels"]["zkpilot.io/cluster"], "demo") << name;
    ASSERT_EQ(s["metadata"]["ownerReferences"].size(), 1u) << name;
    EXPECT_EQ(s["metadata"]["ownerReferences"][0]["uid"], options_.owner_uid) << name;
    EXPECT_EQ(s["metadata"]["ownerReferences"][0]["kind"], "ZooKeeperCluster") << name;
  }
  auto again = EnsureTlsSecrets(*client_, options_, values, {1, 2, 3});
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, *first) << "the same certificates, read back";
  for (const auto& [name, version] : versions)
    EXPECT_EQ(Get(name)["metadata"].value("resourceVersion", ""), version) << name << " unchanged";

  // A server added later (scale up) gets its Secret from the same CAs.
  auto more = EnsureTlsSecrets(*client_, options_, TestValues({"replicas=4", "tls.enabled=true"}),
                               {4});
  ASSERT_TRUE(more.ok()) << more.status().message();
  json s4 = Get("demo-tls-server-4");
  EXPECT_TRUE(VerifyIssuedBy(Decoded(s4, "tls.crt"), Decoded(Get("demo-tls-ca"), "ca.crt")).ok());
  EXPECT_EQ(Get("demo-tls-ca")["metadata"].value("resourceVersion", ""), versions["demo-tls-ca"]);
}

// Certificates within tls.renewBeforeDays of expiry are issued again by the
// same CAs, in place; the server's digest changes, which rolls it.
TEST_F(KubeTlsSecrets, CertificatesAboutToExpireAreRenewedAndTheirDigestChanges) {
  // Valid 2 days: not due with renewBeforeDays=1 ...
  const Values short_lived =
      TestValues({"tls.enabled=true", "tls.certificateValidityDays=2", "tls.renewBeforeDays=1"});
  auto first = EnsureTlsSecrets(*client_, options_, short_lived, {1, 2});
  ASSERT_TRUE(first.ok()) << first.status().message();
  const std::string ca_version = Get("demo-tls-ca")["metadata"].value("resourceVersion", "");
  const std::string old_cert = Decoded(Get("demo-tls-server-1"), "tls.crt");
  const std::string old_admin = Decoded(Get("demo-tls-zkpilot"), "tls.crt");
  auto again = EnsureTlsSecrets(*client_, options_, short_lived, {1, 2});
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, *first) << "not due yet: nothing renewed";

  // ... but due with the defaults (renewed 30 days before expiry).
  const Values defaults = TestValues({"tls.enabled=true"});
  auto renewed = EnsureTlsSecrets(*client_, options_, defaults, {1});
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_NE(renewed->at(1), first->at(1)) << "a renewed certificate rolls its server";
  const json server = Get("demo-tls-server-1");
  const std::string new_cert = Decoded(server, "tls.crt");
  EXPECT_NE(new_cert, old_cert);
  auto info = ReadCertificate(new_cert);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_GT(info->not_after - std::chrono::system_clock::now(), std::chrono::hours(24 * 300));
  const std::string ca = Decoded(Get("demo-tls-ca"), "ca.crt");
  EXPECT_TRUE(VerifyIssuedBy(new_cert, ca).ok()) << "the same CA: peers keep trusting it";
  EXPECT_TRUE(VerifyIssuedBy(Decoded(server, "quorum.crt"), Decoded(Get("demo-tls-quorum-ca"), "ca.crt")).ok());
  EXPECT_EQ(Get("demo-tls-ca")["metadata"].value("resourceVersion", ""), ca_version) << "the CA is kept";
  EXPECT_EQ(server["metadata"]["ownerReferences"][0]["uid"], options_.owner_uid);
  // zkpilot's own certificate too; server 2, not asked for, is left as it was.
  EXPECT_NE(Decoded(Get("demo-tls-zkpilot"), "tls.crt"), old_admin);
  EXPECT_TRUE(VerifyIssuedBy(Decoded(Get("demo-tls-zkpilot"), "tls.crt"), ca).ok());
  auto after = EnsureTlsSecrets(*client_, options_, defaults, {1});
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(after->at(1), renewed->at(1)) << "renewed once";
}

TEST_F(KubeTlsSecrets, ServerCertificatesNameThePodAndTheServiceAndChainToTheirCa) {
  const Values values = TestValues({"replicas=3", "tls.enabled=true"});
  ASSERT_TRUE(EnsureTlsSecrets(*client_, options_, values, {2}).ok());
  const json server = Get("demo-tls-server-2");
  const std::string ca = Decoded(Get("demo-tls-ca"), "ca.crt");
  const std::string quorum_ca = Decoded(Get("demo-tls-quorum-ca"), "ca.crt");
  EXPECT_EQ(Decoded(server, "ca.crt"), ca);
  EXPECT_EQ(Decoded(server, "quorum-ca.crt"), quorum_ca);
  EXPECT_TRUE(VerifyIssuedBy(Decoded(server, "tls.crt"), ca).ok());
  EXPECT_TRUE(VerifyIssuedBy(Decoded(server, "quorum.crt"), quorum_ca).ok());
  // Two CAs: nothing the client CA signs passes the quorum's trust store,
  // and the other way round.
  EXPECT_FALSE(VerifyIssuedBy(Decoded(server, "quorum.crt"), ca).ok());
  EXPECT_FALSE(VerifyIssuedBy(Decoded(Get("demo-tls-zkpilot"), "tls.crt"), quorum_ca).ok());

  auto info = ReadCertificate(Decoded(server, "tls.crt"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  const std::string pod = "demo-2-0.demo-headless." + ns_;
  for (const std::string& name : std::vector<std::string>{pod + ".svc.cluster.local", pod + ".svc", pod, "demo-2-0.demo-headless",
                                 "demo." + ns_ + ".svc.cluster.local", "demo." + ns_ + ".svc",
                                 "demo." + ns_, std::string("demo")})
    EXPECT_NE(std::find(info->dns_names.begin(), info->dns_names.end(), name), info->dns_names.end())
        << name;
  EXPECT_EQ(info->dns_names.size(), 8u);
  EXPECT_EQ(info->subject, "CN=demo-server-2");
}

TEST_F(KubeTlsSecrets, OperatorCredentialsAreTheSuperUsersCertificate) {
  auto missing = ReadOperatorTlsCredentials(*client_, ns_, "demo");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("demo-tls-zkpilot"), std::string::npos);

  ASSERT_TRUE(EnsureTlsSecrets(*client_, options_, TestValues({"tls.enabled=true"}), {1}).ok());
  auto creds = ReadOperatorTlsCredentials(*client_, ns_, "demo");
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_TRUE(creds->ca_file.empty() && creds->cert_file.empty() && creds->key_file.empty());
  EXPECT_EQ(creds->ca_pem, Decoded(Get("demo-tls-ca"), "ca.crt"));
  auto info = ReadCertificate(creds->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject, "CN=zkpilot-super");
  EXPECT_TRUE(VerifyIssuedBy(creds->cert_pem, creds->ca_pem).ok());
  EXPECT_NE(creds->key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST_F(KubeTlsSecrets, AnUnusableSecretIsAnErrorNamingIt) {
  ASSERT_TRUE(EnsureTlsSecrets(*client_, options_, TestValues({"tls.enabled=true"}), {1}).ok());
  json broken = Get("demo-tls-zkpilot");
  broken["data"].erase("tls.key");
  ASSERT_TRUE(client_->Replace(kSecrets, ns_, broken).ok());
  auto read = ReadOperatorTlsCredentials(*client_, ns_, "demo");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(read.status().message().find("Secret demo-tls-zkpilot has no key \"tls.key\""),
            std::string::npos)
      << read.status().message();

  // Deleted, it is made again from the same CA.
  ASSERT_TRUE(client_->Delete(kSecrets, ns_, "demo-tls-zkpilot").ok());
  ASSERT_TRUE(EnsureTlsSecrets(*client_, options_, TestValues({"tls.enabled=true"}), {1}).ok());
  auto remade = ReadOperatorTlsCredentials(*client_, ns_, "demo");
  ASSERT_TRUE(remade.ok()) << remade.status().message();
  EXPECT_TRUE(VerifyIssuedBy(remade->cert_pem, Decoded(Get("demo-tls-ca"), "ca.crt")).ok());

  // A server certificate of another CA is refused, not replaced.
  auto other = CreateCertificateAuthority("other", std::chrono::hours(240));
  ASSERT_TRUE(other.ok());
  CertificateRequest r;
  r.common_name = "demo-server-1";
  r.server = true;
  auto foreign = IssueCertificate(*other, r);
  ASSERT_TRUE(foreign.ok());
  json server = Get("demo-tls-server-1");
  server["data"]["tls.crt"] = Base64Encode(foreign->cert_pem);
  ASSERT_TRUE(client_->Replace(kSecrets, ns_, server).ok());
  auto ensured = EnsureTlsSecrets(*client_, options_, TestValues({"tls.enabled=true"}), {1});
  ASSERT_FALSE(ensured.ok());
  EXPECT_NE(ensured.status().message().find("Secret demo-tls-server-1, key tls.crt"),
            std::string::npos)
      << ensured.status().message();
}

// ApplyAddons deletes the cluster's labelled objects that the package no
// longer renders; the TLS Secrets are never rendered, and must stay.
TEST_F(KubeTlsSecrets, AreKeptWhenAddOnsArePruned) {
  const Values values = TestValues({"replicas=3", "tls.enabled=true"});
  ASSERT_TRUE(EnsureTlsSecrets(*client_, options_, values, {1, 2, 3}).ok());
  KubernetesPlatform platform(*client_, DefaultPackage(), values, options_);
  auto applied = platform.ApplyAddons();
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ(applied->find("pruned"), std::string::npos) << *applied;
  for (const std::string name : {"demo-tls-ca", "demo-tls-quorum-ca", "demo-tls-zkpilot",
                                 "demo-tls-server-1", "demo-tls-server-2", "demo-tls-server-3"})
    EXPECT_FALSE(Get(name).is_null()) << name << " was pruned";
}

// A TLS ensemble in kube-sim's pods, started through the platform's
// primitives: real ZooKeeper serving TLS only with the Secrets' certificates.
class RealClock : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
  void Sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(500ms);
  }
  return true;
}

// `command` through bash; stdout and stderr together.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen(("bash -c '" + command + "' 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class KubeTlsEnsemble : public ::testing::TestWithParam<std::string> {};

TEST_P(KubeTlsEnsemble, ServesTlsOnlyWithTheSecretsCertificates) {
  RealClock clock;
  const std::string ns = kubesim::NewNamespace("tlszk");
  // The restricted profile still admits every server pod.
  ASSERT_EQ(kubesim::Kubectl({"label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"}), 0);
  auto client = kubesim::Client(ns);
  KubePlatformOptions options;
  options.namespace_name = ns;
  options.cluster = "demo";
  const Values values =
      TestValues({"replicas=3", "heapSize=256m", "tls.enabled=true", "version=" + GetParam()});
  KubernetesPlatform platform(*client, DefaultPackage(), values, options, clock);
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(platform.ApplyServerConfig(id, {}).ok());
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(platform.StartServer(id).ok());

  // zkpilot's credentials and the CAs, as files for openssl.
  const std::string dir = std::filesystem::temp_directory_path() / ("kube-tls-" + ns);
  std::filesystem::create_directories(dir);
  auto secret = [&](const std::string& name, const std::string& key) {
    auto s = client->Get(kSecrets, ns, name);
    return s.ok() && *s ? Decoded(**s, key) : std::string();
  };
  std::ofstream(dir + "/ca.crt") << secret("demo-tls-zkpilot", "ca.crt");
  std::ofstream(dir + "/zkpilot.crt") << secret("demo-tls-zkpilot", "tls.crt");
  std::ofstream(dir + "/zkpilot.key") << secret("demo-tls-zkpilot", "tls.key");
  std::ofstream(dir + "/quorum-ca.crt") << secret("demo-tls-server-1", "quorum-ca.crt");
  std::ofstream(dir + "/quorum.crt") << secret("demo-tls-server-1", "quorum.crt");
  std::ofstream(dir + "/quorum.key") << secret("demo-tls-server-1", "quorum.key");
  const TlsClientFiles files{dir + "/ca.crt", dir + "/zkpilot.crt", dir + "/zkpilot.key"};

  // Served over TLS on the client port, verified against the pod's DNS name;
  // Ready, so the probes reach the loopback port.
  const std::string headless = "demo-headless." + ns + ".svc.cluster.local";
  auto host = [&](int id) { return "demo-" + std::to_string(id) + "-0." + headless; };
  std::map<int, std::string> modes;
  std::string why;
  ASSERT_TRUE(Eventually(
      [&] {
        int leaders = 0;
        for (int id = 1; id <= 3; ++id) {
          auto srvr = TlsExchange(Endpoint{host(id), 2181}, "srvr", 5s, files);
          if (!srvr.ok()) return why = srvr.status().message(), false;
          auto parsed = ParseSrvr(*srvr);
          if (!parsed.ok()) return why = parsed.status().message(), false;
          modes[id] = parsed->mode;
          leaders += parsed->mode == "leader";
          if (parsed->mode != "leader" && parsed->mode != "follower") return why = parsed->mode, false;
        }
        return leaders == 1;
      },
      420s))
      << why;
  ASSERT_TRUE(Eventually(
      [&] {
        auto servers = platform.Servers();
        if (!servers.ok()) return false;
        for (const auto& s : *servers)
          if (!s.exists || !s.not_ready.empty()) return why = s.not_ready, false;
        return true;
      },
      120s))
      << why;
  int leader = 0;
  for (const auto& [id, mode] : modes)
    if (mode == "leader") leader = id;

  // openssl verifies the Service's name too, and srvr answers.
  const std::string service = "demo." + ns + ".svc.cluster.local";
  const std::string tls_srvr = Shell("printf srvr | timeout 20 openssl s_client -connect " + service +
                                     ":2181 -verify_hostname " + service + " -verify_return_error -CAfile " + dir +
                                     "/ca.crt -cert " + dir + "/zkpilot.crt -key " + dir + "/zkpilot.key -quiet");
  EXPECT_NE(tls_srvr.find("Mode: "), std::string::npos) << tls_srvr;
  const std::string wrong_name = Shell("printf srvr | timeout 20 openssl s_client -connect " + service +
                                       ":2181 -verify_hostname other." + ns + " -verify_return_error -CAfile " + dir +
                                       "/ca.crt -cert " + dir + "/zkpilot.crt -key " + dir + "/zkpilot.key -quiet");
  EXPECT_EQ(wrong_name.find("Mode: "), std::string::npos) << wrong_name;
  // Plaintext on the client port gets no answer.
  AdminClient plain(3000ms);
  EXPECT_FALSE(plain.Srvr(Endpoint{host(1), 2181}).ok());
  // The quorum port takes only quorum certificates. Under TLS 1.3 (3.9.3)
  // the server refuses a client certificate after the client has finished
  // its handshake: openssl keeps reading a moment to see the alert.
  const std::string quorum = host(leader) + ":2888";
  auto to_quorum = [&](const std::string& cert) {
    return Shell("sleep 3 | timeout 20 openssl s_client -connect " + quorum + " -CAfile " + dir +
                 "/quorum-ca.crt -cert " + dir + "/" + cert + ".crt -key " + dir + "/" + cert + ".key");
  };
  const std::string as_client = to_quorum("zkpilot");
  EXPECT_NE(as_client.find("alert"), std::string::npos) << as_client;
  const std::string as_peer = to_quorum("quorum");
  EXPECT_NE(as_peer.find("Verify return code: 0 (ok)"), std::string::npos) << as_peer;
  EXPECT_EQ(as_peer.find("alert"), std::string::npos) << as_peer;

  // Inside the pod: the Secret is read-only, the joined key stores private.
  auto in_pod = client->Exec(ns, "demo-2-0", "zookeeper",
                             {"bash", "-c",
                              "touch /tls/x 2>/dev/null && echo tls=rw || echo tls=ro; "
                              "stat -c %a /tmp/tls/server.pem /tmp/tls/quorum.pem"});
  ASSERT_TRUE(in_pod.ok()) << in_pod.status().message();
  EXPECT_EQ(in_pod->out, "tls=ro\n600\n600\n") << in_pod->err;
  std::string log;
  kubesim::Kubectl({"logs", "-n", ns, "demo-2-0", "-c", "zookeeper"}, &log);
  EXPECT_NE(log.find("Creating TLS-only quorum server socket"), std::string::npos);

  // A new certificate changes the server's template: it rolls.
  auto before = platform.TargetFingerprint(3);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(client->Delete(kSecrets, ns, "demo-tls-server-3").ok());
  auto after = platform.TargetFingerprint(3);
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_NE(*after, *before);

  ASSERT_TRUE(platform.TearDown(true, 180s).ok());
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Versions, KubeTlsEnsemble, ::testing::Values("3.8.0", "3.9.3"),
                         [](const auto& info) {
                           std::string n = "v" + info.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

TEST(KubeTlsNames, OnlyTheFourKindsAreTlsSecrets) {
  EXPECT_TRUE(IsTlsSecretName("demo", "demo-tls-ca"));
  EXPECT_TRUE(IsTlsSecretName("demo", "demo-tls-quorum-ca"));
  EXPECT_TRUE(IsTlsSecretName("demo", "demo-tls-zkpilot"));
  EXPECT_TRUE(IsTlsSecretName("demo", "demo-tls-server-12"));
  EXPECT_FALSE(IsTlsSecretName("demo", "demo-tls-server-"));
  EXPECT_FALSE(IsTlsSecretName("demo", "demo-tls-server-1x"));
  EXPECT_FALSE(IsTlsSecretName("demo", "other-tls-ca"));
  EXPECT_FALSE(IsTlsSecretName("demo", "demo-grafana-admin"));
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  if (auto code = zkpilot::kubesim::RunInside(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
