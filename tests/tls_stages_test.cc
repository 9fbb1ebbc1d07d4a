// TLS stages 1 and 2 on running servers, through the real binary against
// real ZooKeeper: a cluster deployed plaintext, whose servers are rendered
// at stage 1 (then 2) one by one (LocalPlatform::ApplyServerConfig with a
// ServerRender, what the migration's roll-to-stage step does) and restarted
// by `zkpilot restart` (quorum-gated, the leader by hand-off), keeps
// answering zkpilot — which then speaks TLS to each server, as its observed
// stage says — and serves kazoo over both plaintext and TLS on the same
// client port.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "package/package_loader.h"
#include "platform/local/local_pki.h"
#include "platform/local/local_platform.h"
#include "platform/local/paths.h"
#include "state/state_store.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with python3-kazoo

// kazoo as an application: "plain" or "tls" (CA and client certificate),
// writes and reads a znode of its own; "REFUSED" when it gets no session.
constexpr const char* kKazooScript = R"PY(
import os, sys
from kazoo.client import KazooClient
mode, hosts, name = sys.argv[1], sys.argv[2], sys.argv[3]
kw = {}
if mode == "tls":
    kw = dict(use_ssl=True, verify_certs=True, ca=sys.argv[4], certfile=sys.argv[5], keyfile=sys.argv[6])
zk = KazooClient(hosts=hosts, timeout=5, connection_retry={"max_tries": 1}, **kw)
try:
    zk.start(timeout=8)
except Exception as e:
    print("REFUSED", type(e).__name__, flush=True)
    os._exit(3)
zk.create("/" + name, mode.encode())
print("READ", zk.get("/" + name)[0].decode(), flush=True)
zk.stop()
os._exit(0)
)PY";

class TlsStagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-stages", 40, &error)) << error;
    base_ = world_.base_port();
    scratch_ = world_.root() + "/client";
    ASSERT_TRUE(fs::create_directories(scratch_));
    std::ofstream(scratch_ + "/kazoo_probe.py") << kKazooScript;
    // The in-process platform finds distributions and ports as the binary does.
    for (const auto& kv : world_.Env()) {
      const auto eq = kv.find('=');
      ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
    ::setenv("ZKPILOT_CDS", "0", 1);
  }
  void TearDown() override {
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << world_.home() << " survived SIGKILL";
  }
  ProcessResult Zk(std::vector<std::string> args, std::chrono::milliseconds timeout = 3min) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return testing::RunProcess(args, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), timeout});
  }
  std::vector<std::string> Sets() const { return {"clientPort=" + std::to_string(base_)}; }
  // What roll-to-stage does to each server's files: rendered at `stage`.
  void RenderAllAt(TlsStage stage) {
    auto store = StateStore::Open(StateDbPath(world_.home()));
    ASSERT_TRUE(store.ok()) << store.status().message();
    auto pkg = LoadPackage(kPackage);
    ASSERT_TRUE(pkg.ok()) << pkg.status().message();
    ValuesInput in;
    in.sets = Sets();
    auto values = ResolveValues(pkg->schema, in);
    ASSERT_TRUE(values.ok()) << values.status().message();
    auto platform = LocalPlatform::Create(**store, world_.home(), "alpha", *pkg, *values);
    ASSERT_TRUE(platform.ok()) << platform.status().message();
    for (int id = 1; id <= 3; ++id) {
      auto applied = (*platform)->ApplyServerConfig(id, {}, ServerRender{stage, std::nullopt, std::nullopt});
      ASSERT_TRUE(applied.ok()) << applied.status().message();
    }
  }
  nlohmann::json Status() {
    ProcessResult r = Zk({"status", "alpha", "-o", "json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.All();
    return j;
  }
  // Every server healthy and running at `stage`, as status observes it.
  bool AllAt(int stage, std::string* last) {
    const nlohmann::json s = Status();
    *last = s.dump();
    if (!s.is_object() || !s.contains("nodes") || s["nodes"].size() != 3) return false;
    for (const auto& n : s["nodes"])
      if (n.value("tls_stage", -9) != stage || !n.value("healthy", false)) return false;
    return true;
  }
  ProcessResult Kazoo(const std::string& mode, int id, const std::string& name) {
    const LocalPki pki = LocalPkiAt(ClusterHome(world_.home(), "alpha"));
    const std::string hosts = "127.0.0.1:" + std::to_string(base_ + (id - 1) * 10);
    return testing::RunProcess({kPython, scratch_ + "/kazoo_probe.py", mode, hosts, name, pki.ca_cert,
                                pki.admin_cert, pki.admin_key},
                               {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 1min});
  }
  void ExpectBothTransports(int stage) {
    for (int id = 1; id <= 3; ++id) {
      for (const char* mode : {"plain", "tls"}) {
        const std::string name = std::string("s") + std::to_string(stage) + "-" + mode + "-" + std::to_string(id);
        ProcessResult r = Kazoo(mode, id, name);
        EXPECT_EQ(r.exit_code, 0) << "stage " << stage << ", server " << id << ", " << mode << ":\n" << r.All();
        EXPECT_NE(r.out.find(std::string("READ ") + mode), std::string::npos) << r.All();
      }
    }
  }

  testing::TestHome world_;
  std::string scratch_;
  int base_ = 0;
};

TEST_F(TlsStagesTest, ServersRolledToStages1And2ServeTlsAndPlaintextAndZkpilotFollows) {
  std::vector<std::string> deploy = {"deploy", "alpha", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--timeout", "120"};
  for (const auto& s : Sets()) deploy.insert(deploy.end(), {"--set", s});
  ProcessResult r = Zk(deploy);
  ASSERT_EQ(r.exit_code, 0) << r.All();
  std::string last;
  ASSERT_TRUE(testing::WaitUntil([&] { return AllAt(0, &last); }, 60s)) << last;
  // Plaintext only: a TLS client gets nothing at stage 0.
  EXPECT_EQ(Kazoo("tls", 1, "s0-tls").exit_code, 3);

  for (TlsStage stage : {TlsStage::kOpen, TlsStage::kQuorumTls}) {
    const int n = static_cast<int>(stage);
    ASSERT_NO_FATAL_FAILURE(RenderAllAt(stage));
    // One by one, followers first, the leader by hand-off: the ensemble
    // keeps its quorum, and zkpilot's waits read each restarted server over
    // TLS while the others still speak as before.
    r = Zk({"restart", "alpha", "--timeout", "120"}, 5min);
    ASSERT_EQ(r.exit_code, 0) << "stage " << n << ":\n" << r.All();
    ASSERT_TRUE(testing::WaitUntil([&] { return AllAt(n, &last); }, 60s)) << "stage " << n << ": " << last;
    ExpectBothTransports(n);
  }
  // The supervisor's liveness probe (over TLS now) killed nothing.
  const nlohmann::json s = Status();
  for (const auto& node : s["nodes"])
    EXPECT_EQ(node["last_exit"].get<std::string>().rfind("liveness", 0), std::string::npos) << s.dump(2);
}

}  // namespace
}  // namespace zkpilot
