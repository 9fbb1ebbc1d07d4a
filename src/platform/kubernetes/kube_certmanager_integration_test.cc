// The cert-manager mode's wiring (kube_certmanager.h) against a real kube-sim
// API server with cert-manager's CRDs installed schema-only
// (tests/kube-sim/test/fixtures/cert-manager-crds.yaml) and this test playing
// cert-manager's CA issuer: it signs each Certificate with the key pair in
// its Issuer's Secret and marks it Ready. This proves what zkpilot asks of
// cert-manager and what it waits for, not cert-manager itself.
#include "platform/kubernetes/kube_certmanager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "kube_sim_fixture/kube_sim_env.h"
#include "package/package_loader.h"
#include "platform/kubernetes/kube_platform_objects.h"
#include "platform/kubernetes/kube_tls.h"
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

Values TestValues(const std::string& certificates, std::vector<std::string> more = {}) {
  ValuesInput in;
  in.sets = {"replicas=3", "tls.enabled=true", "tls.certificates=" + certificates};
  in.sets.insert(in.sets.end(), more.begin(), more.end());
  auto values = ResolveValues(DefaultPackage().schema, in);
  if (!values.ok()) throw std::runtime_error(values.status().message());
  return std::move(values).value();
}

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

std::string Decoded(const json& secret, const std::string& key) {
  auto d = Base64Decode(secret["data"].value(key, ""));
  return d.ok() ? *d : "";
}

// cert-manager's CA issuer, as far as zkpilot relies on it: every Certificate
// not Ready gets its Secret (tls.crt, tls.key, ca.crt) from its Issuer's CA
// and the condition Ready=True.
class FakeIssuer {
 public:
  explicit FakeIssuer(const std::string& ns) : ns_(ns), thread_([this] { Run(); }) {}
  ~FakeIssuer() {
    stop_ = true;
    thread_.join();
  }
  int issued() const { return issued_; }

 private:
  void Run() {
    auto client = kubesim::Client(ns_);
    auto certs = client->Resolve("cert-manager.io/v1", "Certificate");
    auto issuers = client->Resolve("cert-manager.io/v1", "Issuer");
    if (!certs.ok() || !issuers.ok()) return;
    while (!stop_) {
      auto list = client->List(*certs, ns_);
      if (list.ok())
        for (const auto& c : (*list)["items"])
          if (!CertificateReady(c)) Issue(*client, *certs, *issuers, c);
      std::this_thread::sleep_for(100ms);
    }
  }
  void Issue(KubeClient& client, const ResourceRef& certs, const ResourceRef& issuers, const json& c) {
    auto issuer = client.Get(issuers, ns_, c["spec"]["issuerRef"]["name"].get<std::string>());
    if (!issuer.ok() || !*issuer) return;
    auto ca_secret = client.Get(kSecrets, ns_, (**issuer)["spec"]["ca"]["secretName"].get<std::string>());
    if (!ca_secret.ok() || !*ca_secret) return;
    const KeyPair ca{Decoded(**ca_secret, "tls.crt"), Decoded(**ca_secret, "tls.key")};
    CertificateRequest r;
    r.common_name = c["spec"].value("commonName", "");
    for (const auto& n : c["spec"]["dnsNames"]) r.dns_names.push_back(n);
    r.server = r.client = true;
    auto pair = IssueCertificate(ca, r);
    if (!pair.ok()) return;
    const std::string name = c["spec"]["secretName"];
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", ns_}}},
                   {"type", "kubernetes.io/tls"},
                   {"data",
                    {{"tls.crt", Base64Encode(pair->cert_pem)},
                     {"tls.key", Base64Encode(pair->key_pem)},
                     {"ca.crt", Base64Encode(ca.cert_pem)}}}};
    if (!client.Delete(kSecrets, ns_, name).ok()) return;
    if (!client.Create(kSecrets, ns_, secret).ok()) return;
    const json status = {{"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", "True"},
                                                                   {"reason", "Issued"}}})}}}};
    if (client.MergePatch(certs, ns_, c["metadata"]["name"], status, "status").ok()) ++issued_;
  }

  const std::string ns_;
  std::atomic<bool> stop_{false};
  std::atomic<int> issued_{0};
  std::thread thread_;
};

// Declared (so run) before the suite that installs the CRDs.
TEST(KubeCertManagerWithoutCrds, AutoMeansZkpilotAndCertManagerIsRefused) {
  auto client = kubesim::Client(kubesim::NewNamespace("nocm"));
  auto use = UseCertManager(*client, TestValues("auto"));
  ASSERT_TRUE(use.ok()) << use.status().message();
  EXPECT_FALSE(*use);
  auto refused = UseCertManager(*client, TestValues("cert-manager"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(refused.status().message().find("serves no cert-manager.io/v1 Certificate"), std::string::npos)
      << refused.status().message();
}

class KubeCertManagerApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string out;
    const std::string crds = std::string(ZKPILOT_SOURCE_DIR) + "/tests/kube-sim/test/fixtures/cert-manager-crds.yaml";
    ASSERT_EQ(kubesim::Kubectl({"apply", "--server-side", "-f", crds}, &out), 0) << out;
    ASSERT_EQ(kubesim::Kubectl({"wait", "--for=condition=Established", "crd/certificates.cert-manager.io",
                                "crd/issuers.cert-manager.io", "--timeout=60s"},
                               &out),
              0)
        << out;
  }
  void SetUp() override {
    ns_ = kubesim::NewNamespace("cm");
    client_ = kubesim::Client(ns_);
    options_.namespace_name = ns_;
    options_.cluster = "demo";
    options_.owner_uid = "0b5f6c1e-1111-2222-3333-444455556666";
  }
  Status ApplyAll(const std::vector<json>& objects) {
    for (const auto& o : objects) {
      ZK_ASSIGN_OR_RETURN(ResourceRef ref, client_->Resolve(o["apiVersion"], o["kind"]));
      ZK_RETURN_IF_ERROR(client_->Apply(ref, ns_, o, "zkpilot").status());
    }
    return Status::Ok();
  }

  std::string ns_;
  std::unique_ptr<KubeClient> client_;
  KubePlatformOptions options_;
};

TEST_F(KubeCertManagerApi, AutoMeansCertManagerOnceItsCertificateKindIsServed) {
  for (const auto& [mode, want] : std::vector<std::pair<std::string, bool>>{
           {"auto", true}, {"cert-manager", true}, {"zkpilot", false}}) {
    auto use = UseCertManager(*client_, TestValues(mode));
    ASSERT_TRUE(use.ok()) << mode << ": " << use.status().message();
    EXPECT_EQ(*use, want) << mode;
  }
}

// zkpilot's CAs shared with the Issuers, the Certificates issued by them
// into the Secrets the pod mounts, and the wait for Ready.
TEST_F(KubeCertManagerApi, CertificatesAreIssuedByZkpilotsCasAndWaitedFor) {
  const Values values = TestValues("cert-manager");
  ASSERT_TRUE(EnsureTlsSecrets(*client_, options_, values, {}).ok());
  ASSERT_TRUE(ShareCasWithCertManager(*client_, options_).ok());
  for (const std::string name : {"demo-tls-ca", "demo-tls-quorum-ca"}) {
    auto s = client_->Get(kSecrets, ns_, name);
    ASSERT_TRUE(s.ok() && *s);
    EXPECT_EQ(Decoded(**s, "tls.crt"), Decoded(**s, "ca.crt")) << name;
    EXPECT_EQ(Decoded(**s, "tls.key"), Decoded(**s, "ca.key")) << name;
  }
  ASSERT_TRUE(ApplyAll(CertManagerIssuers(options_)).ok());
  ASSERT_TRUE(ApplyAll(CertManagerCertificates(values, options_, 1)).ok());

  // Nobody issues yet: the wait ends naming what is missing.
  Status early = WaitCertificatesReady(*client_, options_, {"demo-server-1", "demo-quorum-1"}, 1s, SystemClock());
  EXPECT_EQ(early.code(), ErrorCode::kUnavailable);
  EXPECT_NE(early.message().find("Certificate demo-server-1 (not Ready)"), std::string::npos) << early.message();
  auto none = CertManagerTlsHash(*client_, options_, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");

  FakeIssuer issuer(ns_);
  Status ready = WaitCertificatesReady(*client_, options_, {"demo-server-1", "demo-quorum-1"}, 60s, SystemClock());
  ASSERT_TRUE(ready.ok()) << ready.message();
  auto hash = CertManagerTlsHash(*client_, options_, 1);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->size(), 16u);

  auto server = client_->Get(kSecrets, ns_, "demo-tls-server-1");
  auto quorum = client_->Get(kSecrets, ns_, "demo-tls-quorum-1");
  ASSERT_TRUE(server.ok() && *server && quorum.ok() && *quorum);
  auto server_cert = ReadCertificate(Decoded(**server, "tls.crt"));
  auto quorum_cert = ReadCertificate(Decoded(**quorum, "tls.crt"));
  auto ca = client_->Get(kSecrets, ns_, "demo-tls-ca");
  auto quorum_ca = client_->Get(kSecrets, ns_, "demo-tls-quorum-ca");
  ASSERT_TRUE(server_cert.ok() && quorum_cert.ok() && ca.ok() && quorum_ca.ok());
  EXPECT_EQ(server_cert->issuer, ReadCertificate(Decoded(**ca, "ca.crt"))->subject);
  EXPECT_EQ(quorum_cert->issuer, ReadCertificate(Decoded(**quorum_ca, "ca.crt"))->subject);
  const auto& names = server_cert->dns_names;
  EXPECT_NE(std::find(names.begin(), names.end(), "demo-1-0.demo-headless." + ns_ + ".svc.cluster.local"),
            names.end());
}

// The whole wiring with real servers (3.8.0): the platform applies the
// Issuers and Certificates and waits for them before each server's
// configuration, the pods mount what "cert-manager" issued under zkpilot
// mode's file names, and the ensemble serves TLS with those certificates.
TEST_F(KubeCertManagerApi, AnEnsembleServesTlsWithTheIssuedCertificates) {
  RealClock clock;
  const Values values = TestValues("cert-manager", {"heapSize=256m", "version=3.8.0"});
  options_.owner_uid.clear();  // no ZooKeeperCluster here: its garbage collection would take the objects
  KubernetesPlatform platform(*client_, DefaultPackage(), values, options_, clock);
  FakeIssuer issuer(ns_);
  for (int id = 1; id <= 3; ++id) {
    auto applied = platform.ApplyServerConfig(id, {});
    ASSERT_TRUE(applied.ok()) << applied.status().message();
    EXPECT_NE(applied->find("Certificates demo-server-" + std::to_string(id) + ", demo-quorum-" +
                            std::to_string(id) + " Ready (cert-manager)"),
              std::string::npos)
        << *applied;
  }
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(platform.StartServer(id).ok());

  auto sts = client_->Get(ResourceRef{"apps", "v1", "statefulsets", true, "StatefulSet"}, ns_, "demo-2");
  ASSERT_TRUE(sts.ok() && *sts);
  const json& tmpl = (**sts)["spec"]["template"];
  EXPECT_EQ(MetadataAnnotation(tmpl, kAnnotationTlsHash), *CertManagerTlsHash(*client_, options_, 2));
  bool projected = false;
  for (const auto& v : tmpl["spec"]["volumes"])
    if (v["name"] == "tls") projected = v.contains("projected");
  EXPECT_TRUE(projected) << tmpl["spec"]["volumes"].dump();

  const std::string dir = std::filesystem::temp_directory_path() / ("kube-cm-" + ns_);
  std::filesystem::create_directories(dir);
  auto secret = [&](const std::string& name, const std::string& key) {
    auto s = client_->Get(kSecrets, ns_, name);
    return s.ok() && *s ? Decoded(**s, key) : std::string();
  };
  std::ofstream(dir + "/ca.crt") << secret("demo-tls-zkpilot", "ca.crt");
  std::ofstream(dir + "/zkpilot.crt") << secret("demo-tls-zkpilot", "tls.crt");
  std::ofstream(dir + "/zkpilot.key") << secret("demo-tls-zkpilot", "tls.key");
  const TlsClientFiles files{dir + "/ca.crt", dir + "/zkpilot.crt", dir + "/zkpilot.key"};
  const std::string headless = "demo-headless." + ns_ + ".svc.cluster.local";
  std::string why;
  ASSERT_TRUE(Eventually(
      [&] {
        int leaders = 0;
        for (int id = 1; id <= 3; ++id) {
          auto srvr = TlsExchange(Endpoint{"demo-" + std::to_string(id) + "-0." + headless, 2181}, "srvr", 5s, files);
          if (!srvr.ok()) return why = srvr.status().message(), false;
          auto parsed = ParseSrvr(*srvr);
          if (!parsed.ok()) return why = parsed.status().message(), false;
          if (parsed->mode != "leader" && parsed->mode != "follower") return why = parsed->mode, false;
          leaders += parsed->mode == "leader";
        }
        return leaders == 1;
      },
      420s))
      << why;
  // The server certificate it presents is the one "cert-manager" issued.
  auto in_pod = client_->Exec(ns_, "demo-2-0", "zookeeper",
                              {"bash", "-c", "ls /tls | tr '\\n' ' '; touch /tls/x 2>/dev/null && echo rw || echo ro"});
  ASSERT_TRUE(in_pod.ok()) << in_pod.status().message();
  EXPECT_EQ(in_pod->out, "ca.crt quorum-ca.crt quorum.crt quorum.key tls.crt tls.key ro\n") << in_pod->err;
  std::string log;
  kubesim::Kubectl({"logs", "-n", ns_, "demo-2-0", "-c", "zookeeper"}, &log);
  EXPECT_NE(log.find("Creating TLS-only quorum server socket"), std::string::npos);
  EXPECT_GE(issuer.issued(), 6);
  ASSERT_TRUE(platform.TearDown(true, 180s).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  if (auto code = zkpilot::kubesim::RunInside(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
