#include "platform/local/distribution.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh directory under the system's temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-dist-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DescriptorJson(const std::string& id, const std::string& version,
                           const std::vector<std::string>& jars) {
  std::string cp;
  for (const auto& j : jars) cp += (cp.empty() ? "\"" : ", \"") + j + "\"";
  return "{\"id\": \"" + id + "\", \"version\": \"" + version +
         "\", \"mainClass\": \"org.apache.zookeeper.server.quorum.QuorumPeerMain\", \"classpath\": "
         "[" +
         cp + "], \"source\": \"test\"}";
}

TEST(Distribution, ClasspathStringPutsConfDirFirst) {
  Distribution d;
  d.classpath = {"/a/zookeeper-jute.jar", "/a/zookeeper.jar"};
  EXPECT_EQ(d.ClasspathString("/conf"), "/conf:/a/zookeeper-jute.jar:/a/zookeeper.jar");
  EXPECT_EQ(d.ClasspathString(""), "/a/zookeeper-jute.jar:/a/zookeeper.jar");
}

TEST(ParseDistributionJson, ReadsEveryField) {
  Result<Distribution> d = ParseDistributionJson(
      DescriptorJson("debian-3.9.3", "3.9.3", {"/j/a.jar", "/j/b.jar"}), "distribution.json");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->id, "debian-3.9.3");
  EXPECT_EQ(d->version, "3.9.3");
  EXPECT_EQ(d->main_class, "org.apache.zookeeper.server.quorum.QuorumPeerMain");
  EXPECT_EQ(d->classpath, (std::vector<std::string>{"/j/a.jar", "/j/b.jar"}));
  EXPECT_EQ(d->source, "test");
}

TEST(ParseDistributionJson, RejectsMalformedDescriptorsNamingTheFault) {
  struct Case {
    std::string json;
    std::string fault;
  };
  const std::vector<Case> cases = {
      {"{", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"version":"1","mainClass":"M","classpath":["/a.jar"]})", "missing field \"id\""},
      {R"({"id":"x","mainClass":"M","classpath":["/a.jar"]})", "missing field \"version\""},
      {R"({"id":"x","version":"1","classpath":["/a.jar"]})", "missing field \"mainClass\""},
      {R"({"id":"x","version":"1","mainClass":"M"})", "missing field \"classpath\""},
      {R"({"id":"x","version":"1","mainClass":"M","classpath":[]})", "non-empty array"},
      {R"({"id":"x","version":1,"mainClass":"M","classpath":["/a.jar"]})", "\"version\" must be"},
      {R"({"id":"x","version":"1","mainClass":"M","classpath":["a.jar"]})",
       "classpath[0]: \"a.jar\" is not an absolute"},
      {R"({"id":"x","version":"1","mainClass":"M","classpath":["/a.jar","/b:c.jar"]})",
       "classpath[1]"},
      {R"({"id":"x","version":"1","mainClass":"M","classpath":[3]})",
       "classpath[0]: must be a string"},
  };
  for (const auto& c : cases) {
    Result<Distribution> d = ParseDistributionJson(c.json, "store/x/distribution.json");
    ASSERT_FALSE(d.ok()) << c.json;
    EXPECT_EQ(d.status().code(), ErrorCode::kInvalidInput) << c.json;
    EXPECT_THAT(d.status().message(), HasSubstr("store/x/distribution.json: ")) << c.json;
    EXPECT_THAT(d.status().message(), HasSubstr(c.fault)) << c.json;
  }
}

// A store in a temp dir, and an empty directory standing in for
// /usr/share/java so that this machine's Debian package does not interfere.
class DistributionStoreTest : public ::testing::Test {
 protected:
  std::string StoreDir() const { return dir_.path() + "/store"; }
  std::string SystemDir() const { return dir_.path() + "/java"; }
  DistributionStore Store() const { return DistributionStore(StoreDir(), SystemDir()); }

  // Writes <store>/<id>/distribution.json and creates the jars in `present`.
  void AddStored(const std::string& id, const std::string& version,
                 const std::vector<std::string>& jars, const std::vector<std::string>& present) {
    WriteFile(StoreDir() + "/" + id + "/distribution.json", DescriptorJson(id, version, jars));
    for (const auto& j : present) WriteFile(j, "jar");
  }

  // A fake Debian install: zookeeper.jar, versioned symlink, jute and extras.
  void AddSystemPackage(const std::string& version) {
    fs::create_directories(SystemDir());
    for (const char* jar :
         {"zookeeper.jar", "zookeeper-jute.jar", "servlet-api.jar", "netty-codec.jar",
          "netty-resolver.jar", "netty-transport-native-unix-common.jar", "slf4j-log4j12.jar",
          "log4j-1.2.jar"}) {
      WriteFile(SystemDir() + "/" + jar, "jar");
    }
    fs::create_symlink("zookeeper.jar", SystemDir() + "/zookeeper-" + version + ".jar");
  }

  TempDir dir_;
};

TEST_F(DistributionStoreTest, FindsStoredDistributionKeepingClasspathOrder) {
  const std::string java = StoreDir() + "/debian-3.9.3/root/usr/share/java";
  const std::vector<std::string> jars = {java + "/zookeeper-jute-3.9.3.jar",
                                         java + "/zookeeper-3.9.3.jar",
                                         dir_.path() + "/other/a.jar"};
  AddStored("debian-3.9.3", "3.9.3", jars, jars);
  Result<Distribution> d = Store().Find("debian-3.9.3");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->version, "3.9.3");
  EXPECT_EQ(d->classpath, jars);
  EXPECT_EQ(d->ClasspathString("/conf"), "/conf:" + jars[0] + ":" + jars[1] + ":" + jars[2]);
}

TEST_F(DistributionStoreTest, MissingJarIsNamedWithTheCommandThatFetchesIt) {
  const std::string java = StoreDir() + "/debian-3.9.3/root/usr/share/java";
  AddStored("debian-3.9.3", "3.9.3",
            {java + "/zookeeper-jute-3.9.3.jar", java + "/zookeeper-3.9.3.jar"},
            {java + "/zookeeper-jute-3.9.3.jar"});
  Result<Distribution> d = Store().Find("debian-3.9.3");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(d.status().message(), HasSubstr("missing jar " + java + "/zookeeper-3.9.3.jar"));
  EXPECT_THAT(d.status().message(), HasSubstr("scripts/fetch-zookeeper.sh 3.9.3"));
}

TEST_F(DistributionStoreTest, MissingSystemJarAsksForDebiansPackage) {
  const std::string jute =
      StoreDir() + "/debian-3.9.3/root/usr/share/java/zookeeper-jute-3.9.3.jar";
  AddStored("debian-3.9.3", "3.9.3", {jute, SystemDir() + "/servlet-api.jar"}, {jute});
  Result<Distribution> d = Store().Find("debian-3.9.3");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("missing jar " + SystemDir() + "/servlet-api.jar"));
  EXPECT_THAT(d.status().message(), HasSubstr("apt-get install zookeeper"));
}

TEST_F(DistributionStoreTest, MissingApacheJarAsksToRegisterTheTarballAgain) {
  const std::string lib = StoreDir() + "/apache-3.8.4/zookeeper/lib";
  AddStored("apache-3.8.4", "3.8.4", {lib + "/zookeeper-jute-3.8.4.jar"}, {});
  Result<Distribution> d = Store().Find("apache-3.8.4");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("missing jar " + lib + "/zookeeper-jute-3.8.4.jar"));
  EXPECT_THAT(d.status().message(),
              HasSubstr("scripts/fetch-zookeeper.sh --tarball apache-zookeeper-3.8.4-bin.tar.gz"));
}

TEST_F(DistributionStoreTest, UnknownIdListsTheAvailableOnesAndHowToFetch) {
  AddSystemPackage("3.8.0");
  const std::string jar = dir_.path() + "/lib/zookeeper-3.8.4.jar";
  AddStored("apache-3.8.4", "3.8.4", {jar}, {jar});
  Result<Distribution> d = Store().Find("debian-3.9.3");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(d.status().message(), HasSubstr("unknown ZooKeeper distribution \"debian-3.9.3\""));
  EXPECT_THAT(d.status().message(), HasSubstr("available: apache-3.8.4, debian-3.8.0"));
  EXPECT_THAT(d.status().message(), HasSubstr("scripts/fetch-zookeeper.sh 3.9.3"));

  Result<Distribution> other = Store().Find("mine");
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.status().message(), HasSubstr("scripts/fetch-zookeeper.sh --tarball PATH"));
}

TEST_F(DistributionStoreTest, RejectsIdsThatAreNotNames) {
  for (const std::string id : {"", "../etc", "a/b", ".hidden"}) {
    Result<Distribution> d = Store().Find(id);
    ASSERT_FALSE(d.ok()) << id;
    EXPECT_EQ(d.status().code(), ErrorCode::kInvalidInput) << id;
  }
}

TEST_F(DistributionStoreTest, RejectsDescriptorWhoseIdIsNotItsDirectory) {
  const std::string jar = dir_.path() + "/lib/z.jar";
  WriteFile(StoreDir() + "/apache-3.8.4/distribution.json",
            DescriptorJson("apache-3.8.3", "3.8.3", {jar}));
  WriteFile(jar, "jar");
  Result<Distribution> d = Store().Find("apache-3.8.4");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(d.status().message(), HasSubstr("does not match its directory"));
}

TEST_F(DistributionStoreTest, BuiltInDebianPackageTakesItsVersionFromTheVersionedJar) {
  AddSystemPackage("3.8.0");
  Result<Distribution> d = Store().Find("debian-3.8.0");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->version, "3.8.0");
  EXPECT_EQ(d->main_class, "org.apache.zookeeper.server.quorum.QuorumPeerMain");
  ASSERT_GE(d->classpath.size(), 2u);
  EXPECT_EQ(d->classpath[0], SystemDir() + "/zookeeper-jute.jar");  // jute before the server jar
  EXPECT_EQ(d->classpath[1], SystemDir() + "/zookeeper.jar");
}

TEST_F(DistributionStoreTest, NoBuiltInWithoutDebiansPackage) {
  fs::create_directories(SystemDir());
  WriteFile(SystemDir() + "/zookeeper.jar", "jar");  // but no zookeeper-X.Y.Z.jar beside it
  Result<std::vector<Distribution>> all = Store().List();
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_TRUE(all->empty());
  Result<Distribution> d = Store().Find("debian-3.8.0");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("available: none"));
  EXPECT_THAT(d.status().message(), HasSubstr("apt-get install zookeeper"));
}

TEST_F(DistributionStoreTest, ListHasReadyDistributionsOnlySortedById) {
  AddSystemPackage("3.8.0");
  const std::string a = dir_.path() + "/lib/a.jar";
  AddStored("debian-3.9.3", "3.9.3", {a}, {a});
  AddStored("apache-3.8.4", "3.8.4", {a}, {a});
  AddStored("apache-3.7.2", "3.7.2", {dir_.path() + "/lib/missing.jar"}, {});  // incomplete
  WriteFile(StoreDir() + "/apache-3.6.0/distribution.json", "{not json");      // malformed
  fs::create_directories(StoreDir() + "/.incoming.abc123");  // a fetch in progress
  WriteFile(StoreDir() + "/.lock", "");
  Result<std::vector<Distribution>> all = Store().List();
  ASSERT_TRUE(all.ok()) << all.status().message();
  std::vector<std::string> ids;
  for (const auto& d : *all) ids.push_back(d.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"apache-3.8.4", "debian-3.8.0", "debian-3.9.3"}));
}

TEST_F(DistributionStoreTest, StoreThatDoesNotExistYetIsEmpty) {
  Result<std::vector<Distribution>> all =
      DistributionStore(dir_.path() + "/nowhere", SystemDir()).List();
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_TRUE(all->empty());
}

TEST(DefaultDistributionStoreDir, FollowsZkpilotHomeThenXdgStateHomeThenHome) {
  auto saved = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto zk = saved("ZKPILOT_HOME"), xdg = saved("XDG_STATE_HOME"), home = saved("HOME");
  setenv("HOME", "/h", 1);
  setenv("XDG_STATE_HOME", "", 1);
  setenv("ZKPILOT_HOME", "", 1);
  EXPECT_EQ(DefaultDistributionStoreDir(), "/h/.local/state/zkpilot/distributions");
  setenv("XDG_STATE_HOME", "/x", 1);
  EXPECT_EQ(DefaultDistributionStoreDir(), "/x/zkpilot/distributions");
  setenv("ZKPILOT_HOME", "/z", 1);
  EXPECT_EQ(DefaultDistributionStoreDir(), "/z/distributions");
  auto restore = [](const char* name, const std::optional<std::string>& v) {
    v ? setenv(name, v->c_str(), 1) : unsetenv(name);
  };
  restore("ZKPILOT_HOME", zk);
  restore("XDG_STATE_HOME", xdg);
  restore("HOME", home);
}

// This machine's own Debian package (the `zookeeper` package must be installed).
TEST(DistributionStoreOnThisMachine, BuiltInDebian380) {
  TempDir empty_store;
  Result<Distribution> d = DistributionStore(empty_store.path()).Find("debian-3.8.0");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->version, "3.8.0");
  EXPECT_EQ(d->classpath[0], "/usr/share/java/zookeeper-jute.jar");
  EXPECT_EQ(d->classpath[1], "/usr/share/java/zookeeper.jar");
}

// --- Integration: a real ZooKeeper JVM per distribution ---------------------

using Clock = std::chrono::steady_clock;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Sends `request` to 127.0.0.1:port and returns everything read until the
// peer closes; "" if nothing answers (yet).
std::string Exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, n);
  }
  close(fd);
  return reply;
}

// A child process with stdout and stderr in `log`; killed (SIGKILL) and
// reaped when the object goes away, unless it has already been waited for.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log) : log_(log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = open("/dev/null", O_RDONLY);
      if (out < 0 || in < 0) _exit(126);
      dup2(in, 0);
      dup2(out, 1);
      dup2(out, 2);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  // The exit status once the process has ended; nullopt while it runs.
  std::optional<int> Poll() {
    if (exited_) return status_;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    exited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }
  // Waits until the process ends or `deadline` passes (then nullopt).
  std::optional<int> WaitUntil(Clock::time_point deadline) {
    while (Clock::now() < deadline) {
      if (auto s = Poll()) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Poll();
  }
  std::string Output() const { return ReadAll(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
};

std::vector<std::string> JavaCommand(const Distribution& d, const std::string& conf_dir,
                                     const std::string& main_class) {
  return {"java",
          "-Xmx256m",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-cp",
          d.ClasspathString(conf_dir),
          main_class};
}

// Starts a single server of `d`, checks that it reports its own version and
// that its AdminServer answers, then writes a znode through the
// distribution's own client: a wrong jute jar on the classpath fails exactly
// there (NoSuchMethodError in the server, ConnectionLoss in the client).
// The JVMs are killed and the temp dir removed on the way out.
void ExpectServesItsVersionAndAcceptsWrites(const Distribution& d) {
  const std::string& id = d.id;
  TempDir dir;
  const int client_port = FreePort();
  const int admin_port = FreePort();
  ASSERT_GT(client_port, 0);
  ASSERT_GT(admin_port, 0);
  WriteFile(dir.path() + "/zoo.cfg",
            "tickTime=2000\n"
            "dataDir=" +
                dir.path() +
                "/data\n"
                "clientPort=" +
                std::to_string(client_port) +
                "\n"
                "clientPortAddress=127.0.0.1\n"
                "admin.enableServer=true\n"
                "admin.serverAddress=127.0.0.1\n"
                "admin.serverPort=" +
                std::to_string(admin_port) +
                "\n"
                "4lw.commands.whitelist=srvr,ruok\n");
  fs::create_directories(dir.path() + "/data");
  // Debian distributions log through log4j 1.2, which finds this file in the
  // conf dir, the classpath's first entry; it goes to server.log on failure.
  WriteFile(
      dir.path() + "/log4j.properties",
      "log4j.rootLogger=INFO, CONSOLE\n"
      "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
      "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
      "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\n");

  std::vector<std::string> server_cmd = JavaCommand(d, dir.path(), d.main_class);
  server_cmd.push_back(dir.path() + "/zoo.cfg");
  Child server(server_cmd, dir.path() + "/server.log");
  ASSERT_TRUE(server.started());

  // Poll `srvr` until the server answers with its version.
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  std::string srvr;
  while (Clock::now() < deadline) {
    srvr = Exchange(client_port, "srvr");
    if (srvr.find("Zookeeper version:") != std::string::npos) break;
    if (auto status = server.Poll()) {
      FAIL() << id << ": the server exited with " << *status << ":\n" << server.Output();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::smatch m;
  static const std::regex kVersion("Zookeeper version: ([0-9]+\\.[0-9]+\\.[0-9]+)[-,]");
  ASSERT_TRUE(std::regex_search(srvr, m, kVersion))
      << id << ": no version from srvr before the deadline; reply: " << srvr << "\nlog:\n"
      << server.Output();
  EXPECT_EQ(m[1].str(), d.version) << srvr;
  EXPECT_THAT(srvr, HasSubstr("Mode: standalone"));

  // The AdminServer (needs servlet-api, which Debian's manifest leaves out).
  std::string admin;
  const auto admin_deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < admin_deadline) {
    admin = Exchange(admin_port, "GET /commands/ruok HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if (!admin.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(admin, HasSubstr("200 OK")) << "AdminServer on port " << admin_port << ":\n"
                                          << server.Output();
  EXPECT_THAT(admin, HasSubstr("\"error\" : null"));

  // A write through the distribution's own client.
  std::vector<std::string> client_cmd =
      JavaCommand(d, dir.path(), "org.apache.zookeeper.ZooKeeperMain");
  for (const char* arg : {"-server", "", "create", "/zkpilot-check", "data"})
    client_cmd.push_back(arg);
  client_cmd[client_cmd.size() - 4] = "127.0.0.1:" + std::to_string(client_port);
  Child client(client_cmd, dir.path() + "/client.log");
  ASSERT_TRUE(client.started());
  std::optional<int> exit_code = client.WaitUntil(Clock::now() + std::chrono::seconds(90));
  ASSERT_TRUE(exit_code.has_value()) << id << ": the client did not finish:\n" << client.Output();
  const std::string out = client.Output();
  EXPECT_EQ(*exit_code, 0) << out;
  EXPECT_THAT(out, HasSubstr("Created /zkpilot-check")) << "server log:\n" << server.Output();
  EXPECT_EQ(out.find("NoSuchMethodError"), std::string::npos) << out;
  EXPECT_FALSE(server.Poll().has_value()) << id << ": the server died:\n" << server.Output();
}

class DistributionIntegration : public ::testing::TestWithParam<std::string> {};

TEST_P(DistributionIntegration, ServesItsVersionAndAcceptsWrites) {
  const std::string id = GetParam();
  DistributionStore store(DefaultDistributionStoreDir());
  Result<Distribution> found = store.Find(id);
  if (id == "debian-3.9.3" && !found.ok() &&
      found.status().message().find("unknown") != std::string::npos) {
    GTEST_SKIP() << id << " is not fetched into " << store.store_dir()
                 << "; run scripts/fetch-zookeeper.sh 3.9.3 to test it";
  }
  ASSERT_TRUE(found.ok()) << found.status().message();
  ExpectServesItsVersionAndAcceptsWrites(*found);
}

// Whatever else the store holds (registered Apache tarballs, say).
TEST(DistributionIntegrationStore, EveryOtherDistributionServesItsVersionAndAcceptsWrites) {
  DistributionStore store(DefaultDistributionStoreDir());
  Result<std::vector<Distribution>> all = store.List();
  ASSERT_TRUE(all.ok()) << all.status().message();
  int tested = 0;
  for (const Distribution& d : *all) {
    if (d.id == "debian-3.8.0" || d.id == "debian-3.9.3") continue;  // tested above
    SCOPED_TRACE(d.id);
    ExpectServesItsVersionAndAcceptsWrites(d);
    ++tested;
  }
  if (tested == 0) GTEST_SKIP() << "no other distribution in " << store.store_dir();
}

INSTANTIATE_TEST_SUITE_P(Debian, DistributionIntegration,
                         ::testing::Values("debian-3.8.0", "debian-3.9.3"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace zkpilot
