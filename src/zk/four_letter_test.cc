// Parsers against replies captured from a real ZooKeeper 3.8.0 ensemble
// (src/zk/testdata/). No network.
#include "zk/four_letter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace zkpilot {
namespace {

std::string Testdata(const std::string& name) {
  std::ifstream in(std::string(ZKPILOT_ZK_TESTDATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing testdata " << name;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(ParseSrvr, LeaderReply) {
  Result<SrvrInfo> info = ParseSrvr(Testdata("srvr_leader.txt"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->version, "3.8.0");
  EXPECT_EQ(info->build, "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC");
  EXPECT_EQ(info->mode, "leader");
  EXPECT_TRUE(info->IsServing());
  EXPECT_EQ(info->zxid, 0x100000000);
  EXPECT_EQ(info->latency_min, 0);
  EXPECT_DOUBLE_EQ(info->latency_avg, 0.0);
  EXPECT_EQ(info->latency_max, 0);
  EXPECT_EQ(info->received, 2);
  EXPECT_EQ(info->sent, 1);
  EXPECT_EQ(info->connections, 1);
  EXPECT_EQ(info->outstanding, 0);
  EXPECT_EQ(info->node_count, 5);
}

TEST(ParseSrvr, FollowerReply) {
  Result<SrvrInfo> info = ParseSrvr(Testdata("srvr_follower.txt"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->mode, "follower");
  EXPECT_EQ(info->zxid, 0);
  EXPECT_TRUE(info->IsServing());
}

TEST(ParseSrvr, LatencyAndLargeCounters) {
  Result<SrvrInfo> info = ParseSrvr(
      "Zookeeper version: 3.9.3-c26634f34490bb0ea7a09cc51e05ede3b4e320ee, built on 2024-10-17 "
      "23:21 UTC\n"
      "Latency min/avg/max: 1/2.5617/397\n"
      "Received: 9876543210\nSent: 9876543209\nConnections: 42\nOutstanding: 3\n"
      "Zxid: 0x3000001f4\nMode: observer\nNode count: 123456\n");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->version, "3.9.3");
  EXPECT_EQ(info->latency_min, 1);
  EXPECT_DOUBLE_EQ(info->latency_avg, 2.5617);
  EXPECT_EQ(info->latency_max, 397);
  EXPECT_EQ(info->received, 9876543210);
  EXPECT_EQ(info->zxid, 0x3000001f4);
  EXPECT_EQ(info->mode, "observer");
  EXPECT_EQ(info->node_count, 123456);
}

TEST(ParseSrvr, NotServingIsAStateNotAnError) {
  Result<SrvrInfo> info = ParseSrvr(Testdata("not_serving_srvr.txt"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->mode, kModeNotServing);
  EXPECT_FALSE(info->IsServing());
}

TEST(ParseSrvr, NotWhitelistedNamesTheCommand) {
  Result<SrvrInfo> info = ParseSrvr("srvr is not executed because it is not in the whitelist.\n");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().message(),
            "srvr: refused: the command is not in the server's 4lw.commands.whitelist");
}

TEST(ParseSrvr, MalformedRepliesAreErrors) {
  struct Case {
    const char* reply;
    const char* message;
  };
  const Case cases[] = {
      {"", "srvr: empty reply"},
      {"Zookeeper version: 3.8.0\nZxid: 0x0\n", "srvr: reply has no 'Mode' line"},
      {"Mode: leader\nZxid: 0x0\n", "srvr: reply has no 'Zookeeper version' line"},
      {"Zookeeper version: 3.8.0\nMode: leader\n", "srvr: reply has no 'Zxid' line"},
      {"Zookeeper version: 3.8.0\nZxid: 0xZZ\nMode: leader\n",
       "srvr: line 2: bad value for Zxid: '0xZZ'"},
      {"Zookeeper version: 3.8.0\nReceived: many\n",
       "srvr: line 2: bad value for Received: 'many'"},
      {"Zookeeper version: 3.8.0\nLatency min/avg/max: 1/2\n",
       "srvr: line 2: bad value for Latency min/avg/max: '1/2'"},
      {"Zookeeper version: 3.8.0\ngarbage\n", "srvr: line 2: expected 'Key: value', got 'garbage'"},
  };
  for (const Case& c : cases) {
    Result<SrvrInfo> info = ParseSrvr(c.reply);
    ASSERT_FALSE(info.ok()) << c.reply;
    EXPECT_EQ(info.status().message(), c.message) << c.reply;
  }
}

TEST(ParseMntr, LeaderReply) {
  Result<std::map<std::string, std::string>> metrics = ParseMntr(Testdata("mntr_leader.txt"));
  ASSERT_TRUE(metrics.ok()) << metrics.status().message();
  EXPECT_EQ(metrics->at("zk_version"), "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC");
  EXPECT_EQ(metrics->at("zk_server_state"), "leader");
  EXPECT_EQ(metrics->at("zk_peer_state"), "leading - broadcast");
  EXPECT_EQ(metrics->at("zk_synced_followers"), "2");
  EXPECT_EQ(metrics->at("zk_quorum_size"), "3");
  EXPECT_EQ(metrics->at("zk_avg_latency"), "0.0");
  EXPECT_GT(metrics->size(), 100u);
}

TEST(ParseMntr, FollowerHasNoLeaderMetrics) {
  Result<std::map<std::string, std::string>> metrics = ParseMntr(Testdata("mntr_follower.txt"));
  ASSERT_TRUE(metrics.ok()) << metrics.status().message();
  EXPECT_EQ(metrics->at("zk_server_state"), "follower");
  EXPECT_EQ(metrics->count("zk_synced_followers"), 0u);
}

TEST(ParseMntr, NotServingIsAnError) {
  Result<std::map<std::string, std::string>> metrics = ParseMntr(Testdata("not_serving_mntr.txt"));
  ASSERT_FALSE(metrics.ok());
  EXPECT_EQ(metrics.status().message(),
            "mntr: the server is not currently serving requests (no quorum, or still starting)");
}

TEST(ParseMntr, LineWithoutTabIsAnError) {
  Result<std::map<std::string, std::string>> metrics =
      ParseMntr("zk_version\t3.8.0\nzk_broken 1\n");
  ASSERT_FALSE(metrics.ok());
  EXPECT_EQ(metrics.status().message(),
            "mntr: line 2: expected 'key<TAB>value', got 'zk_broken 1'");
}

TEST(ParseConf, DynamicMembersAndVersion) {
  Result<std::map<std::string, std::string>> conf = ParseConf(Testdata("conf.txt"));
  ASSERT_TRUE(conf.ok()) << conf.status().message();
  EXPECT_EQ(conf->at("clientPort"), "21801");
  EXPECT_EQ(conf->at("serverId"), "1");
  EXPECT_EQ(conf->at("tickTime"), "2000");
  EXPECT_EQ(conf->at("server.1"), "127.0.0.1:28801:38801:participant;127.0.0.1:21801");
  EXPECT_EQ(conf->at("server.3"), "127.0.0.1:28803:38803:participant;127.0.0.1:21803");
  EXPECT_EQ(conf->at("version"), "100000000");
  EXPECT_EQ(conf->count("membership:"), 0u);
  EXPECT_EQ(conf->count("membership"), 0u);
}

TEST(ParseConf, NotWhitelistedIsAnError) {
  Result<std::map<std::string, std::string>> conf =
      ParseConf("conf is not executed because it is not in the whitelist.");
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.status().message().find("4lw.commands.whitelist"), std::string::npos);
}

TEST(CheckFourLetterReply, NamesTheRefusedCommand) {
  Status s = CheckFourLetterReply("dump", Testdata("not_whitelisted_dump.txt"));
  EXPECT_EQ(s.message(),
            "dump: refused: the command is not in the server's 4lw.commands.whitelist");
  EXPECT_TRUE(CheckFourLetterReply("ruok", Testdata("ruok.txt")).ok());
}

}  // namespace
}  // namespace zkpilot
