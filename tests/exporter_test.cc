// The metrics exporter: the text format (pure), the HTTP server, and a real
// ZooKeeper ensemble scraped end to end and checked with promtool.
#include "observe/exporter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "observe/metrics.h"
#include "zk/four_letter.h"
#include "zk_fixture/zk_fixture.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::map<std::string, std::string> TestdataMntr(const std::string& file) {
  Result<std::map<std::string, std::string>> mntr =
      ParseMntr(ReadFile(fs::path(ZKPILOT_SOURCE_DIR) / "src/zk/testdata" / file));
  EXPECT_TRUE(mntr.ok()) << mntr.status().ToString();
  return mntr.ok() ? *mntr : std::map<std::string, std::string>{};
}

// The names in packages/zookeeper/addons/metrics.txt, without those
// Prometheus generates itself (documented there: "up").
std::vector<std::string> PackageMetricNames() {
  std::vector<std::string> names;
  std::istringstream in(
      ReadFile(fs::path(ZKPILOT_SOURCE_DIR) / "packages/zookeeper/addons/metrics.txt"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line == "up") continue;
    names.push_back(line);
  }
  return names;
}

// Sample lines of the exposition text: "name{labels} value".
std::vector<std::string> SampleLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

std::set<std::string> SampleNames(const std::string& text) {
  std::set<std::string> names;
  for (const std::string& line : SampleLines(text))
    names.insert(line.substr(0, line.find_first_of("{ ")));
  return names;
}

int CountSamples(const std::string& text, const std::string& name) {
  int n = 0;
  for (const std::string& line : SampleLines(text))
    n += line.substr(0, line.find_first_of("{ ")) == name;
  return n;
}

bool HasLine(const std::string& text, const std::string& line) {
  for (const std::string& l : SampleLines(text))
    if (l == line) return true;
  return false;
}

// Runs `promtool check metrics` on `text`; returns its exit code and output.
std::pair<int, std::string> Promtool(const std::string& text) {
  const fs::path file =
      fs::temp_directory_path() / ("zkpilot-exporter-" + std::to_string(::getpid()) + ".prom");
  { std::ofstream(file, std::ios::binary) << text; }
  const std::string cmd =
      std::string(ZKPILOT_PROMTOOL) + " check metrics < '" + file.string() + "' 2>&1";
  std::string output;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
  int status = ::pclose(pipe);
  fs::remove(file);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// promtool must parse the text (exit 1 is a parse error) and may only lint
// names that ZooKeeper chose: its gauges ending in "_count" and its "_ms"
// summaries. The exporter's own zkpilot_* names must be lint-clean.
void ExpectPromtoolClean(const std::string& text) {
  if (std::string(ZKPILOT_PROMTOOL).empty())
    GTEST_SKIP() << "promtool not found (Debian: prometheus)";
  auto [code, output] = Promtool(text);
  ASSERT_TRUE(code == 0 || code == 3) << "promtool exit " << code << ":\n" << output;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const std::string name = line.substr(0, line.find(' '));
    EXPECT_FALSE(name.starts_with("zkpilot_")) << line;
    const bool zookeeper_name =
        line.ends_with("non-histogram and non-summary metrics should not have \"_count\" suffix") ||
        line.ends_with("metric names should not contain abbreviated units");
    EXPECT_TRUE(zookeeper_name) << "unexpected promtool problem: " << line;
  }
  std::cout << "promtool check metrics: exit " << code << "\n" << output;
}

MetricsSnapshot DemoSnapshot() {
  MetricsSnapshot s;
  s.cluster = "demo";
  s.scrape_duration_seconds = 0.25;
  // Out of order on purpose: the output is sorted by node id.
  s.servers.push_back({2,
                       "follower",
                       true,
                       {{"zk_server_state", "follower"},
                        {"zk_version", "3.8.0-abc, built on 2024-12-29 17:54 UTC"},
                        {"zk_avg_latency", "1.5"},
                        {"zk_znode_count", "7"},
                        {"zk_quorum_size", "3"},
                        {"zk_synced_followers", "2"},  // leader-only: ignored on a follower
                        {"zk_looking_count", "1"},     // a counter: not exported
                        {"zk_avg_election_time", "261.0"},
                        {"zk_min_election_time", "261"},
                        {"zk_max_election_time", "261"},
                        {"zk_cnt_election_time", "1"},
                        {"zk_sum_election_time", "261"}},
                       1700000000123});
  s.servers.push_back({1,
                       "leader",
                       true,
                       {{"zk_server_state", "leader"},
                        {"zk_avg_latency", "0.0"},
                        {"zk_leader_uptime", "12045"},
                        {"zk_synced_followers", "1"},
                        {"zk_quorum_size", "3"},
                        {"zk_znode_count", "7"}},
                       1700000000000});
  s.servers.push_back({3, "down", false, {}, 0});
  s.self.operations[{"deploy", "succeeded"}] = 1;
  s.self.operations[{"restart", "failed"}] = 2;
  s.self.node_restarts[3] = 4;
  return s;
}

TEST(MetricsText, GoldenSmallEnsemble) {
  const std::string expected =
      R"(# HELP avg_latency Average request latency in ms since start or the last srst
# TYPE avg_latency gauge
avg_latency{cluster="demo",node="1",role="leader"} 0
avg_latency{cluster="demo",node="2",role="follower"} 1.5
# HELP election_time Leader election duration in ms, one observation per finished election
# TYPE election_time summary
election_time_count{cluster="demo",node="2",role="follower"} 1
election_time_sum{cluster="demo",node="2",role="follower"} 261
# HELP leader_uptime Milliseconds since this server became leader (leader only)
# TYPE leader_uptime gauge
leader_uptime{cluster="demo",node="1",role="leader"} 12045
# HELP quorum_size Voting members of the ensemble, leader included
# TYPE quorum_size gauge
quorum_size{cluster="demo",node="1",role="leader"} 3
quorum_size{cluster="demo",node="2",role="follower"} 3
# HELP synced_followers Voting followers in sync with the leader
# TYPE synced_followers gauge
synced_followers{cluster="demo",node="1",role="leader"} 1
# HELP zkpilot_last_scrape_success_timestamp_seconds Unix time of the last scrape the server answered (0: never)
# TYPE zkpilot_last_scrape_success_timestamp_seconds gauge
zkpilot_last_scrape_success_timestamp_seconds{cluster="demo",node="1"} 1700000000
zkpilot_last_scrape_success_timestamp_seconds{cluster="demo",node="2"} 1700000000.123
zkpilot_last_scrape_success_timestamp_seconds{cluster="demo",node="3"} 0
# HELP zkpilot_node_restarts_total Restarts of the server by zkpilot
# TYPE zkpilot_node_restarts_total counter
zkpilot_node_restarts_total{cluster="demo",node="1"} 0
zkpilot_node_restarts_total{cluster="demo",node="2"} 0
zkpilot_node_restarts_total{cluster="demo",node="3"} 4
# HELP zkpilot_node_role The server's role at the last scrape (always 1)
# TYPE zkpilot_node_role gauge
zkpilot_node_role{cluster="demo",node="1",role="leader"} 1
zkpilot_node_role{cluster="demo",node="2",role="follower"} 1
zkpilot_node_role{cluster="demo",node="3",role="down"} 1
# HELP zkpilot_node_up 1 if the ZooKeeper server answered the last scrape, else 0
# TYPE zkpilot_node_up gauge
zkpilot_node_up{cluster="demo",node="1"} 1
zkpilot_node_up{cluster="demo",node="2"} 1
zkpilot_node_up{cluster="demo",node="3"} 0
# HELP zkpilot_operations_total zkpilot operations on the cluster by type and outcome
# TYPE zkpilot_operations_total counter
zkpilot_operations_total{cluster="demo",type="deploy",outcome="succeeded"} 1
zkpilot_operations_total{cluster="demo",type="restart",outcome="failed"} 2
# HELP zkpilot_scrape_duration_seconds Seconds the exporter took to read all servers for this scrape
# TYPE zkpilot_scrape_duration_seconds gauge
zkpilot_scrape_duration_seconds{cluster="demo"} 0.25
# HELP znode_count Znodes in the data tree
# TYPE znode_count gauge
znode_count{cluster="demo",node="1",role="leader"} 7
znode_count{cluster="demo",node="2",role="follower"} 7
)";
  EXPECT_EQ(RenderPrometheusText(DemoSnapshot()), expected);
}

TEST(MetricsText, DeterministicWhateverTheInputOrder) {
  MetricsSnapshot a = DemoSnapshot();
  MetricsSnapshot b = DemoSnapshot();
  std::reverse(b.servers.begin(), b.servers.end());
  EXPECT_EQ(RenderPrometheusText(a), RenderPrometheusText(b));
}

TEST(MetricsText, DownServerIsReportedAsZeroNotDropped) {
  MetricsSnapshot s;
  s.cluster = "c";
  s.servers.push_back({1, "down", false, {}, 1700000000500});
  s.servers.push_back({2, "stopped", false, {}, 0});
  const std::string text = RenderPrometheusText(s);
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_up{cluster="c",node="1"} 0)")) << text;
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_up{cluster="c",node="2"} 0)")) << text;
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_role{cluster="c",node="1",role="down"} 1)")) << text;
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_role{cluster="c",node="2",role="stopped"} 1)")) << text;
  EXPECT_TRUE(HasLine(
      text, R"(zkpilot_last_scrape_success_timestamp_seconds{cluster="c",node="1"} 1700000000.5)"))
      << text;
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_restarts_total{cluster="c",node="2"} 0)")) << text;
  // No ZooKeeper series for servers that did not answer.
  EXPECT_EQ(SampleNames(text),
            (std::set<std::string>{"zkpilot_last_scrape_success_timestamp_seconds",
                                   "zkpilot_node_restarts_total", "zkpilot_node_role",
                                   "zkpilot_node_up"}));
}

TEST(MetricsText, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  MetricsSnapshot s;
  s.cluster = "we\"ird\\na\nme";
  s.servers.push_back({1, "down", false, {}, 0});
  s.self.operations[{"de\"ploy", "fail\ned"}] = 1;
  const std::string text = RenderPrometheusText(s);
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_up{cluster="we\"ird\\na\nme",node="1"} 0)")) << text;
  EXPECT_TRUE(HasLine(
      text,
      R"(zkpilot_operations_total{cluster="we\"ird\\na\nme",type="de\"ploy",outcome="fail\ned"} 1)"))
      << text;
  ExpectPromtoolClean(text);
}

TEST(MetricsText, ValuesAreNumbersOrLeftOut) {
  MetricsSnapshot s;
  s.cluster = "c";
  s.servers.push_back({1,
                       "follower",
                       true,
                       {{"zk_avg_latency", "504.0"},
                        {"zk_min_latency", "-1"},
                        {"zk_max_latency", "not a number"},
                        {"zk_approximate_data_size", "9007199254740993"},  // > 2^53: exact
                        {"zk_connection_drop_probability", "0.125"}},
                       0});
  const std::string text = RenderPrometheusText(s);
  EXPECT_TRUE(HasLine(text, R"(avg_latency{cluster="c",node="1",role="follower"} 504)")) << text;
  EXPECT_TRUE(HasLine(text, R"(min_latency{cluster="c",node="1",role="follower"} -1)")) << text;
  EXPECT_EQ(CountSamples(text, "max_latency"), 0) << text;
  EXPECT_TRUE(HasLine(
      text, R"(approximate_data_size{cluster="c",node="1",role="follower"} 9007199254740993)"))
      << text;
  EXPECT_TRUE(
      HasLine(text, R"(connection_drop_probability{cluster="c",node="1",role="follower"} 0.125)"))
      << text;
}

TEST(MetricsText, LeaderOnlyGaugesOnlyFromTheLeader) {
  // A server that just stepped down may still be read with leader gauges;
  // only role "leader" exports them, so one leader exports leader_uptime.
  MetricsSnapshot s;
  s.cluster = "c";
  for (int id = 1; id <= 3; ++id) {
    s.servers.push_back({id,
                         id == 2 ? "leader" : "follower",
                         true,
                         {{"zk_leader_uptime", "10"},
                          {"zk_synced_followers", "2"},
                          {"zk_pending_syncs", "0"},
                          {"zk_learners", "2"}},
                         0});
  }
  const std::string text = RenderPrometheusText(s);
  for (const char* name : {"leader_uptime", "synced_followers", "pending_syncs", "learners"}) {
    EXPECT_EQ(CountSamples(text, name), 1) << name;
    EXPECT_TRUE(HasLine(text, std::string(name) + R"({cluster="c",node="2",role="leader"} )" +
                                  (std::string(name) == "leader_uptime"   ? "10"
                                   : std::string(name) == "pending_syncs" ? "0"
                                                                          : "2")))
        << text;
  }
}

TEST(MetricsText, QuorumSizeFallsBackToVoters) {
  MetricsSnapshot s;
  s.cluster = "c";
  s.voters = 5;
  s.servers.push_back({1, "follower", true, {{"zk_znode_count", "1"}}, 0});
  s.servers.push_back({2, "not-serving", true, {}, 0});
  s.servers.push_back({3, "leader", true, {{"zk_quorum_size", "3"}}, 0});
  const std::string text = RenderPrometheusText(s);
  EXPECT_TRUE(HasLine(text, R"(quorum_size{cluster="c",node="1",role="follower"} 5)")) << text;
  EXPECT_TRUE(HasLine(text, R"(quorum_size{cluster="c",node="3",role="leader"} 3)")) << text;
  EXPECT_EQ(CountSamples(text, "quorum_size"), 2) << text;
}

// Real 3.8.0 mntr replies (src/zk/testdata, captured from a running
// ensemble): every name the package relies on comes out, summaries keep
// their provider names, and nothing invalid does.
TEST(MetricsText, RealMntrCoversThePackageMetrics) {
  MetricsSnapshot s;
  s.cluster = "zk";
  s.servers.push_back({1, "follower", true, TestdataMntr("mntr_follower.txt"), 1});
  s.servers.push_back({2, "leader", true, TestdataMntr("mntr_leader.txt"), 1});
  const std::string text = RenderPrometheusText(s);
  const std::set<std::string> names = SampleNames(text);
  for (const std::string& name : PackageMetricNames())
    EXPECT_TRUE(names.count(name)) << "metrics.txt name missing: " << name;
  EXPECT_EQ(CountSamples(text, "leader_uptime"), 1);
  EXPECT_TRUE(HasLine(text, R"(leader_uptime{cluster="zk",node="2",role="leader"} 12045)"));
  EXPECT_TRUE(HasLine(text, R"(election_time_count{cluster="zk",node="2",role="leader"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(election_time_sum{cluster="zk",node="2",role="leader"} 265)"));
  EXPECT_TRUE(HasLine(text, R"(fsynctime_count{cluster="zk",node="1",role="follower"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(quorum_size{cluster="zk",node="1",role="follower"} 3)"));
  // Summary sets: zk_cnt_<key>_<name> -> <name>_count{key="<key>"}.
  EXPECT_TRUE(HasLine(
      text, R"(learner_handler_qp_size_count{cluster="zk",node="2",role="leader",key="1"} 15)"));
  EXPECT_TRUE(HasLine(
      text, R"(write_per_namespace_sum{cluster="zk",node="2",role="leader",key="zookeeper"} 414)"));
  // Detailed summaries carry mntr's p50/p99 as quantiles.
  EXPECT_TRUE(HasLine(
      text,
      R"(learner_handler_qp_time_ms{cluster="zk",node="2",role="leader",key="1",quantile="0.5"} 2)"));
  EXPECT_EQ(CountSamples(text, "readlatency"), 4);  // 2 servers x 2 quantiles
  // Counters, strings and ZooKeeper's min/max/avg summary stats stay out.
  for (const char* absent : {"looking_count", "version", "server_state", "avg_fsynctime",
                             "1_learner_handler_qp_size_count", "cnt_fsynctime"})
    EXPECT_EQ(names.count(absent), 0u) << absent;
  ExpectPromtoolClean(text);
}

TEST(MetricsText, ServerReadingFromReplies) {
  const Result<SrvrInfo> refused = Status::IOError("127.0.0.1:1: srvr: connection refused");
  const Result<std::map<std::string, std::string>> unread = Status::NotFound("mntr: not read");

  ServerReading down = MakeServerReading(3, refused, unread, 42, "stopped");
  EXPECT_FALSE(down.up);
  EXPECT_EQ(down.role, "stopped");
  EXPECT_EQ(down.last_success_ms, 42);

  SrvrInfo not_serving;
  not_serving.mode = std::string(kModeNotServing);
  ServerReading looking = MakeServerReading(1, not_serving, unread, 7, "down");
  EXPECT_TRUE(looking.up);
  EXPECT_EQ(looking.role, "not-serving");
  EXPECT_TRUE(looking.mntr.empty());

  // mntr's own state wins: the role and the leader-only gauges then come
  // from one reply.
  SrvrInfo follower;
  follower.mode = "follower";
  ServerReading leader = MakeServerReading(
      2, follower, std::map<std::string, std::string>{{"zk_server_state", "leader"}}, 7, "down");
  EXPECT_TRUE(leader.up);
  EXPECT_EQ(leader.role, "leader");
}

// ---------------------------------------------------------------- HTTP only

// A port on 127.0.0.1 that nothing listens on (bound, then released).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(ExporterHttp, ServesDownServersAndSelfMetrics) {
  ExporterOptions options;
  options.cluster = "offline";
  options.servers = {{1, Endpoint{"127.0.0.1", ClosedPort()}},
                     {2, Endpoint{"127.0.0.1", ClosedPort()}}};
  options.timeout = std::chrono::milliseconds(300);
  options.self_metrics = [] {
    ExporterSelf self;
    self.operations[{"deploy", "succeeded"}] = 3;
    self.node_restarts[2] = 1;
    return self;
  };
  options.node_states = [] { return std::map<int, std::string>{{2, "stopped"}}; };
  Exporter exporter(options);
  ASSERT_TRUE(exporter.Start().ok());
  ASSERT_GT(exporter.port(), 0);
  EXPECT_FALSE(exporter.Start().ok()) << "second Start must fail";

  httplib::Client client("127.0.0.1", exporter.port());
  auto index = client.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("/metrics?node=2"), std::string::npos) << index->body;

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = metrics->body;
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_up{cluster="offline",node="1"} 0)")) << text;
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_role{cluster="offline",node="1",role="down"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_role{cluster="offline",node="2",role="stopped"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_restarts_total{cluster="offline",node="2"} 1)"));
  EXPECT_TRUE(HasLine(
      text, R"(zkpilot_operations_total{cluster="offline",type="deploy",outcome="succeeded"} 3)"));
  EXPECT_EQ(CountSamples(text, "zkpilot_scrape_duration_seconds"), 1);
  ExpectPromtoolClean(text);

  auto node = client.Get("/metrics?node=1");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->status, 503);
  EXPECT_NE(node->body.find("server 1"), std::string::npos) << node->body;
  auto unknown = client.Get("/metrics?node=9");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto bad = client.Get("/metrics?node=x");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  exporter.Stop();
  exporter.Stop();  // idempotent
  EXPECT_EQ(exporter.port(), 0);
  EXPECT_FALSE(client.Get("/metrics"));
}

ExporterOptions NamedOnly(const std::string& cluster) {
  ExporterOptions options;
  options.cluster = cluster;
  return options;
}

TEST(ExporterHttp, PortInUseIsAnError) {
  Exporter first(NamedOnly("a"));
  ASSERT_TRUE(first.Start().ok());
  ExporterOptions options;
  options.cluster = "b";
  options.port = first.port();
  Exporter second(options);
  Status status = second.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(std::to_string(first.port())), std::string::npos)
      << status.message();
}

// Scrapers that keep connections open, or connect and never send, do not
// keep the next scrape out: 64 idle connections (half after a request on a
// keep-alive connection, half that never sent a byte), then a scrape with a
// 3 s read timeout, far below the 5 s after which idle connections close.
TEST(ExporterHttp, SixtyFourIdleConnectionsStillLeaveRoomForAScrape) {
  Exporter exporter(NamedOnly("idle"));
  ASSERT_TRUE(exporter.Start().ok());
  std::vector<int> idle;
  auto connect_one = [&]() -> int {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(exporter.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  };
  for (int i = 0; i < 64; ++i) {
    int fd = connect_one();
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
    if (i % 2 == 1) continue;  // never sends anything
    const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
    ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    // Read the whole answer (its Content-Length), then leave the connection open.
    std::string got;
    char buf[4096];
    size_t want = std::string::npos;
    while (want == std::string::npos || got.size() < want) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      ASSERT_GT(n, 0) << "connection " << i << " closed before its answer: " << got;
      got.append(buf, static_cast<size_t>(n));
      const auto head_end = got.find("\r\n\r\n");
      const auto length = got.find("Content-Length: ");
      if (head_end != std::string::npos && length != std::string::npos)
        want = head_end + 4 + std::stoul(got.substr(length + 16));
    }
  }
  httplib::Client client("127.0.0.1", exporter.port());
  client.set_connection_timeout(std::chrono::seconds(3));
  client.set_read_timeout(std::chrono::seconds(3));
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("zkpilot_scrape_duration_seconds"), std::string::npos);
  for (int fd : idle) ::close(fd);
  exporter.Stop();
}

TEST(ExporterHttp, StopRightAfterStartAndRestart) {
  Exporter exporter(NamedOnly("a"));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(exporter.Start().ok());
    exporter.Stop();
  }
}

// ------------------------------------------------------- real ZooKeeper

class ExporterZkIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ensemble = ZkTestEnsemble::Start(3);
    ASSERT_TRUE(ensemble.ok()) << ensemble.status().ToString();
    ensemble_ = std::move(*ensemble);
  }

  ExporterOptions Options() const {
    ExporterOptions options;
    options.cluster = "it";
    for (int id = 1; id <= ensemble_->size(); ++id)
      options.servers.emplace_back(id, ensemble_->Client(id));
    options.timeout = std::chrono::milliseconds(1000);
    return options;
  }

  std::unique_ptr<ZkTestEnsemble> ensemble_;
};

std::string Fetch(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(10));
  auto res = client.Get(path);
  EXPECT_TRUE(res) << "GET " << path << ": " << httplib::to_string(res.error());
  if (!res) return "";
  if (status)
    *status = res->status;
  else
    EXPECT_EQ(res->status, 200) << res->body;
  return res->body;
}

TEST_F(ExporterZkIntegration, ExportsEveryPackageMetricAndPassesPromtool) {
  Exporter exporter(Options());
  ASSERT_TRUE(exporter.Start().ok());
  const std::string text = Fetch(exporter.port(), "/metrics");

  const std::set<std::string> names = SampleNames(text);
  for (const std::string& name : PackageMetricNames())
    EXPECT_TRUE(names.count(name)) << "metrics.txt name missing from /metrics: " << name;
  EXPECT_EQ(CountSamples(text, "leader_uptime"), 1) << text;
  EXPECT_EQ(CountSamples(text, "synced_followers"), 1) << text;
  for (int id = 1; id <= 3; ++id) {
    EXPECT_TRUE(
        HasLine(text, "zkpilot_node_up{cluster=\"it\",node=\"" + std::to_string(id) + "\"} 1"))
        << text;
    EXPECT_TRUE(
        HasLine(text, "quorum_size{cluster=\"it\",node=\"" + std::to_string(id) + "\",role=\"" +
                          (text.find("leader_uptime{cluster=\"it\",node=\"" + std::to_string(id)) !=
                                   std::string::npos
                               ? "leader"
                               : "follower") +
                          "\"} 3"))
        << text;
  }
  EXPECT_EQ(CountSamples(text, "election_time_count"), 3) << text;
  ExpectPromtoolClean(text);

  // One server's view.
  const std::string one = Fetch(exporter.port(), "/metrics?node=2");
  EXPECT_TRUE(HasLine(one, R"(zkpilot_node_up{cluster="it",node="2"} 1)")) << one;
  EXPECT_EQ(one.find("node=\"1\""), std::string::npos) << one;
  EXPECT_EQ(one.find("node=\"3\""), std::string::npos) << one;
  EXPECT_EQ(CountSamples(one, "zkpilot_scrape_duration_seconds"), 0) << one;
  EXPECT_EQ(CountSamples(one, "znode_count"), 1) << one;
}

// A server whose port another program holds (the local platform vouches
// for its own processes only) is down, however well that program answers.
TEST_F(ExporterZkIntegration, AnAnswerNotVouchedForIsReadAsDown) {
  ExporterOptions options = Options();
  options.vouch = [](int id, const Endpoint&) {
    return id == 2 ? Status::Unavailable("port held by another process") : Status::Ok();
  };
  Exporter exporter(options);
  ASSERT_TRUE(exporter.Start().ok());
  const std::string text = Fetch(exporter.port(), "/metrics");
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_up{cluster="it",node="2"} 0)")) << text;
  EXPECT_TRUE(HasLine(text, R"(zkpilot_node_up{cluster="it",node="1"} 1)")) << text;
  EXPECT_EQ(text.find("znode_count{cluster=\"it\",node=\"2\""), std::string::npos) << text;
  EXPECT_EQ(CountSamples(text, "znode_count"), 2) << text;
}

TEST_F(ExporterZkIntegration, KilledServerIsStillListedAsDown) {
  Exporter exporter(Options());
  ASSERT_TRUE(exporter.Start().ok());
  const std::string before = Fetch(exporter.port(), "/metrics");
  // Kill a follower, so that the other two keep quorum and keep serving.
  int victim = 0;
  for (int id = 1; id <= 3 && !victim; ++id)
    if (!HasLine(before, "zkpilot_node_role{cluster=\"it\",node=\"" + std::to_string(id) +
                             "\",role=\"leader\"} 1"))
      victim = id;
  ASSERT_NE(victim, 0) << before;
  ASSERT_TRUE(ensemble_->Kill(victim).ok());
  const std::string node = std::to_string(victim);

  const std::string after = Fetch(exporter.port(), "/metrics");
  EXPECT_TRUE(HasLine(after, "zkpilot_node_up{cluster=\"it\",node=\"" + node + "\"} 0")) << after;
  EXPECT_TRUE(
      HasLine(after, "zkpilot_node_role{cluster=\"it\",node=\"" + node + "\",role=\"down\"} 1"))
      << after;
  EXPECT_EQ(CountSamples(after, "zkpilot_node_up"), 3) << after;
  EXPECT_EQ(CountSamples(after, "zkpilot_last_scrape_success_timestamp_seconds"), 3) << after;
  // It answered the first scrape, so its last success is a real time.
  for (const std::string& line : SampleLines(after)) {
    if (line.starts_with("zkpilot_last_scrape_success_timestamp_seconds{cluster=\"it\",node=\"" +
                         node + "\"}")) {
      EXPECT_GT(std::stod(line.substr(line.rfind(' ') + 1)), 1e9) << line;
    }
  }
  // No ZooKeeper series for it, and the survivors keep theirs.
  EXPECT_EQ(after.find("znode_count{cluster=\"it\",node=\"" + node + "\""), std::string::npos);
  EXPECT_EQ(CountSamples(after, "znode_count"), 2) << after;
  EXPECT_EQ(CountSamples(after, "leader_uptime"), 1) << after;
  ExpectPromtoolClean(after);

  int status = 0;
  Fetch(exporter.port(), "/metrics?node=" + node, &status);
  EXPECT_EQ(status, 503);
}

}  // namespace
}  // namespace zkpilot
