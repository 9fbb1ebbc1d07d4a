#include "zk/ensemble_config.h"

#include <gtest/gtest.h>

namespace zkpilot {
namespace {

// /zookeeper/config of a 3-server 3.8.0 ensemble, as read by the C client.
constexpr char kThreeServers[] =
    "server.1=127.0.0.1:28801:38801:participant;127.0.0.1:21801\n"
    "server.2=127.0.0.1:28802:38802:participant;127.0.0.1:21802\n"
    "server.3=127.0.0.1:28803:38803:participant;127.0.0.1:21803\n"
    "version=100000000";

TEST(ParseEnsembleConfig, ServersAndHexVersion) {
  Result<EnsembleConfig> config = ParseEnsembleConfig(kThreeServers);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->version, 0x100000000);
  ASSERT_EQ(config->servers.size(), 3u);
  const ServerEntry& s3 = config->servers.at(3);
  EXPECT_EQ(s3.id, 3);
  EXPECT_EQ(s3.host, "127.0.0.1");
  EXPECT_EQ(s3.quorum_port, 28803);
  EXPECT_EQ(s3.election_port, 38803);
  EXPECT_EQ(s3.role, "participant");
  EXPECT_EQ(s3.client, (Endpoint{"127.0.0.1", 21803}));
  EXPECT_EQ(s3.ToConfigLine(), "server.3=127.0.0.1:28803:38803:participant;127.0.0.1:21803");
}

TEST(ParseServerLine, Variants) {
  struct Case {
    const char* line;
    const char* formatted;  // ToConfigLine() of the parsed entry
  };
  const Case cases[] = {
      {"server.1=zk-0.zk:2888:3888", "server.1=zk-0.zk:2888:3888:participant"},
      {"server.2=zk-1:2888:3888:observer;2181", "server.2=zk-1:2888:3888:observer;0.0.0.0:2181"},
      {"server.3=10.0.0.3:2888:3888;0.0.0.0:2181",
       "server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181"},
      {" server.4=[::1]:2888:3888:participant;[::1]:2181 ",
       "server.4=[::1]:2888:3888:participant;[::1]:2181"},
      // TLS-only servers: no client address at all.
      {"server.5=127.0.0.1:2888:3888:participant", "server.5=127.0.0.1:2888:3888:participant"},
      {"server.6=127.0.0.1:2888:3888;", "server.6=127.0.0.1:2888:3888:participant"},
  };
  for (const Case& c : cases) {
    Result<ServerEntry> entry = ParseServerLine(c.line);
    ASSERT_TRUE(entry.ok()) << c.line << ": " << entry.status().message();
    EXPECT_EQ(entry->ToConfigLine(), c.formatted);
  }
}

TEST(ParseServerLine, BadLinesNameTheProblem) {
  struct Case {
    const char* line;
    const char* why;
  };
  const Case cases[] = {
      {"srv.1=a:1:2", "expected server.<id>=..."},
      {"server.x=a:1:2", "bad server id"},
      {"server.1=a", "expected host:quorum_port:election_port"},
      {"server.1=a:1", "expected host:quorum_port:election_port[:role]"},
      {"server.1=a:1:99999", "expected host:quorum_port:election_port[:role]"},
      {"server.1=a:1:2:voter", "role must be participant or observer"},
      {"server.1=a:1:2;x", "bad client port"},
  };
  for (const Case& c : cases) {
    Result<ServerEntry> entry = ParseServerLine(c.line);
    ASSERT_FALSE(entry.ok()) << c.line;
    EXPECT_NE(entry.status().message().find(c.why), std::string::npos) << entry.status().message();
  }
}

TEST(ParseEnsembleConfig, DuplicateServerIsAnError) {
  Result<EnsembleConfig> config = ParseEnsembleConfig("server.1=a:1:2\nserver.1=b:1:2\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "line 2: server.1 appears twice");
}

}  // namespace
}  // namespace zkpilot
