#include "platform/kubernetes/kube_auth.h"

#include <gtest/gtest.h>

#include "package/package_loader.h"
#include "platform/kubernetes/kube_platform_objects.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;

const Package& DefaultPackage() {
  static const Package package = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    if (!p.ok()) throw std::runtime_error(p.status().message());
    return std::move(p).value();
  }();
  return package;
}

Values Resolve(const std::vector<std::string>& sets) {
  ValuesInput in;
  in.sets = sets;
  auto values = ResolveValues(DefaultPackage().schema, in);
  EXPECT_TRUE(values.ok()) << values.status().message();
  return values.ok() ? *values : Values();
}

// Server 1's pod template as the platform decorates it for `sets`.
json ServerTemplate(const std::vector<std::string>& sets) {
  const Values values = Resolve(sets);
  RenderOptions ro;
  ro.cluster_name = "demo";
  ro.namespace_name = "ns";
  auto rendered = RenderManifests(DefaultPackage(), values, ro);
  EXPECT_TRUE(rendered.ok()) << rendered.status().message();
  if (!rendered.ok()) return json::object();
  const AuthDecoration auth = AuthDecorationOf(values, "demo");
  PlatformObjects o = SortObjects(DefaultPackage(), *rendered,
                                  {"demo", "", "zkpilot.io/v1alpha1", "ZooKeeperCluster",
                                   "demo-zkpilot-super", auth.secret, auth.users});
  return o.servers.at(1).back()["spec"]["template"];
}

const json& ZooKeeperContainer(const json& tmpl) {
  for (const auto& c : tmpl["spec"]["containers"])
    if (c["name"] == "zookeeper") return c;
  return tmpl["spec"]["containers"][0];
}

std::string JvmFlags(const json& tmpl) {
  for (const auto& e : ZooKeeperContainer(tmpl)["env"])
    if (e["name"] == "SERVER_JVMFLAGS") return e["value"];
  return "";
}

TEST(KubeAuth, NothingWithoutAuth) {
  EXPECT_EQ(AuthDecorationOf(Resolve({}), "demo").secret, "");
  const json t = ServerTemplate({});
  EXPECT_EQ(JvmFlags(t).find("login.config"), std::string::npos);
  EXPECT_FALSE(t["metadata"]["annotations"].contains(kAnnotationAuthUsers));
}

// The JAAS file only, read-only, mode 0440 (the fsGroup may read it), named
// to the JVM after the super digest; the users in an annotation, so that a
// change of auth.users rolls; nothing secret in the pod template itself.
TEST(KubeAuth, ServerPodMountsTheJaasFileReadOnly) {
  const json t = ServerTemplate({"auth.enabled=true", "auth.users=[app, reader]", "auth.quorum=true"});
  json volume;
  for (const auto& v : t["spec"]["volumes"])
    if (v.contains("secret")) volume = v;
  ASSERT_TRUE(volume.is_object()) << t["spec"]["volumes"].dump();
  EXPECT_EQ(volume["secret"]["secretName"], "demo-auth");
  EXPECT_EQ(volume["secret"]["defaultMode"], 0440);
  EXPECT_EQ(volume["secret"]["items"], json::parse(R"([{"key":"jaas.conf","path":"jaas.conf"}])"));
  json mount;
  for (const auto& m : ZooKeeperContainer(t)["volumeMounts"])
    if (m["name"] == volume["name"]) mount = m;
  EXPECT_EQ(mount["mountPath"], "/auth");
  EXPECT_EQ(mount["readOnly"], true);
  EXPECT_EQ(JvmFlags(t),
            "-Dzookeeper.DigestAuthenticationProvider.superDigest=$(ZKPILOT_SUPER_DIGEST) "
            "-Djava.security.auth.login.config=/auth/jaas.conf");
  EXPECT_EQ(t["metadata"]["annotations"][kAnnotationAuthUsers], "app,reader");
  EXPECT_FALSE(ReferencesSecret(ZooKeeperContainer(t)["env"], "demo-auth"))
      << "no password through the environment";
  EXPECT_EQ(t["metadata"]["annotations"][kAnnotationTemplateHash], TemplateHash(t));

  auto hash = [](const std::vector<std::string>& sets) {
    return MetadataAnnotation(ServerTemplate(sets), kAnnotationTemplateHash);
  };
  EXPECT_NE(hash({"auth.enabled=true", "auth.users=[app]"}), hash({"auth.enabled=true", "auth.users=[app, reader]"}))
      << "a new user is a new JAAS file: the servers roll";
}

TEST(KubeAuth, QuorumOnlyStillHasTheJaasFile) {
  const AuthDecoration d = AuthDecorationOf(Resolve({"auth.quorum=true"}), "demo");
  EXPECT_EQ(d.secret, "demo-auth");
  EXPECT_EQ(d.users, "");
}

TEST(KubeAuth, BadUserNamesAreRefusedAsLocally) {
  Status s = CheckAuthValues(Resolve({"auth.enabled=true", "auth.users=[app, \"bad name\"]"}));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("auth.users"), std::string::npos) << s.message();
  EXPECT_TRUE(IsAuthSecret("demo", "demo-auth"));
  EXPECT_TRUE(IsAuthSecret("demo", "demo-auth-quorum"));
  EXPECT_FALSE(IsAuthSecret("demo", "demo-zkpilot-super"));
}

}  // namespace
}  // namespace zkpilot
