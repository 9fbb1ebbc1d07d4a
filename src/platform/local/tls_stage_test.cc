// The TLS stages of a local server's zoo.cfg (render/renderer.h TlsStage,
// design A1): stages 0 and 3 render byte for byte as plaintext and
// tls.enabled=true did before stages existed (golden files recorded from
// that template: tests/testdata/golden/local/*.cfg); stages 1 and 2 serve
// TLS and plaintext on one port; ClassifyTlsStage and
// ClassifyQuorumAuthStage read each rendering back, and a zoo.cfg ZooKeeper
// rewrote.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "package/package_loader.h"
#include "platform/local/local_auth.h"
#include "platform/local/local_tls.h"
#include "util/files.h"

namespace zkpilot {
namespace {

class TlsStageRender : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    ASSERT_TRUE(pkg.ok()) << pkg.status().message();
    pkg_ = *pkg;
    one_ = NodeEndpoint{1, "n1", "n1", "127.0.0.1", 12181, 12182, 12183, 12184, 0, "127.0.0.1", "/tmp/n1/data", ""};
    two_ = NodeEndpoint{2, "n2", "n2", "127.0.0.1", 12191, 12192, 12193, 12194, 0, "127.0.0.1", "/tmp/n2/data", ""};
  }
  Values ValuesOf(const std::vector<std::string>& sets) {
    ValuesInput in;
    in.sets = sets;
    auto values = ResolveValues(pkg_.schema, in);
    EXPECT_TRUE(values.ok()) << values.status().message();
    return values.ok() ? *values : Values();
  }
  // Server 1's zoo.cfg, as the local platform renders it: the key stores
  // are given iff the stage has TLS files (topology.h).
  std::string Render(const Values& values, const ServerRender& render = {}) {
    RenderOptions opts{"demo", "local", "local"};
    opts.server = render;
    NodeEndpoint one = one_, two = two_;
    if (TlsStageOf(render, values) >= TlsStage::kOpen) {
      one.tls_key_store = "/pki/server-1.pem", one.tls_trust_store = "/pki/ca.crt";
      two.tls_key_store = "/pki/server-2.pem", two.tls_trust_store = "/pki/ca.crt";
    }
    auto cfg = RenderDeclaredFile(pkg_, values, opts, {one, two}, one, "zooCfg");
    EXPECT_TRUE(cfg.ok()) << cfg.status().message();
    return cfg.ok() ? *cfg : std::string();
  }
  Package pkg_;
  NodeEndpoint one_, two_;
};

bool HasLine(const std::string& cfg, const std::string& line) {
  return ("\n" + cfg).find("\n" + line + "\n") != std::string::npos;
}

struct GoldenCfg {
  const char* name;
  std::vector<std::string> sets;
};

// Recorded from the template of before the stages (ZKPILOT_UPDATE_GOLDEN=1
// writes them): a cluster deployed then renders the same files now, so
// upgrading zkpilot rolls nothing.
TEST_F(TlsStageRender, Stages0And3RenderAsBeforeStages) {
  const std::vector<GoldenCfg> cases = {
      {"plaintext", {}},
      {"plaintext-auth", {"auth.enabled=true", "auth.enforce=true", "auth.quorum=true"}},
      {"tls", {"tls.enabled=true"}},
      {"tls-auth", {"tls.enabled=true", "auth.enabled=true", "auth.enforce=true", "auth.quorum=true"}},
  };
  for (const auto& c : cases) {
    const Values values = ValuesOf(c.sets);
    const std::string cfg = Render(values);
    const std::string path = std::string(ZKPILOT_SOURCE_DIR) + "/tests/testdata/golden/local/" + c.name + ".cfg";
    if (std::getenv("ZKPILOT_UPDATE_GOLDEN")) {
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
      std::ofstream(path) << cfg;
      continue;
    }
    auto golden = ReadFile(path);
    ASSERT_TRUE(golden.ok()) << golden.status().message();
    EXPECT_EQ(*golden, cfg) << c.name;
    // The stage the values ask for, given explicitly, is the same file.
    const TlsStage stage = TargetTlsStage(values);
    EXPECT_EQ(Render(values, ServerRender{stage, std::nullopt, std::nullopt}), cfg) << c.name;
    EXPECT_EQ(Render(values, ServerRender{stage, stage != TlsStage::kTls, std::nullopt}), cfg) << c.name;
    EXPECT_EQ(ClassifyTlsStage(cfg), stage) << c.name;
  }
}

TEST_F(TlsStageRender, Stage1ServesTlsAndPlaintextOnTheClientPortAndQuorum) {
  const Values plain = ValuesOf({"auth.enabled=true", "auth.enforce=true"});
  const std::string cfg = Render(plain, ServerRender{TlsStage::kOpen, std::nullopt, std::nullopt});
  for (const char* line : {"clientPort=12181", "clientPortAddress=127.0.0.1", "client.portUnification=true",
                           "portUnification=true",
                           "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
                           "ssl.keyStore.location=/pki/server-1.pem", "ssl.trustStore.location=/pki/ca.crt",
                           "ssl.quorum.keyStore.location=/pki/server-1.pem",
                           "ssl.quorum.trustStore.location=/pki/ca.crt",
                           "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
                           "X509AuthenticationProvider.superUser=CN=zkpilot-super",
                           // both identities zkpilot may have while clients move
                           "enforce.auth.schemes=sasl,digest,x509",
                           "server.1=127.0.0.1:12182:12183;127.0.0.1:12181",
                           "server.2=127.0.0.1:12192:12193;127.0.0.1:12191"})
    EXPECT_TRUE(HasLine(cfg, line)) << line << "\n" << cfg;
  for (const char* key : {"secureClientPort=", "secureClientPortAddress=", "sslQuorum="})
    EXPECT_EQ(cfg.find(std::string("\n") + key), std::string::npos) << key << "\n" << cfg;
  EXPECT_EQ(ClassifyTlsStage(cfg), TlsStage::kOpen);
  // From a TLS cluster's values (going back) the same stage is the same file.
  EXPECT_EQ(Render(ValuesOf({"tls.enabled=true", "auth.enabled=true", "auth.enforce=true"}),
                   ServerRender{TlsStage::kOpen, std::nullopt, std::nullopt}),
            cfg);
}

TEST_F(TlsStageRender, Stage2AddsSslQuorumAndMayDropClientAddresses) {
  const Values values = ValuesOf({});
  const std::string open = Render(values, ServerRender{TlsStage::kOpen, std::nullopt, std::nullopt});
  const std::string cfg = Render(values, ServerRender{TlsStage::kQuorumTls, std::nullopt, std::nullopt});
  EXPECT_TRUE(HasLine(cfg, "sslQuorum=true")) << cfg;
  // Stage 2 is stage 1 plus sslQuorum: nothing else differs.
  std::string without = cfg;
  without.erase(without.find("sslQuorum=true\n"), std::string("sslQuorum=true\n").size());
  const auto pos = without.find("# TLS stage 2");
  ASSERT_NE(pos, std::string::npos) << cfg;
  without.replace(pos, std::string("# TLS stage 2").size(), "# TLS stage 1");
  EXPECT_EQ(without, open);
  EXPECT_EQ(ClassifyTlsStage(cfg), TlsStage::kQuorumTls);

  const std::string bare = Render(values, ServerRender{TlsStage::kQuorumTls, false, std::nullopt});
  EXPECT_TRUE(HasLine(bare, "server.1=127.0.0.1:12182:12183")) << bare;
  EXPECT_TRUE(HasLine(bare, "server.2=127.0.0.1:12192:12193")) << bare;
  // The plaintext port stays: it comes from clientPort now.
  EXPECT_TRUE(HasLine(bare, "clientPort=12181")) << bare;
  EXPECT_EQ(ClassifyTlsStage(bare), TlsStage::kQuorumTls);
}

TEST_F(TlsStageRender, Stage3WithClientAddressesKeepsOnlyTheSecurePort) {
  const Values values = ValuesOf({"tls.enabled=true"});
  const std::string cfg = Render(values, ServerRender{TlsStage::kTls, true, std::nullopt});
  EXPECT_TRUE(HasLine(cfg, "server.1=127.0.0.1:12182:12183;127.0.0.1:12181")) << cfg;
  EXPECT_EQ(ClassifyTlsStage(cfg), TlsStage::kTls);
}

TEST(TargetTlsStage, FromTheValues) {
  Values v;
  EXPECT_EQ(TargetTlsStage(v), TlsStage::kPlaintext);  // absent keys read as false
  v.Set("tls.enabled", true, "test");
  EXPECT_EQ(TargetTlsStage(v), TlsStage::kTls);
  v.Set("tls.allowPlaintext", true, "test");
  EXPECT_EQ(TargetTlsStage(v), TlsStage::kQuorumTls);
  v.Set("tls.enabled", false, "test");
  EXPECT_EQ(TargetTlsStage(v), TlsStage::kPlaintext);
  EXPECT_TRUE(ClientAddressesOf({}, v));
  v.Set("tls.enabled", true, "test");
  v.Set("tls.allowPlaintext", false, "test");
  EXPECT_FALSE(ClientAddressesOf({}, v));
  EXPECT_TRUE(ClientAddressesOf(ServerRender{TlsStage::kQuorumTls, std::nullopt, std::nullopt}, v));
  EXPECT_EQ(QuorumAuthStageOf({}, v), 0);
  v.Set("auth.quorum", true, "test");
  EXPECT_EQ(QuorumAuthStageOf({}, v), 3);
  EXPECT_EQ(QuorumAuthStageOf(ServerRender{std::nullopt, std::nullopt, 1}, v), 1);
}

// What ZooKeeper leaves of a zoo.cfg once a reconfig committed
// (QuorumPeerConfig.editStaticConfig): the server lines move to a dynamic
// file, and clientPort/clientPortAddress go when the new config gives this
// server a client address (needEraseClientInfoFromStaticConfig).
std::string RewrittenByZooKeeper(const std::string& cfg) {
  std::string out;
  size_t start = 0;
  while (start < cfg.size()) {
    size_t end = cfg.find('\n', start);
    if (end == std::string::npos) end = cfg.size();
    const std::string line = cfg.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#' || line.rfind("server.", 0) == 0 || line.rfind("clientPort", 0) == 0) continue;
    out += line + "\n";
  }
  return out + "dynamicConfigFile=/tmp/n1/conf/zoo.cfg.dynamic.100000003\n";
}

TEST_F(TlsStageRender, ClassifiesAZooCfgZooKeeperRewrote) {
  const Values values = ValuesOf({});
  for (TlsStage stage : {TlsStage::kPlaintext, TlsStage::kOpen, TlsStage::kQuorumTls, TlsStage::kTls}) {
    const std::string rewritten = RewrittenByZooKeeper(Render(values, ServerRender{stage, std::nullopt, std::nullopt}));
    EXPECT_EQ(rewritten.find("clientPort="), std::string::npos) << rewritten;
    EXPECT_EQ(ClassifyTlsStage(rewritten), stage) << rewritten;
  }
}

TEST(ClassifyTlsStage, UnknownCombinationsAndNotAZooCfg) {
  EXPECT_EQ(ClassifyTlsStage(""), TlsStage::kUnknown);
  EXPECT_EQ(ClassifyTlsStage("tickTime=2000\n"), TlsStage::kUnknown);
  EXPECT_EQ(ClassifyTlsStage("dataDir=/d\n"), TlsStage::kPlaintext);
  // sslQuorum without port unification or a secure client port: no stage.
  EXPECT_EQ(ClassifyTlsStage("dataDir=/d\nsslQuorum=true\n"), TlsStage::kUnknown);
  EXPECT_EQ(ClassifyTlsStage("dataDir=/d\nsecureClientPort=1\n"), TlsStage::kUnknown);
  EXPECT_EQ(ClassifyTlsStage("dataDir=/d\nsecureClientPort=1\nsslQuorum=true\nportUnification=true\n"),
            TlsStage::kUnknown);
  // Commented out, or false, is absent; blanks and case as Properties and
  // Boolean.parseBoolean read them.
  EXPECT_EQ(ClassifyTlsStage("dataDir=/d\n#sslQuorum=true\nportUnification = false\n"), TlsStage::kPlaintext);
  EXPECT_EQ(ClassifyTlsStage("dataDir=/d\nclient.portUnification = TRUE\n portUnification:true\n"), TlsStage::kOpen);
}

TEST_F(TlsStageRender, ClassifyQuorumAuthStage) {
  EXPECT_EQ(ClassifyQuorumAuthStage(Render(ValuesOf({}))), 0);
  EXPECT_EQ(ClassifyQuorumAuthStage(Render(ValuesOf({"auth.quorum=true"}))), 3);
  EXPECT_EQ(ClassifyQuorumAuthStage(RewrittenByZooKeeper(Render(ValuesOf({"auth.quorum=true"})))), 3);
  const std::string base = "dataDir=/d\n";
  EXPECT_EQ(ClassifyQuorumAuthStage(base + "quorum.auth.enableSasl=true\n"), 1);
  EXPECT_EQ(ClassifyQuorumAuthStage(base + "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=false\n"
                                           "quorum.auth.serverRequireSasl=false\n"),
            1);
  EXPECT_EQ(ClassifyQuorumAuthStage(base + "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n"), 2);
  EXPECT_EQ(ClassifyQuorumAuthStage(base + "quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n"), -1);
  EXPECT_EQ(ClassifyQuorumAuthStage(base + "quorum.auth.learnerRequireSasl=true\n"), -1);
  EXPECT_EQ(ClassifyQuorumAuthStage("tickTime=1\n"), -1);
}

}  // namespace
}  // namespace zkpilot
