// The admin client and the C-client wrapper against real ZooKeeper servers
// (tests/zk_fixture) and against sockets on 127.0.0.1 that misbehave.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "zk/ensemble_config.h"
#include "zk/four_letter.h"
#include "zk/zk_client.h"
#include "zk_fixture/zk_fixture.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kSuperPassword[] = "integration-secret";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<ZkClient> MustConnect(const std::string& connect_string) {
  Result<std::unique_ptr<ZkClient>> client = ZkClient::Connect(connect_string, 15s);
  EXPECT_TRUE(client.ok()) << client.status().message();
  return client.ok() ? std::move(client).value() : nullptr;
}

// Retries `op` until it succeeds or `timeout` passes; for steps that race
// with a leader election (e.g. right after a reconfig).
template <typename Op>
auto Eventually(Op op, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = Clock::now() + timeout;
  auto result = op();
  while (!result.ok() && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    result = op();
  }
  return result;
}

// ---------------------------------------------------------------------------
// A 3-server ensemble shared by the tests of this suite.

class ZkEnsembleIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ZkTestEnsembleOptions options;
    options.super_password = kSuperPassword;
    Result<std::unique_ptr<ZkTestEnsemble>> started = ZkTestEnsemble::Start(3, options);
    if (started.ok()) {
      ensemble_ = std::move(started).value().release();
    } else {
      start_error_ = new std::string(started.status().message());
    }
  }
  static void TearDownTestSuite() {
    delete ensemble_;  // kills the servers by PID, removes the directory
    ensemble_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(ensemble_, nullptr) << *start_error_; }

  static ZkTestEnsemble* ensemble_;
  static std::string* start_error_;
  // Generous: the AdminServer's first request loads Jetty's classes, which
  // takes seconds when several JVMs share two cores.
  const AdminClient admin_{10s};
};

ZkTestEnsemble* ZkEnsembleIntegrationTest::ensemble_ = nullptr;
std::string* ZkEnsembleIntegrationTest::start_error_ = nullptr;

TEST_F(ZkEnsembleIntegrationTest, FourLetterWordsOnEveryServer) {
  int leaders = 0;
  for (int id = 1; id <= 3; ++id) {
    Endpoint client = ensemble_->Client(id);
    Result<SrvrInfo> srvr = admin_.Srvr(client);
    ASSERT_TRUE(srvr.ok()) << srvr.status().message();
    EXPECT_EQ(srvr->version, "3.8.0");
    EXPECT_TRUE(srvr->mode == "leader" || srvr->mode == "follower") << srvr->mode;
    leaders += srvr->mode == "leader";

    Result<std::map<std::string, std::string>> mntr = admin_.Mntr(client);
    ASSERT_TRUE(mntr.ok()) << mntr.status().message();
    EXPECT_EQ(mntr->at("zk_server_state"), srvr->mode);

    EXPECT_TRUE(admin_.Ruok(client).ok());

    Result<std::map<std::string, std::string>> conf = admin_.Conf(client);
    ASSERT_TRUE(conf.ok()) << conf.status().message();
    EXPECT_EQ(conf->at("clientPort"), std::to_string(client.port));
    EXPECT_EQ(conf->at("serverId"), std::to_string(id));
  }
  EXPECT_EQ(leaders, 1);
}

TEST_F(ZkEnsembleIntegrationTest, CommandOutsideTheWhitelistIsRefused) {
  for (const char* cmd : {"stat", "dump"}) {
    Result<std::string> reply = admin_.FourLetterWord(ensemble_->Client(1), cmd);
    ASSERT_FALSE(reply.ok()) << *reply;
    EXPECT_EQ(reply.status().message(),
              ensemble_->Client(1).ToString() + ": " + cmd +
                  ": refused: the command is not in the server's 4lw.commands.whitelist");
  }
}

TEST_F(ZkEnsembleIntegrationTest, AdminServerCommandsReturnJson) {
  for (int id = 1; id <= 3; ++id) {
    Result<nlohmann::json> monitor = admin_.Command(ensemble_->Admin(id), "monitor");
    ASSERT_TRUE(monitor.ok()) << monitor.status().message();
    std::string state = monitor->value("server_state", "");
    EXPECT_TRUE(state == "leader" || state == "follower") << monitor->dump();
    EXPECT_EQ(monitor->value("znode_count", 0) > 0, true);

    Result<nlohmann::json> srvr = admin_.Command(ensemble_->Admin(id), "srvr");
    ASSERT_TRUE(srvr.ok()) << srvr.status().message();
    EXPECT_TRUE(srvr->contains("server_stats")) << srvr->dump();
  }
  Result<nlohmann::json> unknown = admin_.Command(ensemble_->Admin(1), "no_such_command");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            ensemble_->Admin(1).ToString() +
                ": GET /commands/no_such_command: Unknown command: no_such_command");
}

TEST_F(ZkEnsembleIntegrationTest, WriteThroughOneServerIsReadThroughTheOthers) {
  std::unique_ptr<ZkClient> writer = MustConnect(ensemble_->ConnectString({1}));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(
      writer->Create("/replicated", "written via server 1", {.ignore_existing = true}).ok());
  ASSERT_TRUE(writer->Set("/replicated", "written via server 1").ok());
  for (int id : {2, 3}) {
    std::unique_ptr<ZkClient> reader = MustConnect(ensemble_->ConnectString({id}));
    ASSERT_NE(reader, nullptr);
    ASSERT_TRUE(reader->Sync("/replicated").ok());
    Result<std::string> data = reader->Get("/replicated");
    ASSERT_TRUE(data.ok()) << data.status().message();
    EXPECT_EQ(*data, "written via server 1") << "server " << id;
  }
}

TEST_F(ZkEnsembleIntegrationTest, CreateWithParentsExistsAndRecursiveDelete) {
  std::unique_ptr<ZkClient> zk = MustConnect(ensemble_->ConnectString());
  ASSERT_NE(zk, nullptr);

  Status missing_parent = zk->Create("/tree/a/b", "leaf");
  ASSERT_FALSE(missing_parent.ok());
  EXPECT_EQ(missing_parent.code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing_parent.message(), "create /tree/a/b: no node (ZNONODE)");

  ASSERT_TRUE(zk->Create("/tree/a/b", "leaf", {.make_parents = true}).ok());
  ASSERT_TRUE(zk->Create("/tree/a/c", "", {}).ok());
  EXPECT_EQ(*zk->Exists("/tree/a/b"), true);
  EXPECT_EQ(*zk->Exists("/tree/zzz"), false);
  EXPECT_EQ(*zk->Get("/tree/a/b"), "leaf");
  EXPECT_EQ(*zk->Get("/tree/a"), "");
  EXPECT_EQ(*zk->Children("/tree/a"), (std::vector<std::string>{"b", "c"}));

  Status again = zk->Create("/tree/a/b", "other");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.message(), "create /tree/a/b: node exists (ZNODEEXISTS)");
  Result<CreatedNode> kept = zk->CreateNode("/tree/a/b", "other", {.ignore_existing = true});
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ(kept->outcome, CreatedNode::Outcome::kAlreadyExisted);
  EXPECT_EQ(*zk->Get("/tree/a/b"), "leaf");

  Status not_empty = zk->Delete("/tree");
  ASSERT_FALSE(not_empty.ok());
  EXPECT_EQ(not_empty.message(), "delete /tree: not empty (ZNOTEMPTY)");
  ASSERT_TRUE(zk->Delete("/tree", DeleteMode::kRecursive).ok());
  EXPECT_EQ(*zk->Exists("/tree"), false);
  EXPECT_EQ(zk->Delete("/tree", DeleteMode::kRecursive).code(), ErrorCode::kNotFound);
  EXPECT_EQ(zk->Delete("/").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(zk->Get("relative").status().code(), ErrorCode::kInvalidInput);
}

TEST_F(ZkEnsembleIntegrationTest, SequentialAndEphemeralNodes) {
  std::unique_ptr<ZkClient> zk = MustConnect(ensemble_->ConnectString());
  ASSERT_NE(zk, nullptr);
  Result<CreatedNode> first = zk->CreateNode(
      "/queue/item-", "1", {.mode = CreateMode::kPersistentSequential, .make_parents = true});
  Result<CreatedNode> second =
      zk->CreateNode("/queue/item-", "2", {.mode = CreateMode::kPersistentSequential});
  ASSERT_TRUE(first.ok() && second.ok()) << first.status().message() << second.status().message();
  EXPECT_EQ(first->path, "/queue/item-0000000000");
  EXPECT_EQ(second->path, "/queue/item-0000000001");

  {
    std::unique_ptr<ZkClient> owner = MustConnect(ensemble_->ConnectString());
    ASSERT_NE(owner, nullptr);
    ASSERT_TRUE(owner->Create("/queue/lock", "", {.mode = CreateMode::kEphemeral}).ok());
    ASSERT_TRUE(zk->Sync("/queue").ok());  // the sessions may talk to different servers
    EXPECT_EQ(*zk->Exists("/queue/lock"), true);
  }  // closing the session removes its ephemeral node
  ASSERT_TRUE(zk->Sync("/queue").ok());
  EXPECT_EQ(*zk->Exists("/queue/lock"), false);
  ASSERT_TRUE(zk->Delete("/queue", DeleteMode::kRecursive).ok());
}

TEST_F(ZkEnsembleIntegrationTest, DigestAclNeedsTheCredentials) {
  std::unique_ptr<ZkClient> owner = MustConnect(ensemble_->ConnectString());
  std::unique_ptr<ZkClient> stranger = MustConnect(ensemble_->ConnectString());
  ASSERT_TRUE(owner && stranger);
  ASSERT_TRUE(owner->AddAuth("digest", "app:app-password").ok());
  const std::string acl = "digest:" + DigestId("app", "app-password") + ":cdrwa";
  ASSERT_TRUE(owner->Create("/private", "secret", {.acl = acl, .ignore_existing = true}).ok());
  EXPECT_EQ(*owner->Get("/private"), "secret");
  ASSERT_TRUE(stranger->Sync("/private").ok());
  Result<std::string> denied = stranger->Get("/private");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().message(), "get /private: not authenticated (ZNOAUTH)");
  ASSERT_TRUE(owner->Delete("/private").ok());

  Status bad_acl = owner->Create("/x", "", {.acl = "world:anyone:rwz"});
  EXPECT_EQ(bad_acl.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(bad_acl.message(),
            "create /x: acl 'world:anyone:rwz': unknown permission 'z' (use crwda)");
}

TEST_F(ZkEnsembleIntegrationTest, SetQuotaWritesTheLimits) {
  std::unique_ptr<ZkClient> zk = MustConnect(ensemble_->ConnectString());
  ASSERT_NE(zk, nullptr);
  ASSERT_TRUE(
      zk->Create("/limited/child", "12345", {.make_parents = true, .ignore_existing = true}).ok());
  ASSERT_TRUE(zk->SetQuota("/limited", 1000, 10).ok());
  EXPECT_EQ(*zk->Get("/zookeeper/quota/limited/zookeeper_limits"), "count=10,bytes=1000");
  // The server fills in the current usage: 2 nodes, 5 bytes.
  EXPECT_EQ(*zk->Get("/zookeeper/quota/limited/zookeeper_stats"), "count=2,bytes=5");
  ASSERT_TRUE(zk->SetQuota("/limited", 2000, 20).ok());  // again: updates the limits
  EXPECT_EQ(*zk->Get("/zookeeper/quota/limited/zookeeper_limits"), "count=20,bytes=2000");
}

TEST_F(ZkEnsembleIntegrationTest, GetConfigListsTheThreeServers) {
  std::unique_ptr<ZkClient> zk = MustConnect(ensemble_->ConnectString());
  ASSERT_NE(zk, nullptr);
  Result<std::string> text = zk->GetConfig();
  ASSERT_TRUE(text.ok()) << text.status().message();
  Result<EnsembleConfig> config = ParseEnsembleConfig(*text);
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->servers.size(), 3u) << *text;
  for (int id = 1; id <= 3; ++id)
    EXPECT_EQ(config->servers.at(id).ToConfigLine(), ensemble_->ServerLine(id));
  EXPECT_GT(config->version, 0);
}

TEST_F(ZkEnsembleIntegrationTest, ReconfigWithoutAuthIsRefused) {
  std::unique_ptr<ZkClient> zk = MustConnect(ensemble_->ConnectString());
  ASSERT_NE(zk, nullptr);
  Result<std::string> refused = zk->Reconfig("", "3");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "reconfig (joining '', leaving '3'): not authenticated (ZNOAUTH)");
}

TEST_F(ZkEnsembleIntegrationTest, ReconfigRemovesAndAddsBackAServer) {
  // Talk to servers 1 and 2 only: server 3 leaves the ensemble.
  std::unique_ptr<ZkClient> zk = MustConnect(ensemble_->ConnectString({1, 2}));
  ASSERT_NE(zk, nullptr);
  ASSERT_TRUE(zk->AddAuth("digest", std::string("super:") + kSuperPassword).ok());

  Result<std::string> removed = zk->Reconfig("", "3");
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  Result<EnsembleConfig> two = ParseEnsembleConfig(*removed);
  ASSERT_TRUE(two.ok()) << two.status().message();
  EXPECT_EQ(two->servers.size(), 2u) << *removed;
  EXPECT_EQ(two->servers.count(3), 0u);
  Result<std::string> read_back = Eventually([&] { return zk->GetConfig(); });
  ASSERT_TRUE(read_back.ok()) << read_back.status().message();
  EXPECT_EQ(ParseEnsembleConfig(*read_back)->servers.size(), 2u);

  // If server 3 led, servers 1 and 2 elect a new leader first.
  ASSERT_TRUE(ensemble_->WaitUntilServing({1, 2}).ok());
  Result<std::string> added =
      Eventually([&] { return zk->Reconfig(ensemble_->ServerLine(3), ""); });
  ASSERT_TRUE(added.ok()) << added.status().message();
  Result<EnsembleConfig> three = ParseEnsembleConfig(*added);
  ASSERT_TRUE(three.ok()) << three.status().message();
  ASSERT_EQ(three->servers.size(), 3u) << *added;
  EXPECT_EQ(three->servers.at(3).ToConfigLine(), ensemble_->ServerLine(3));
  EXPECT_GT(three->version, two->version);

  // Server 3 rejoins as a voter: it restarts its peer, syncs with the leader
  // and then lists itself in its config (the fixture waits for exactly that).
  Status serving = ensemble_->WaitUntilServing();
  ASSERT_TRUE(serving.ok()) << serving.message();
  Result<std::string> final_config = zk->GetConfig();
  ASSERT_TRUE(final_config.ok()) << final_config.status().message();
  EXPECT_EQ(ParseEnsembleConfig(*final_config)->servers.size(), 3u) << *final_config;
}

// ---------------------------------------------------------------------------
// A single server that the test kills and restarts.

TEST(ZkSingleServerIntegrationTest, KillAndRestart) {
  Result<std::unique_ptr<ZkTestEnsemble>> started = ZkTestEnsemble::Start(1);
  ASSERT_TRUE(started.ok()) << started.status().message();
  ZkTestEnsemble& ensemble = **started;
  const AdminClient admin(10s);
  Result<SrvrInfo> srvr = admin.Srvr(ensemble.Client(1));
  ASSERT_TRUE(srvr.ok()) << srvr.status().message();
  EXPECT_EQ(srvr->mode, "leader");  // standaloneEnabled=false: a quorum of one
  ASSERT_GT(ensemble.Pid(1), 0);
  Result<std::unique_ptr<ZkClient>> session = ZkClient::Connect(ensemble.ConnectString(), 15s, 4000);
  ASSERT_TRUE(session.ok()) << session.status().message();

  ASSERT_TRUE(ensemble.Kill(1).ok());
  EXPECT_EQ(ensemble.Pid(1), 0);
  // A synchronous call on a session whose only server died does not hang: it
  // fails within the session timeout.
  auto call_start = Clock::now();
  Result<bool> exists = (*session)->Exists("/zookeeper");
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.status().message(), "exists /zookeeper: connection loss (ZCONNECTIONLOSS)");
  EXPECT_LT(Clock::now() - call_start, 6s);

  auto start = Clock::now();
  Result<SrvrInfo> gone = admin.Srvr(ensemble.Client(1));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().message(), ensemble.Client(1).ToString() + ": srvr: connection refused");
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_FALSE(ensemble.Kill(1).ok());

  auto connect_start = Clock::now();
  Result<std::unique_ptr<ZkClient>> no_session = ZkClient::Connect(ensemble.ConnectString(), 700ms);
  ASSERT_FALSE(no_session.ok());
  EXPECT_TRUE(Contains(no_session.status().message(), "no session within 700ms"))
      << no_session.status().message();
  EXPECT_LT(Clock::now() - connect_start, 3s);

  ASSERT_TRUE(ensemble.Restart(1).ok());
  Status serving = ensemble.WaitUntilServing();
  ASSERT_TRUE(serving.ok()) << serving.message();
  std::unique_ptr<ZkClient> zk = MustConnect(ensemble.ConnectString());
  ASSERT_NE(zk, nullptr);
  EXPECT_EQ(*zk->Exists("/zookeeper"), true);
}

TEST(ZkFixtureIntegrationTest, FailedStartCarriesTheServerLog) {
  ZkTestEnsembleOptions options;
  options.classpath = "/nonexistent/zookeeper.jar";  // the JVM exits at once
  auto start = Clock::now();
  Result<std::unique_ptr<ZkTestEnsemble>> started = ZkTestEnsemble::Start(1, options);
  ASSERT_FALSE(started.ok());
  const std::string& message = started.status().message();
  EXPECT_TRUE(Contains(message, "start 1 ZooKeeper server(s): server 1 (pid ")) << message;
  EXPECT_TRUE(Contains(message, "exited with code")) << message;
  EXPECT_TRUE(Contains(message, "--- server 1 log (tail) ---")) << message;
  EXPECT_TRUE(Contains(message, "QuorumPeerMain"))
      << message;                        // "Could not find or load main class ..."
  EXPECT_LT(Clock::now() - start, 30s);  // noticed the exit; did not wait for the deadline
}

// ---------------------------------------------------------------------------
// Sockets that misbehave; no ZooKeeper.

// A socket bound to a free 127.0.0.1 port; listening or not.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    if (listen) {
      EXPECT_EQ(::listen(fd_, 16), 0);
    }
  }
  ~LoopbackSocket() { ::close(fd_); }
  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ZkNetworkIntegrationTest, ClosedPortIsRefusedQuickly) {
  LoopbackSocket bound_not_listening(/*listen=*/false);  // nobody accepts on this port
  const AdminClient admin(5000ms);
  auto start = Clock::now();
  Result<SrvrInfo> srvr = admin.Srvr(bound_not_listening.endpoint());
  ASSERT_FALSE(srvr.ok());
  EXPECT_EQ(srvr.status().message(),
            bound_not_listening.endpoint().ToString() + ": srvr: connection refused");
  EXPECT_LT(Clock::now() - start, 1s);

  Result<nlohmann::json> command = admin.Command(bound_not_listening.endpoint(), "monitor");
  ASSERT_FALSE(command.ok());
  EXPECT_EQ(command.status().message(),
            bound_not_listening.endpoint().ToString() +
                ": GET /commands/monitor: could not connect (refused or unreachable)");
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(ZkNetworkIntegrationTest, TimeoutIsHonouredAgainstASilentListener) {
  LoopbackSocket silent(/*listen=*/true);  // the kernel accepts; nobody ever answers
  const AdminClient admin(400ms);
  auto start = Clock::now();
  Result<SrvrInfo> srvr = admin.Srvr(silent.endpoint());
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(srvr.ok());
  EXPECT_EQ(srvr.status().message(),
            silent.endpoint().ToString() +
                ": srvr: timed out after 400ms waiting for a reply (0 bytes received)");
  EXPECT_GE(elapsed, 350ms);
  EXPECT_LT(elapsed, 2s);

  start = Clock::now();
  Result<nlohmann::json> command = admin.Command(silent.endpoint(), "monitor");
  elapsed = Clock::now() - start;
  ASSERT_FALSE(command.ok());
  EXPECT_TRUE(Contains(command.status().message(), "GET /commands/monitor"))
      << command.status().message();
  EXPECT_LT(elapsed, 3s);

  start = Clock::now();
  Result<std::unique_ptr<ZkClient>> zk = ZkClient::Connect(silent.endpoint().ToString(), 500ms);
  elapsed = Clock::now() - start;
  ASSERT_FALSE(zk.ok());
  EXPECT_TRUE(Contains(zk.status().message(), "no session within 500ms")) << zk.status().message();
  EXPECT_LT(elapsed, 3s);
}

// An AdminServer stand-in replaying replies captured from 3.8.0.
TEST(ZkNetworkIntegrationTest, AdminCommandRepliesAreChecked) {
  auto testdata = [](const std::string& name) {
    std::ifstream in(std::string(ZKPILOT_ZK_TESTDATA) + "/" + name);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  };
  httplib::Server server;
  server.Get("/commands/srvr", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(testdata("admin_srvr_leader.json"), "application/json");
  });
  server.Get("/commands/nosuch", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(testdata("admin_unknown.json"), "application/json");
  });
  server.Get("/commands/monitor", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(
        "<html><head><title>Error 500 java.lang.NullPointerException</title></head></html>",
        "text/html");
  });
  server.Get("/commands/text", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("imok", "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  const Endpoint endpoint{"127.0.0.1", port};
  const AdminClient admin(2000ms);

  Result<nlohmann::json> srvr = admin.Command(endpoint, "srvr");
  EXPECT_TRUE(srvr.ok()) << srvr.status().message();
  if (srvr.ok()) {
    EXPECT_EQ((*srvr)["server_stats"]["server_state"], "leader");
  }
  EXPECT_EQ(admin.Command(endpoint, "nosuch").status().message(),
            endpoint.ToString() + ": GET /commands/nosuch: Unknown command: nosuch");
  EXPECT_EQ(admin.Command(endpoint, "monitor").status().message(),
            endpoint.ToString() +
                ": GET /commands/monitor: HTTP 500: Error 500 java.lang.NullPointerException");
  EXPECT_EQ(admin.Command(endpoint, "text").status().message(),
            endpoint.ToString() + ": GET /commands/text: reply is not a JSON object: imok");
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace zkpilot
