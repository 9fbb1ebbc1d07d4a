// Class-data archives (cds.h) and how processes are stopped (process.h).
// Unit tests: the command-line and key logic, the archive checks on fake
// files, StopProcess on /bin/sh children. Integration tests (name contains
// "Integration", a real ZooKeeper JVM on 127.0.0.1): an archive is created
// once, mapped by the server that starts with it, and a foreign or unusable
// archive never keeps a server from starting.
#include "platform/local/cds.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "platform/local/distribution.h"
#include "platform/local/process.h"
#include "util/files.h"
#include "zk/four_letter.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-cds-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

const std::vector<std::string> kServerArgv = {
    "/usr/bin/java", "-Xmx512m", "-Dzkpilot.node=/h/nodes/1", "-XX:+UseG1GC",
    "-cp", "/h/nodes/1/conf:/d/zookeeper-jute-3.9.3.jar:/d/zookeeper-3.9.3.jar:/usr/share/java/netty.jar",
    "org.apache.zookeeper.server.quorum.QuorumPeerMain", "/h/nodes/1/conf/zoo.cfg"};

TEST(Cds, ParsesTheServersCommandLine) {
  auto c = ParseJavaCommand(kServerArgv);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->java, "/usr/bin/java");
  EXPECT_EQ(c->options, (std::vector<std::string>{"-Xmx512m", "-Dzkpilot.node=/h/nodes/1", "-XX:+UseG1GC"}));
  EXPECT_EQ(c->classpath.size(), 4u);
  EXPECT_EQ(c->main_class, "org.apache.zookeeper.server.quorum.QuorumPeerMain");
  EXPECT_EQ(c->args, (std::vector<std::string>{"/h/nodes/1/conf/zoo.cfg"}));
  EXPECT_FALSE(ParseJavaCommand({"/usr/bin/java", "-version"}).ok());
  EXPECT_FALSE(ParseJavaCommand({}).ok());
}

TEST(Cds, ArchiveGoesBeforeTheClasspathAndDirectoriesAfterTheJars) {
  // The archive's jars: the command line's, with the jars a manifest names
  // (/d/jetty.jar) where the class loader searches them.
  const CdsArchive archive{"/s/cds/zookeeper-3.9.3-0123/classes.jsa",
                           {"/d/zookeeper-jute-3.9.3.jar", "/d/zookeeper-3.9.3.jar", "/d/jetty.jar",
                            "/usr/share/java/netty.jar"}};
  auto argv = WithCdsArchive(kServerArgv, archive);
  EXPECT_EQ(argv, (std::vector<std::string>{
                      "/usr/bin/java", "-Xmx512m", "-Dzkpilot.node=/h/nodes/1", "-XX:+UseG1GC",
                      "-XX:SharedArchiveFile=/s/cds/zookeeper-3.9.3-0123/classes.jsa", "-cp",
                      "/d/zookeeper-jute-3.9.3.jar:/d/zookeeper-3.9.3.jar:/d/jetty.jar:/usr/share/java/netty.jar:"
                      "/h/nodes/1/conf",
                      "org.apache.zookeeper.server.quorum.QuorumPeerMain", "/h/nodes/1/conf/zoo.cfg"}));
  // Something that is not a java command line is left alone.
  std::vector<std::string> odd = {"/bin/true"};
  EXPECT_EQ(WithCdsArchive(odd, CdsArchive{"/a.jsa", {}}), odd);
}

TEST(Cds, CommandLinesThatChooseTheirOwnSharingAreLeftAlone) {
  for (const std::string flag : {"-Xshare:off", "-Xshare:on", "-XX:SharedArchiveFile=/x.jsa",
                                 "-XX:ArchiveClassesAtExit=/x.jsa", "-XX:+AutoCreateSharedArchive"}) {
    auto argv = kServerArgv;
    argv.insert(argv.begin() + 1, flag);
    EXPECT_TRUE(ChoosesOwnCds(argv)) << flag;
  }
  EXPECT_FALSE(ChoosesOwnCds(kServerArgv));
  // A program argument after the main class is not a JVM option.
  auto argv = kServerArgv;
  argv.push_back("-Xshare:off");
  EXPECT_FALSE(ChoosesOwnCds(argv));
}

TEST(Cds, BuildIsReadFromJavaVersion) {
  EXPECT_EQ(JvmBuildOf("openjdk version \"17.0.15\" 2025-04-15\n"
                       "OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\n"
                       "OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)\n"),
            "17.0.15+6-Debian-1deb12u1");
  EXPECT_EQ(JvmBuildOf("no vm here"), "");
}

TEST(Cds, KeyChangesWithTheJvmTheJarsAndXxOptionsOnly) {
  auto c = *ParseJavaCommand(kServerArgv);
  JvmIdentity jvm{"openjdk 17.0.15", "/usr/lib/jvm/x/libjvm.so 100 1.0", "17.0.15+6"};
  const std::vector<std::string> jars = {"/d/zookeeper-jute-3.9.3.jar 10 1.0", "/d/zookeeper-3.9.3.jar 20 1.0",
                                         "/usr/share/java/netty.jar 30 1.0"};
  const std::string key = CdsArchiveKey(jvm, c, jars);
  EXPECT_EQ(key.size(), 16u);
  EXPECT_EQ(CdsArchiveKey(jvm, c, jars), key) << "deterministic";

  auto other_node = *ParseJavaCommand({"/usr/bin/java", "-Xmx2g", "-Dzkpilot.node=/h/nodes/2", "-XX:+UseG1GC",
                                       "-cp", "/h/nodes/2/conf:/d/zookeeper-jute-3.9.3.jar", c.main_class, "x"});
  EXPECT_EQ(CdsArchiveKey(jvm, other_node, jars), key) << "heap, properties and conf dir do not matter";

  JvmIdentity other_jvm = jvm;
  other_jvm.version_output = "openjdk 17.0.16";
  EXPECT_NE(CdsArchiveKey(other_jvm, c, jars), key);
  JvmIdentity updated_lib = jvm;
  updated_lib.libjvm = "/usr/lib/jvm/x/libjvm.so 100 2.0";
  EXPECT_NE(CdsArchiveKey(updated_lib, c, jars), key);
  auto changed_jars = jars;
  changed_jars[1] = "/d/zookeeper-3.9.3.jar 21 1.0";
  EXPECT_NE(CdsArchiveKey(jvm, c, changed_jars), key);
  auto gc = c;
  gc.options.push_back("-XX:+UseSerialGC");
  EXPECT_NE(CdsArchiveKey(jvm, gc, jars), key);
  auto main = c;
  main.main_class = "org.apache.zookeeper.server.ZooKeeperServerMain";
  EXPECT_NE(CdsArchiveKey(jvm, main, jars), key);
}

TEST(Cds, LabelNamesTheZooKeeperJar) {
  EXPECT_EQ(CdsArchiveLabel(*ParseJavaCommand(kServerArgv)), "zookeeper-3.9.3");
  EXPECT_EQ(CdsArchiveLabel(*ParseJavaCommand({"java", "-cp", "/a/b.jar", "Main"})), "jvm");
  EXPECT_EQ(CdsArchiveLabel(*ParseJavaCommand({"java", "-cp", "/j/zookeeper-jute.jar:/j/zookeeper.jar", "Main"})),
            "zookeeper");
}

TEST(Cds, ArchivesLiveNextToTheDistributionStore) {
  EXPECT_EQ(CdsDir("/root/.local/state/zkpilot/distributions"), "/root/.local/state/zkpilot/cds");
  EXPECT_EQ(CdsDir("/root/.local/state/zkpilot/distributions/"), "/root/.local/state/zkpilot/cds");
}

TEST(Cds, EnvironmentSwitchesArchivesOff) {
  const char* old = std::getenv("ZKPILOT_CDS");
  std::string saved = old ? old : "";
  for (const char* off : {"0", "off", "false", "no"}) {
    ::setenv("ZKPILOT_CDS", off, 1);
    EXPECT_FALSE(CdsEnabledByEnvironment()) << off;
  }
  ::setenv("ZKPILOT_CDS", "1", 1);
  EXPECT_TRUE(CdsEnabledByEnvironment());
  ::unsetenv("ZKPILOT_CDS");
  EXPECT_TRUE(CdsEnabledByEnvironment());
  if (old) ::setenv("ZKPILOT_CDS", saved.c_str(), 1);
}

// A file that looks like a dynamic archive of `build`, with its recorded size.
std::string FakeArchive(const std::string& dir, const std::string& build, bool record_size = true) {
  std::string header = "\xa8\xab\x0b\xf0";
  header += std::string(60, '\0') + "OpenJDK 64-Bit Server VM (" + build + ") for linux-amd64";
  header += std::string(10000, 'x');
  Write(dir + "/classes.jsa", header);
  if (record_size) Write(dir + "/size", std::to_string(header.size()) + "\n");
  return dir + "/classes.jsa";
}

TEST(Cds, ArchiveCheckWantsMagicBuildAndRecordedSize) {
  TempDir tmp;
  const std::string good = FakeArchive(tmp.path() + "/good", "17.0.15+6");
  EXPECT_TRUE(CdsArchiveLooksValid(good, "17.0.15+6"));
  EXPECT_FALSE(CdsArchiveLooksValid(good, "17.0.16+8")) << "another JVM build's archive";
  EXPECT_FALSE(CdsArchiveLooksValid(good, ""));
  EXPECT_FALSE(CdsArchiveLooksValid(FakeArchive(tmp.path() + "/nosize", "17.0.15+6", false), "17.0.15+6"));
  const std::string truncated = FakeArchive(tmp.path() + "/truncated", "17.0.15+6");
  fs::resize_file(truncated, 5000);
  EXPECT_FALSE(CdsArchiveLooksValid(truncated, "17.0.15+6")) << "a truncated archive can crash the JVM";
  Write(tmp.path() + "/garbage/classes.jsa", std::string(20000, 'g'));
  Write(tmp.path() + "/garbage/size", "20000\n");
  EXPECT_FALSE(CdsArchiveLooksValid(tmp.path() + "/garbage/classes.jsa", "17.0.15+6"));
  EXPECT_FALSE(CdsArchiveLooksValid(tmp.path() + "/missing/classes.jsa", "17.0.15+6"));
}

// A /bin/sh child that ignores SIGTERM, as a JVM busy in its shutdown would
// look; its command line carries `marker`.
// Returns once the trap is set (the child says so in its log).
int StartStubbornChild(const TempDir& dir, const std::string& marker) {
  SpawnOptions spawn;
  spawn.argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done", marker};
  spawn.log_path = dir.path() + "/" + marker + ".log";
  spawn.new_session = true;
  auto pid = Spawn(spawn);
  if (!pid.ok()) return -1;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (TailFile(spawn.log_path, 1).find("ready") == std::string::npos) {
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return *pid;
}

TEST(StopProcess, KillModeSendsSigkillAtOnce) {
  TempDir tmp;
  const int pid = StartStubbornChild(tmp, "zkpilot-stop-test-kill");
  ASSERT_GT(pid, 0);
  // The grace would be a minute if SIGTERM were sent first: only SIGKILL ends it quickly.
  const auto start = Clock::now();
  auto how = StopProcess(pid, "zkpilot-stop-test-kill", StopMode::kKill, std::chrono::minutes(1));
  ASSERT_TRUE(how.ok()) << how.status().message();
  EXPECT_EQ(*how, "killed by signal 9");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
}

TEST(StopProcess, TerminateModeSendsSigtermFirst) {
  SpawnOptions spawn;
  spawn.argv = {"/bin/sh", "-c", "while :; do sleep 0.05; done", "zkpilot-stop-test-term"};
  auto pid = Spawn(spawn);
  ASSERT_TRUE(pid.ok());
  auto how = StopProcess(*pid, "zkpilot-stop-test-term", StopMode::kTerminate, std::chrono::minutes(1));
  ASSERT_TRUE(how.ok()) << how.status().message();
  EXPECT_EQ(*how, "killed by signal 15");
}

TEST(StopProcess, TerminateModeFallsBackToSigkillAfterTheGrace) {
  TempDir tmp;
  const int pid = StartStubbornChild(tmp, "zkpilot-stop-test-grace");
  ASSERT_GT(pid, 0);
  auto how = StopProcess(pid, "zkpilot-stop-test-grace", StopMode::kTerminate, std::chrono::milliseconds(200));
  ASSERT_TRUE(how.ok()) << how.status().message();
  EXPECT_EQ(*how, "killed by signal 9");
}

// ---------------------------------------------------------------------------
// Integration: a real ZooKeeper JVM (Debian's 3.8.0) on 127.0.0.1.

class CdsIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = DistributionStore(tmp_.path() + "/no-store").Find("debian-3.8.0");
    if (!d.ok()) GTEST_SKIP() << d.status().message();
    if (FindInPath("java").empty()) GTEST_SKIP() << "no java";
    distribution_ = *d;
  }
  void TearDown() override {
    for (const auto& [pid, marker] : servers_) (void)StopProcess(pid, marker, StopMode::kKill, {});
  }

  // A standalone server's command line as the local platform writes it:
  // conf dir first on the classpath.
  std::vector<std::string> ServerArgv(const std::string& name, int* port) {
    const std::string dir = tmp_.path() + "/" + name;
    auto free = FreeLoopbackPort();
    *port = free.ok() ? *free : 0;
    Write(dir + "/conf/zoo.cfg", "tickTime=2000\ndataDir=" + dir + "/data\nclientPort=" + std::to_string(*port) +
                                     "\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
                                     "4lw.commands.whitelist=srvr\n");
    fs::create_directories(dir + "/data");
    return {FindInPath("java"), "-Xmx128m", "-Dzkpilot.node=" + dir, "-cp",
            distribution_.ClasspathString(dir + "/conf"), distribution_.main_class, dir + "/conf/zoo.cfg"};
  }

  // Starts `argv`, waits until srvr answers; returns the PID (0 on failure).
  int StartAndWait(const std::vector<std::string>& argv, int port, const std::string& log) {
    auto pid = Spawn(SpawnOptions{argv, "", log, {}, true});
    if (!pid.ok()) return 0;
    servers_.emplace_back(*pid, argv[2]);
    AdminClient admin(std::chrono::milliseconds(500));
    const auto deadline = Clock::now() + std::chrono::seconds(90);
    while (Clock::now() < deadline) {
      if (admin.Srvr(Endpoint{"127.0.0.1", port}).ok()) return *pid;
      if (!ProcessAlive(*pid, argv[2])) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  static bool Maps(int pid, const std::string& path) {
    auto maps = ReadFile("/proc/" + std::to_string(pid) + "/maps");
    return maps.ok() && maps->find(path) != std::string::npos;
  }

  TempDir tmp_;
  Distribution distribution_;
  std::vector<std::pair<int, std::string>> servers_;
};

TEST_F(CdsIntegration, ArchiveIsCreatedOnceAndMappedByTheServersStartedWithIt) {
  CdsArchives cds(CdsOptions{tmp_.path() + "/cds"});
  int port1 = 0, port2 = 0;
  auto argv1 = ServerArgv("s1", &port1);
  std::string note;
  auto with1 = cds.Prepare(argv1, &note);
  ASSERT_NE(with1, argv1) << note;
  const std::string archive = with1[3].substr(std::string("-XX:SharedArchiveFile=").size());
  ASSERT_TRUE(fs::exists(archive)) << note;
  const auto written = fs::last_write_time(archive);

  // Another server (other conf dir, port, heap) gets the same archive, not a new one.
  auto argv2 = ServerArgv("s2", &port2);
  auto with2 = cds.Prepare(argv2, &note);
  EXPECT_EQ(with2[3], with1[3]) << note;
  EXPECT_EQ(fs::last_write_time(archive), written);

  // Which classes came from the archive: the JVM logs each class's source.
  const std::string classes = tmp_.path() + "/s2-classes.log";
  auto logged = with2;
  logged.insert(logged.begin() + 1, "-Xlog:class+load=info:file=" + classes);
  const int pid = StartAndWait(logged, port2, tmp_.path() + "/s2.log");
  ASSERT_GT(pid, 0) << TailFile(tmp_.path() + "/s2.log", 20);
  EXPECT_TRUE(Maps(pid, archive)) << "the server does not map " << archive;
  // slf4j-api is not on the command line's classpath: Debian's zookeeper.jar
  // names it in its manifest's Class-Path, with an absolute path. Its classes
  // must come from the archive all the same (jar_manifest.h).
  auto loaded = ReadFile(classes);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_NE(loaded->find("org.apache.zookeeper.server.quorum.QuorumPeerMain source: shared objects file"),
            std::string::npos);
  EXPECT_NE(loaded->find("org.slf4j.LoggerFactory source: shared objects file"), std::string::npos)
      << "slf4j-api (named by a manifest) was not archived:\n"
      << loaded->substr(0, std::min<size_t>(loaded->size(), 4000));
  EXPECT_EQ(TailFile(tmp_.path() + "/s2.log", 200).find("[cds]"), std::string::npos)
      << "the JVM complained about the archive:\n" << TailFile(tmp_.path() + "/s2.log", 20);

  // A new process (another supervisor) finds the published archive.
  CdsArchives again(CdsOptions{tmp_.path() + "/cds"});
  EXPECT_EQ(again.Prepare(argv1, &note)[3], with1[3]) << note;
  EXPECT_EQ(fs::last_write_time(archive), written);

  // The JVM's identity (`java -version`) is kept next to the archives, behind
  // the stamps of the JDK's files; a file whose stamps no longer match (a JDK
  // update) is ignored and written again.
  std::vector<fs::path> identities;
  for (const auto& e : fs::directory_iterator(tmp_.path() + "/cds"))
    if (e.path().extension() == ".identity") identities.push_back(e.path());
  ASSERT_EQ(identities.size(), 1u);
  auto kept = ReadFile(identities[0].string());
  ASSERT_TRUE(kept.ok());
  EXPECT_NE(kept->find(" VM (build "), std::string::npos) << *kept;
  Write(identities[0].string(), "/usr/lib/jvm/old/bin/java 1 1.0\nOpenJDK 64-Bit Server VM (build 0.0.0, mixed mode)\n");
  CdsArchives updated(CdsOptions{tmp_.path() + "/cds"});
  EXPECT_EQ(updated.Prepare(argv1, &note)[3], with1[3]) << "a stale identity must not change the key: " << note;
  auto rewritten = ReadFile(identities[0].string());
  ASSERT_TRUE(rewritten.ok());
  EXPECT_EQ(*rewritten, *kept);
  // One cut short (a writer killed midway) is not taken for an identity either.
  Write(identities[0].string(), kept->substr(0, kept->size() - 5));
  CdsArchives again2(CdsOptions{tmp_.path() + "/cds"});
  EXPECT_EQ(again2.Prepare(argv1, &note)[3], with1[3]) << note;
  rewritten = ReadFile(identities[0].string());
  ASSERT_TRUE(rewritten.ok());
  EXPECT_EQ(*rewritten, *kept);
}

// A training run that fails is not run again for a while, by this process or
// another (the prepare step, then the supervisor), so that a server is not
// kept down by a second failing run; the server starts without an archive.
TEST_F(CdsIntegration, AFailedTrainingRunIsNotRepeatedByTheNextProcess) {
  int port = 0;
  auto argv = ServerArgv("s1", &port);
  // Metaspace far too small for ZooKeeper: the training JVM dies at start.
  argv.insert(argv.begin() + 1, "-XX:MaxMetaspaceSize=4m");
  std::string note;
  {
    CdsArchives cds(CdsOptions{tmp_.path() + "/cds"});
    EXPECT_EQ(cds.Prepare(argv, &note), argv) << note;
    EXPECT_NE(note.find("training run ended before serving"), std::string::npos) << note;
  }
  std::vector<std::string> markers;
  for (const auto& e : fs::directory_iterator(tmp_.path() + "/cds"))
    if (e.path().extension() == ".failed") markers.push_back(e.path().string());
  ASSERT_EQ(markers.size(), 1u);
  CdsArchives next(CdsOptions{tmp_.path() + "/cds"});
  EXPECT_EQ(next.Prepare(argv, &note), argv) << note;
  EXPECT_NE(note.find("a training run failed lately (training run ended before serving"), std::string::npos) << note;
  EXPECT_NE(note.find("or now after deleting " + markers[0]), std::string::npos) << note;
  // Deleting the marker allows the next try at once.
  fs::remove(markers[0]);
  CdsArchives after(CdsOptions{tmp_.path() + "/cds"});
  EXPECT_EQ(after.Prepare(argv, &note), argv);
  EXPECT_NE(note.find("training run ended before serving"), std::string::npos) << note;
  EXPECT_EQ(note.find("failed lately"), std::string::npos) << note;
}

TEST_F(CdsIntegration, ForeignArchiveIsMadeAgainAndUnusableOneMeansANormalStart) {
  int port = 0;
  auto argv = ServerArgv("s1", &port);
  std::string archive;
  {
    CdsArchives cds(CdsOptions{tmp_.path() + "/cds"});
    std::string note;
    auto with = cds.Prepare(argv, &note);
    ASSERT_NE(with, argv) << note;
    archive = with[3].substr(std::string("-XX:SharedArchiveFile=").size());
  }
  // Another JVM build's archive in its place (its header names another build).
  {
    std::fstream f(archive, std::ios::in | std::ios::out | std::ios::binary);
    std::string header(8192, '\0');
    f.read(header.data(), header.size());
    // The VM and the JRE are both named with the build: change every mention.
    int changed = 0;
    for (auto at = header.find("(17."); at != std::string::npos; at = header.find("(17.", at + 1), ++changed) {
      f.seekp(static_cast<std::streamoff>(at + 1));
      f.write("99", 2);
    }
    ASSERT_GT(changed, 0) << "no Java 17 build in the archive's header";
  }
  {
    CdsArchives cds(CdsOptions{tmp_.path() + "/cds"});
    std::string note;
    auto with = cds.Prepare(argv, &note);
    ASSERT_NE(with, argv) << note;
    EXPECT_EQ(with[3], "-XX:SharedArchiveFile=" + archive) << "made again under the same key";
    const int pid = StartAndWait(with, port, tmp_.path() + "/remade.log");
    ASSERT_GT(pid, 0) << TailFile(tmp_.path() + "/remade.log", 20);
    EXPECT_TRUE(Maps(pid, archive));
    (void)StopProcess(pid, argv[2], StopMode::kKill, {});
  }
  // Nowhere to write an archive: the server starts as it would without CDS.
  Write(tmp_.path() + "/not-a-dir", "a file where the archive directory should be");
  CdsArchives cds(CdsOptions{tmp_.path() + "/not-a-dir/cds"});
  std::string note;
  auto plain = cds.Prepare(argv, &note);
  EXPECT_EQ(plain, argv) << note;
  EXPECT_NE(note.find("no class-data archive"), std::string::npos) << note;
  const int pid = StartAndWait(plain, port, tmp_.path() + "/plain.log");
  EXPECT_GT(pid, 0) << TailFile(tmp_.path() + "/plain.log", 20);
}

}  // namespace
}  // namespace zkpilot
