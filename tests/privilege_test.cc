// Least privilege of the local platform on a shared machine, through the
// real binary against real ZooKeeper: what it keeps under $ZKPILOT_HOME is
// the owner's only, the super user's digest is on no command line, the
// servers run no unauthenticated AdminServer, and anonymous clients can
// neither delete nor change the znodes the deploy hooks create, while
// zkpilot's own work (status, hooks, a roll with its leader hand-off) goes on.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "state/state_store.h"
#include "util/files.h"
#include "zk/four_letter.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr int kPortSpan = 60;
constexpr int kServers = 3;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class PrivilegeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-privilege", kPortSpan, &error)) << error;
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
  // Deploys "alpha" (three servers) and waits for the answer.
  void DeployAlpha() {
    // 3.8.0: AnUpgradeClosesAZkpilotZnodeLeftOpenByAnOlderDeploy upgrades it to 3.9.3.
    ProcessResult r =
        Zk({"deploy", "alpha", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(base_), "--set",
            "version=3.8.0", "--timeout", "90"});
    ASSERT_EQ(r.exit_code, 0) << r.All();
  }
  std::string ConnectString(int id) const {
    return "127.0.0.1:" + std::to_string(base_ + (id - 1) * 10);
  }
  std::string SuperPassword() {
    auto pw = ReadFile(ClusterHome(home_, "alpha") + "/super.secret");
    EXPECT_TRUE(pw.ok()) << pw.status().message();
    std::string s = pw.ok() ? *pw : "";
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  // A session on server `id`; as the super user when `password` is given.
  std::unique_ptr<ZkClient> Session(int id, const std::string& password = "") {
    auto zk = ZkClient::Connect(ConnectString(id), 15s);
    EXPECT_TRUE(zk.ok()) << zk.status().message();
    if (!zk.ok()) return nullptr;
    if (!password.empty()) {
      Status auth = (*zk)->AddAuth("digest", "super:" + password);
      EXPECT_TRUE(auth.ok()) << auth.message();
    }
    return std::move(*zk);
  }
  std::vector<int> ServerPids() {
    std::vector<int> pids;
    auto store = StateStore::Open(StateDbPath(home_));
    EXPECT_TRUE(store.ok()) << store.status().message();
    if (!store.ok()) return pids;
    auto nodes = (*store)->ListNodes("alpha");
    EXPECT_TRUE(nodes.ok()) << nodes.status().message();
    for (const auto& n : nodes.ok() ? *nodes : std::vector<NodeRecord>{}) pids.push_back(n.pid);
    return pids;
  }

  testing::TestHome world_;
  std::string home_;
  int base_ = 0;
};

// Every file and directory under the state directory after a deploy:
// state.db, locks, the cluster's directory, super.secret, the servers'
// configuration, data (snapshots, transaction logs written by the JVMs) and
// logs, the supervisor's log. None may give group or others any access.
TEST_F(PrivilegeTest, EverythingUnderTheStateDirectoryIsTheOwnersOnly) {
  ASSERT_NO_FATAL_FAILURE(DeployAlpha());
  // A write, so that ZooKeeper has a transaction log to create (mode from the JVM).
  auto zk = Session(1);
  ASSERT_TRUE(zk);
  ASSERT_TRUE(zk->Create("/privilege-probe", "x").ok());

  int checked = 0;
  std::string open;
  auto check = [&](const fs::path& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return;
    ++checked;
    if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      open += "  " + std::string(mode) + " " + p.string() + "\n";
    }
  };
  check(home_);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(home_, ec), end; !ec && it != end; it.increment(ec))
    check(it->path());
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_GT(checked, 20) << "the walk found too little under " << home_;
  EXPECT_EQ(open, "") << "readable by group or others:\n" << open;
  for (const char* must :
       {"/state.db", "/clusters/alpha/super.secret", "/clusters/alpha/nodes/1/zookeeper.log",
        "/clusters/alpha/nodes/1/data/version-2", "/clusters/alpha/nodes/1/conf/secret.args"})
    EXPECT_TRUE(fs::exists(home_ + must)) << must << " was expected under the state directory";
}

// `ps` (any local user) shows each process's command line: no server, nor the
// supervisor, may carry the digest there, and the servers still have it (the
// super user's session may do what anonymous ones may not, and a roll's
// leader hand-off, a reconfig as the super user, is not refused).
TEST_F(PrivilegeTest, TheSuperDigestIsOnNoCommandLineAndStillAuthenticates) {
  ASSERT_NO_FATAL_FAILURE(DeployAlpha());
  const std::string password = SuperPassword();
  ASSERT_FALSE(password.empty());
  const std::string digest = DigestId("super", password);
  const auto pids = ServerPids();
  ASSERT_EQ(pids.size(), static_cast<size_t>(kServers));
  std::vector<int> all = testing::PidsWithCmdline(home_);  // servers, supervisor
  ASSERT_GE(all.size(), static_cast<size_t>(kServers + 1));
  for (int pid : all) {
    const std::string cmdline = testing::Cmdline(pid);
    EXPECT_EQ(cmdline.find("superDigest"), std::string::npos) << "pid " << pid << ": " << cmdline;
    EXPECT_EQ(cmdline.find(digest.substr(digest.find(':') + 1)), std::string::npos)
        << "pid " << pid << ": " << cmdline;
  }

  auto anonymous = Session(2);
  ASSERT_TRUE(anonymous);
  Status refused = anonymous->Create("/zkpilot/probe", "");
  EXPECT_TRUE(Contains(refused.message(), "ZNOAUTH")) << refused.message();
  auto super = Session(2, password);
  ASSERT_TRUE(super);
  Status created = super->Create("/zkpilot/probe", "");
  EXPECT_TRUE(created.ok()) << "the servers do not know the super user: " << created.message();
  EXPECT_TRUE(super->Delete("/zkpilot/probe").ok());

  // A rolling change: the leader is handed off by a reconfig as the super user.
  ProcessResult r = Zk({"configure", "alpha", "--set", "tickTime=2100", "--timeout", "120"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.All(), "hand-off in")) << "the leader was not handed off";
  EXPECT_EQ(r.All().find("no hand-off"), std::string::npos) << r.All();
  for (int pid : testing::PidsWithCmdline(home_))
    EXPECT_EQ(testing::Cmdline(pid).find("superDigest"), std::string::npos)
        << "pid " << pid << " after the roll";
}

// Deleting a znode needs DELETE on its parent and no children; changing it
// needs WRITE/ADMIN on it. Anonymous clients get none of that for /zkpilot;
// the AdminServer, which would answer system_properties, stat_reset and
// set_trace_mask to anyone, does not run; status keeps working.
TEST_F(PrivilegeTest, AnonymousClientsCannotDeleteHookZnodesNorReachAnAdminServer) {
  ASSERT_NO_FATAL_FAILURE(DeployAlpha());
  auto zk = Session(3);
  ASSERT_TRUE(zk);
  for (const std::string path : {"/zkpilot/keep", "/zkpilot"}) {
    Status s = zk->Delete(path, DeleteMode::kRecursive);
    EXPECT_FALSE(s.ok()) << "an anonymous client deleted " << path;
    EXPECT_TRUE(Contains(s.message(), "ZNOAUTH")) << path;
  }
  Status node_only = zk->Delete("/zkpilot");
  EXPECT_FALSE(node_only.ok()) << "an anonymous client deleted /zkpilot";
  EXPECT_TRUE(Contains(node_only.message(), "ZNOTEMPTY"));
  EXPECT_TRUE(Contains(zk->Set("/zkpilot", "mine").message(), "ZNOAUTH"));
  auto still = zk->Exists("/zkpilot/keep");
  EXPECT_TRUE(still.ok() && *still) << "/zkpilot/keep is gone";

  AdminClient admin(2s);
  for (int id = 1; id <= kServers; ++id) {
    const Endpoint endpoint{"127.0.0.1", base_ + (id - 1) * 10 + 3};  // the AdminServer's port
    for (const char* command : {"system_properties", "stat_reset", "set_trace_mask", "srvr"}) {
      auto answer = admin.Command(endpoint, command);
      EXPECT_FALSE(answer.ok()) << "server " << id << " answered " << command
                                << " without authentication";
    }
    // The same commands as four-letter words (srst, stmk) are not whitelisted.
    for (const char* word : {"srst", "stmk"}) {
      auto reply = admin.FourLetterWord(Endpoint{"127.0.0.1", base_ + (id - 1) * 10}, word);
      EXPECT_FALSE(reply.ok()) << "server " << id << " ran " << word;
    }
  }
  ProcessResult status = Zk({"status", "alpha"});
  EXPECT_EQ(status.exit_code, 0) << status.All();
}

// A cluster deployed while /zkpilot was open to anyone (world:anyone:cdrwa,
// no child) gets the closed ACL and the keeping child at its next upgrade.
TEST_F(PrivilegeTest, AnUpgradeClosesAZkpilotZnodeLeftOpenByAnOlderDeploy) {
  ASSERT_NO_FATAL_FAILURE(DeployAlpha());
  {
    auto super = Session(1, SuperPassword());
    ASSERT_TRUE(super);
    ASSERT_TRUE(super->Delete("/zkpilot", DeleteMode::kRecursive).ok());
    CreateOptions open;
    open.acl = "world:anyone:cdrwa";
    ASSERT_TRUE(super->Create("/zkpilot", "", open).ok());
  }
  auto before = testing::ZnodeAcl(ConnectString(1), "/zkpilot");
  ASSERT_TRUE(before.ok() && *before == "world:anyone:cdrwa") << before.status().message();

  ProcessResult r = Zk({"upgrade", "alpha", "--version", "3.9.3", "--timeout", "120"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  auto after = testing::ZnodeAcl(ConnectString(2), "/zkpilot");
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(*after, "world:anyone:r");
  auto zk = Session(2);
  ASSERT_TRUE(zk);
  EXPECT_TRUE(Contains(zk->Delete("/zkpilot/keep").message(), "ZNOAUTH"));
  EXPECT_TRUE(Contains(zk->Delete("/zkpilot").message(), "ZNOTEMPTY"));
}

// What an older zkpilot left readable (directories 0755, state.db 0644) is
// tightened by the next command, whatever it is.
TEST_F(PrivilegeTest, AnOlderStateDirectoryIsTightenedByTheNextCommand) {
  const std::string cluster = ClusterHome(home_, "old");
  fs::create_directories(cluster + "/nodes/1");
  fs::create_directories(home_ + "/locks");
  {
    auto store = StateStore::Open(StateDbPath(home_));
    ASSERT_TRUE(store.ok()) << store.status().message();
  }
  const auto wide = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                    fs::perms::others_read | fs::perms::others_exec;
  for (const std::string& dir : {home_, home_ + "/clusters", cluster, home_ + "/locks"})
    fs::permissions(dir, wide, fs::perm_options::replace);
  fs::permissions(StateDbPath(home_),
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  fs::perm_options::replace);

  ProcessResult r = Zk({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  for (const std::string& path :
       {home_, home_ + "/clusters", cluster, home_ + "/locks", StateDbPath(home_)}) {
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 077, 0u)
        << path << " still has mode " << std::oct << (st.st_mode & 07777);
  }
}

}  // namespace
}  // namespace zkpilot
