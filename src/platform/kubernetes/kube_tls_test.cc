// The TLS Secrets of a Kubernetes cluster (kube_tls.h) against a real
// kube-sim API server: made once and read back, owned by the cluster
// resource, kept when add-ons are pruned, and the certificates in them chain
// to the right CA with the right names.
#include "platform/kubernetes/kube_tls.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "kube_sim_fixture/kube_sim_env.h"
#include "package/package_loader.h"
#include "security/pki.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;

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
  for (const std::string name : {pod + ".svc.cluster.local", pod + ".svc", pod, "demo-2-0.demo-headless",
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
