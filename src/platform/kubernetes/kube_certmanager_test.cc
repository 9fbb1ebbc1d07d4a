#include "platform/kubernetes/kube_certmanager.h"

#include <gtest/gtest.h>

#include "package/package_loader.h"
#include "platform/kubernetes/cluster_resource.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;

Values Resolve(const std::vector<std::string>& sets) {
  static const Package package = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    if (!p.ok()) throw std::runtime_error(p.status().message());
    return std::move(p).value();
  }();
  ValuesInput in;
  in.sets = sets;
  auto values = ResolveValues(package.schema, in);
  EXPECT_TRUE(values.ok()) << values.status().message();
  return values.ok() ? *values : Values();
}

KubePlatformOptions Options() {
  KubePlatformOptions o;
  o.namespace_name = "zk";
  o.cluster = "demo";
  o.owner_uid = "uid-1";
  return o;
}

// Two CA Issuers on zkpilot's CA Secrets; per server a client-port and a
// quorum Certificate, each signed by its own CA, into the Secrets the pod
// mounts, with the server's DNS names and keys ZooKeeper can read.
TEST(KubeCertManager, IssuersAndCertificates) {
  const auto issuers = CertManagerIssuers(Options());
  ASSERT_EQ(issuers.size(), 2u);
  EXPECT_EQ(issuers[0]["apiVersion"], "cert-manager.io/v1");
  EXPECT_EQ(issuers[0]["kind"], "Issuer");
  EXPECT_EQ(issuers[0]["metadata"]["name"], "demo-tls-ca");
  EXPECT_EQ(issuers[0]["spec"]["ca"]["secretName"], "demo-tls-ca");
  EXPECT_EQ(issuers[1]["metadata"]["name"], "demo-tls-quorum-ca");
  EXPECT_EQ(issuers[1]["spec"]["ca"]["secretName"], "demo-tls-quorum-ca");
  EXPECT_EQ(issuers[1]["metadata"]["labels"][kLabelCluster], "demo");
  EXPECT_EQ(issuers[1]["metadata"]["ownerReferences"][0]["uid"], "uid-1");

  const auto certs = CertManagerCertificates(
      Resolve({"replicas=3", "tls.certificateValidityDays=90", "tls.renewBeforeDays=10"}), Options(), 2);
  ASSERT_EQ(certs.size(), 2u);
  const json& server = certs[0];
  const json& quorum = certs[1];
  EXPECT_EQ(server["kind"], "Certificate");
  EXPECT_EQ(server["metadata"]["name"], "demo-server-2");
  EXPECT_EQ(server["spec"]["secretName"], "demo-tls-server-2");
  EXPECT_EQ(server["spec"]["issuerRef"], json::parse(R"({"name":"demo-tls-ca","kind":"Issuer","group":"cert-manager.io"})"));
  EXPECT_EQ(quorum["metadata"]["name"], "demo-quorum-2");
  EXPECT_EQ(quorum["spec"]["secretName"], "demo-tls-quorum-2");
  EXPECT_EQ(quorum["spec"]["issuerRef"]["name"], "demo-tls-quorum-ca");
  for (const json* c : {&server, &quorum}) {
    const json& spec = (*c)["spec"];
    EXPECT_EQ(spec["duration"], "2160h");
    EXPECT_EQ(spec["renewBefore"], "240h");
    EXPECT_EQ(spec["privateKey"]["encoding"], "PKCS8");
    EXPECT_EQ(spec["privateKey"]["algorithm"], "ECDSA");
    const json& names = spec["dnsNames"];
    EXPECT_NE(std::find(names.begin(), names.end(), "demo-2-0.demo-headless.zk.svc.cluster.local"), names.end())
        << names.dump();
    EXPECT_NE(std::find(names.begin(), names.end(), "demo.zk.svc.cluster.local"), names.end()) << names.dump();
    EXPECT_NE(std::find(spec["usages"].begin(), spec["usages"].end(), "client auth"), spec["usages"].end());
  }
}

// The pod's /tls volume: both Secrets projected with the file names of
// zkpilot's mode, 0440.
TEST(KubeCertManager, PodMountsBothSecretsUnderZkpilotsFileNames) {
  json spec = json::parse(R"({"volumes":[{"name":"config","configMap":{"name":"x"}},
    {"name":"tls","secret":{"secretName":"demo-tls-server-2","defaultMode":288}}]})");
  UseCertManagerVolume(spec, "demo", 2);
  EXPECT_EQ(spec["volumes"][0]["configMap"]["name"], "x");
  const json& tls = spec["volumes"][1];
  EXPECT_FALSE(tls.contains("secret"));
  EXPECT_EQ(tls["projected"]["defaultMode"], 0440);
  const json& sources = tls["projected"]["sources"];
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0]["secret"]["name"], "demo-tls-server-2");
  EXPECT_EQ(sources[1]["secret"]["name"], "demo-tls-quorum-2");
  std::vector<std::string> paths;
  for (const auto& s : sources)
    for (const auto& i : s["secret"]["items"]) paths.push_back(i["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"tls.key", "tls.crt", "ca.crt", "quorum.key", "quorum.crt",
                                             "quorum-ca.crt"}));
}

TEST(KubeCertManager, ReadyIsTheReadyCondition) {
  EXPECT_FALSE(CertificateReady(json::parse(R"({"metadata":{"name":"a"}})")));
  EXPECT_FALSE(CertificateReady(json::parse(R"({"status":{"conditions":[{"type":"Ready","status":"False"}]}})")));
  EXPECT_TRUE(CertificateReady(
      json::parse(R"({"status":{"conditions":[{"type":"Issuing","status":"False"},{"type":"Ready","status":"True"}]}})")));
}

}  // namespace
}  // namespace zkpilot
