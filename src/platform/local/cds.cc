#include "platform/local/cds.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "platform/local/jar_manifest.h"
#include "platform/local/local_files.h"
#include "platform/local/process.h"
#include "util/files.h"
#include "util/hash.h"
#include "zk/four_letter.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kArchiveName = "classes.jsa";
constexpr const char* kSizeName = "size";  // the archive's size, written before publishing
// The first four bytes of a Java 17 dynamic (top-layer) archive: 0xf00baba8.
constexpr unsigned char kDynamicMagic[] = {0xa8, 0xab, 0x0b, 0xf0};
constexpr const char* kMarkerPrefix = "-Dzkpilot.node=";
constexpr const char* kIdentityEnd = "\n# end of java -version\n";
constexpr auto kRetryTrainingAfter = std::chrono::minutes(10);

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsJar(const std::string& entry) { return EndsWith(entry, ".jar"); }

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::vector<std::string> Jars(const JavaCommand& c) {
  std::vector<std::string> out;
  for (const auto& e : c.classpath)
    if (IsJar(e)) out.push_back(e);
  return out;
}

// "path size mtime" of a file; an error when it cannot be read.
Result<std::string> FileStamp(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound(path + ": " + std::strerror(errno));
  return path + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string UniqueSuffix() {
  return std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
}

// Moves a directory out of the way and removes it; a concurrent reader that
// has already mapped its archive keeps its mapping.
void Discard(const std::string& dir) {
  std::error_code ec;
  const std::string trash = dir + ".discarded-" + UniqueSuffix();
  fs::rename(dir, trash, ec);
  fs::remove_all(ec ? dir : trash, ec);
}

// Training directories of runs that were killed (a supervisor killed
// mid-training) and discarded archives, once nobody can still be using them.
void RemoveStaleLeftovers(const std::string& dir) {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::minutes(30);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find(".tmp-") == std::string::npos && name.find(".discarded-") == std::string::npos) continue;
    std::error_code ec2;
    if (fs::last_write_time(it->path(), ec2) < cutoff && !ec2) fs::remove_all(it->path(), ec2);
  }
}

}  // namespace

Result<JavaCommand> ParseJavaCommand(const std::vector<std::string>& argv) {
  if (argv.empty()) return Status::InvalidInput("empty command line");
  JavaCommand c;
  c.java = argv[0];
  size_t i = 1;
  for (; i < argv.size() && argv[i] != "-cp" && argv[i] != "-classpath" && argv[i] != "--class-path"; ++i)
    c.options.push_back(argv[i]);
  if (i + 2 >= argv.size()) return Status::InvalidInput("no -cp CLASSPATH MAINCLASS in the command line");
  std::string cp = argv[i + 1];
  for (size_t start = 0; start <= cp.size();) {
    size_t end = cp.find(':', start);
    if (end == std::string::npos) end = cp.size();
    if (end > start) c.classpath.push_back(cp.substr(start, end - start));
    start = end + 1;
  }
  c.main_class = argv[i + 2];
  c.args.assign(argv.begin() + static_cast<long>(i) + 3, argv.end());
  if (c.main_class.empty() || c.main_class[0] == '-')
    return Status::InvalidInput("no main class after -cp in the command line");
  return c;
}

bool ChoosesOwnCds(const std::vector<std::string>& argv) {
  for (const auto& a : argv) {
    if (a == "-cp" || a == "-classpath" || a == "--class-path") break;  // program arguments follow
    if (a.rfind("-Xshare", 0) == 0 || a.rfind("-XX:SharedArchiveFile", 0) == 0 ||
        a.rfind("-XX:ArchiveClassesAtExit", 0) == 0 || a.find("AutoCreateSharedArchive") != std::string::npos)
      return true;
  }
  return false;
}

std::string JvmBuildOf(const std::string& version_output) {
  // OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)
  auto vm = version_output.find(" VM (build ");
  if (vm == std::string::npos) return "";
  auto start = vm + std::strlen(" VM (build ");
  auto end = version_output.find_first_of(",)", start);
  if (end == std::string::npos) return "";
  return version_output.substr(start, end - start);
}

std::string CdsArchiveKey(const JvmIdentity& jvm, const JavaCommand& command,
                          const std::vector<std::string>& jar_stamps) {
  std::string text = "jvm\n" + jvm.version_output + "\nlibjvm " + jvm.libjvm + "\noptions\n";
  // Only -XX options change what an archive must match (GC, compressed
  // pointers, ...); heap sizes and system properties do not.
  for (const auto& o : command.options)
    if (o.rfind("-XX:", 0) == 0) text += o + "\n";
  text += "jars\n";
  for (const auto& j : jar_stamps) text += j + "\n";
  text += "main " + command.main_class + "\n";
  return Sha256Hex(text).substr(0, 16);
}

std::string CdsArchiveLabel(const JavaCommand& command) {
  for (const auto& e : command.classpath) {
    std::string name = fs::path(e).filename().string();
    if (name.rfind("zookeeper", 0) == 0 && name.rfind("zookeeper-jute", 0) != 0 && IsJar(name))
      return name.substr(0, name.size() - 4);
  }
  return "jvm";
}

std::vector<std::string> WithCdsArchive(const std::vector<std::string>& argv, const CdsArchive& archive) {
  auto parsed = ParseJavaCommand(argv);
  if (!parsed.ok()) return argv;
  const JavaCommand& c = *parsed;
  std::vector<std::string> ordered = archive.jars.empty() ? Jars(c) : archive.jars;
  for (const auto& e : c.classpath)
    if (!IsJar(e)) ordered.push_back(e);
  std::vector<std::string> out = {c.java};
  out.insert(out.end(), c.options.begin(), c.options.end());
  out.push_back("-XX:SharedArchiveFile=" + archive.path);
  out.insert(out.end(), {"-cp", Join(ordered, ':'), c.main_class});
  out.insert(out.end(), c.args.begin(), c.args.end());
  return out;
}

bool CdsArchiveLooksValid(const std::string& path, const std::string& build) {
  if (build.empty()) return false;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return false;
  auto recorded = ReadFile((fs::path(path).parent_path() / kSizeName).string());
  if (!recorded.ok() || std::strtoll(recorded->c_str(), nullptr, 10) != st.st_size) return false;
  std::ifstream in(path, std::ios::binary);
  std::string header(8192, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  header.resize(static_cast<size_t>(in.gcount()));
  if (header.size() < sizeof kDynamicMagic || std::memcmp(header.data(), kDynamicMagic, sizeof kDynamicMagic) != 0)
    return false;
  return header.find("(" + build + ")") != std::string::npos;
}

CdsArchives::CdsArchives(CdsOptions options) : options_(std::move(options)) {}

Result<JvmIdentity> CdsArchives::Identity(const std::string& java) {
  // `java -version` costs a JVM start (~30 ms of CPU, at every supervisor's
  // first server start, so at every deploy). Its output is kept in memory and
  // on disk, keyed by the launcher's real path and valid while the launcher,
  // libjvm.so and the runtime image (lib/modules) keep their size and mtime:
  // a JDK update or another alternative changes one of them. The stamps are
  // read at every call (three stats), so a long-running supervisor notices an
  // update too.
  std::error_code ec;
  const std::string found = FindInPath(java).empty() ? java : FindInPath(java);
  const fs::path real = fs::canonical(found, ec);
  std::string stamps, libjvm;
  if (!ec) {
    const fs::path home = real.parent_path().parent_path();
    auto launcher = FileStamp(real.string());
    auto lib = FileStamp((home / "lib" / "server" / "libjvm.so").string());
    auto modules = FileStamp((home / "lib" / "modules").string());
    if (lib.ok()) libjvm = *lib;
    if (launcher.ok() && lib.ok() && modules.ok()) stamps = *launcher + "\n" + *lib + "\n" + *modules + "\n";
  }
  if (auto it = identities_.find(java); it != identities_.end() && !stamps.empty() && it->second.first == stamps)
    return it->second.second;
  const std::string cache =
      stamps.empty() ? "" : options_.dir + "/jvm-" + Sha256Hex(real.string()).substr(0, 16) + ".identity";
  // The file: the stamps, `java -version`'s output, then kIdentityEnd (a
  // file cut short is not taken for an identity).
  if (!cache.empty()) {
    auto text = ReadFile(cache);
    if (text.ok() && text->rfind(stamps, 0) == 0 && EndsWith(*text, kIdentityEnd)) {
      const std::string output = text->substr(stamps.size(), text->size() - stamps.size() - std::strlen(kIdentityEnd));
      JvmIdentity id{output, libjvm, JvmBuildOf(output)};
      if (!id.build.empty()) {
        identities_[java] = {stamps, id};
        return id;
      }
    }
  }
  auto version = RunCommand({java, "-version"}, std::chrono::seconds(30));
  if (!version.ok()) return version.status().WithContext(java + " -version");
  if (version->exit_code != 0) return Status::IOError(java + " -version exited " + std::to_string(version->exit_code));
  JvmIdentity id;
  id.version_output = version->output;
  id.build = JvmBuildOf(version->output);
  if (id.build.empty()) return Status::IOError(java + " -version names no VM build: " + version->output);
  id.libjvm = libjvm;
  // Best effort: without the file the next supervisor runs `java -version`
  // again. Written under a name of this process's own and renamed: two
  // processes writing at once never mix their bytes.
  if (!cache.empty() && MakeWritableDir(options_.dir, "archive directory").ok()) {
    const std::string tmp = cache + ".tmp-" + UniqueSuffix();
    if (WriteFileAtomically(tmp, stamps + id.version_output + kIdentityEnd).ok() &&
        ::rename(tmp.c_str(), cache.c_str()) != 0)
      fs::remove(tmp, ec);
  }
  if (!stamps.empty()) identities_[java] = {stamps, id};
  return id;
}

Result<CdsArchive> CdsArchives::ArchiveFor(const std::vector<std::string>& argv) {
  ZK_ASSIGN_OR_RETURN(JavaCommand command, ParseJavaCommand(argv));
  ZK_ASSIGN_OR_RETURN(JvmIdentity jvm, Identity(command.java));
  const std::vector<std::string> named = Jars(command);
  if (named.empty()) return Status::InvalidInput("no jar on the classpath");
  auto stamps_of = [](const std::vector<std::string>& jars) -> Result<std::vector<std::string>> {
    std::vector<std::string> stamps;
    for (const auto& jar : jars) {
      ZK_ASSIGN_OR_RETURN(std::string s, FileStamp(jar));
      stamps.push_back(s);
    }
    return stamps;
  };
  // The jars their manifests name too, so that their classes are archived
  // (jar_manifest.h). Should a manifest be unreadable or name a directory,
  // the archive holds the named jars' classes only. Reading the manifests
  // (~30 jars) is done again only when one of the jars changed.
  const std::string named_key = Join(named, ':');
  std::vector<std::string> jars, stamps;
  if (auto it = expanded_.find(named_key); it != expanded_.end()) {
    auto now = stamps_of(it->second.first);
    if (now.ok() && *now == it->second.second) {
      jars = it->second.first;
      stamps = *now;
    }
  }
  if (jars.empty()) {
    auto expanded = ExpandManifestClassPath(named);
    jars = expanded.ok() ? *expanded : named;
    ZK_ASSIGN_OR_RETURN(stamps, stamps_of(jars));
    expanded_[named_key] = {jars, stamps};
  }
  const std::string key = CdsArchiveKey(jvm, command, stamps);
  if (auto it = failed_.find(key); it != failed_.end()) return it->second;
  const std::string final_dir = options_.dir + "/" + CdsArchiveLabel(command) + "-" + key;
  const std::string archive = final_dir + "/" + kArchiveName;
  if (CdsArchiveLooksValid(archive, jvm.build)) return CdsArchive{archive, jars};
  // A training run for this key failed lately, in this process or another
  // (the step that prepared the server, then its supervisor): not again
  // yet, so that a server is not kept down by a second run that fails too.
  const std::string failed_marker = final_dir + ".failed";
  std::error_code ec;
  if (auto when = fs::last_write_time(failed_marker, ec);
      !ec && fs::file_time_type::clock::now() - when < kRetryTrainingAfter) {
    auto why = ReadFile(failed_marker);
    return Status::IOError("a training run failed lately (" + (why.ok() ? *why : std::string("?")) +
                           "); the next try is 10 minutes after it, or now after deleting " + failed_marker);
  }
  // Missing, or damaged or made by another JVM: made again.
  if (fs::exists(final_dir, ec)) Discard(final_dir);
  auto created = Create(command, jars, final_dir, jvm.build);
  if (!created.ok()) {
    failed_.emplace(key, created.status());
    if (MakeWritableDir(options_.dir, "archive directory").ok()) {
      const std::string tmp = failed_marker + ".tmp-" + UniqueSuffix();
      if (WriteFileAtomically(tmp, created.status().message()).ok() && ::rename(tmp.c_str(), failed_marker.c_str()) != 0)
        fs::remove(tmp, ec);
    }
    return created.status();
  }
  fs::remove(failed_marker, ec);
  return CdsArchive{*created, jars, true};
}

Result<std::string> CdsArchives::Create(const JavaCommand& command, const std::vector<std::string>& jars,
                                        const std::string& final_dir, const std::string& build) {
  ZK_RETURN_IF_ERROR(MakeWritableDir(options_.dir, "archive directory"));
  RemoveStaleLeftovers(options_.dir);
  const std::string tmp = final_dir + ".tmp-" + UniqueSuffix();
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
  } cleanup{tmp};
  ZK_RETURN_IF_ERROR(MakeWritableDir(tmp + "/conf", "training directory"));
  ZK_RETURN_IF_ERROR(MakeWritableDir(tmp + "/data", "training directory"));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(tmp + "/data/myid", "1\n"));
  // Ports nothing listens on now. Should another process take one before the
  // run binds it, the run fails and the server starts without an archive.
  ZK_ASSIGN_OR_RETURN(int client, FreeLoopbackPort());
  ZK_ASSIGN_OR_RETURN(int quorum, FreeLoopbackPort());
  ZK_ASSIGN_OR_RETURN(int election, FreeLoopbackPort());
  // A one-server ensemble (not standalone), so that the quorum classes a
  // server of an ensemble loads (election, leader) are archived too; without
  // the AdminServer, as the local platform runs its servers (zoo.cfg.mustache).
  const std::string cfg = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + tmp + "/data\nclientPort=" +
                          std::to_string(client) + "\nclientPortAddress=127.0.0.1\nstandaloneEnabled=false\n" +
                          "admin.enableServer=false\n4lw.commands.whitelist=srvr\nserver.1=127.0.0.1:" +
                          std::to_string(quorum) + ":" + std::to_string(election) + "\n";
  ZK_RETURN_IF_ERROR(WriteFileAtomically(tmp + "/conf/zoo.cfg", cfg));

  const std::string archive = tmp + "/" + kArchiveName;
  std::vector<std::string> argv = {command.java};
  for (const auto& o : command.options) {
    if (o.rfind(kMarkerPrefix, 0) == 0) continue;  // not mistaken for a server
    // An options file (`@file`) holds a server's secrets (the super user's
    // digest), which the training run does not need; the archive key never
    // looked past -XX options anyway.
    if (o.rfind('@', 0) == 0) continue;
    // Nothing of the training run is written into a server's directory.
    argv.push_back(o.rfind("-Dzookeeper.log.dir=", 0) == 0 ? "-Dzookeeper.log.dir=" + tmp : o);
  }
  const std::string classpath = Join(jars, ':');
  argv.insert(argv.end(), {"-XX:ArchiveClassesAtExit=" + archive, "-cp", classpath, command.main_class,
                           tmp + "/conf/zoo.cfg"});
  const std::string log = tmp + "/training.log";
  ZK_ASSIGN_OR_RETURN(int pid, Spawn(SpawnOptions{argv, tmp, log, {}, true}));
  const std::string marker = "-XX:ArchiveClassesAtExit=" + archive;  // a reused PID is not killed
  struct Reaper {
    int pid;
    std::string marker;
    ~Reaper() { (void)StopProcess(pid, marker, StopMode::kKill, std::chrono::milliseconds(0)); }
  } reaper{pid, marker};

  AdminClient admin_client(std::chrono::milliseconds(500));
  const auto deadline = SteadyClock::now() + options_.training_timeout;
  while (true) {
    auto srvr = admin_client.Srvr(Endpoint{"127.0.0.1", client});
    if (srvr.ok() && srvr->mode != kModeNotServing) break;
    if (!ProcessAlive(pid, marker))
      return Status::IOError("training run ended before serving: " + TailFile(log, 5));
    if (SteadyClock::now() >= deadline)
      return Status::IOError("training run not serving after " +
                             std::to_string(options_.training_timeout.count() / 1000) + "s: " + TailFile(log, 5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The JVM writes the archive as it exits normally: SIGTERM, not SIGKILL.
  ZK_ASSIGN_OR_RETURN(std::string how, StopProcess(pid, marker, StopMode::kTerminate, options_.training_timeout));
  if (!fs::exists(archive)) return Status::IOError("training run wrote no archive (" + how + "): " + TailFile(log, 5));
  // -Xshare:on refuses to start with an archive it cannot use.
  ZK_ASSIGN_OR_RETURN(CommandResult check, RunCommand({command.java, "-Xshare:on", "-XX:SharedArchiveFile=" + archive,
                                                       "-cp", classpath, "-version"},
                                                      std::chrono::seconds(30)));
  if (check.exit_code != 0) return Status::IOError("the JVM refuses the new archive: " + check.output);
  std::error_code ec;
  const auto size = fs::file_size(archive, ec);
  if (ec) return Status::IOError(archive + ": " + ec.message());
  ZK_RETURN_IF_ERROR(WriteFileAtomically(tmp + "/" + kSizeName, std::to_string(size) + "\n"));
  if (!CdsArchiveLooksValid(archive, build))
    return Status::IOError("the new archive's header does not name the JVM build " + build);
  fs::remove_all(tmp + "/data", ec);
  fs::remove_all(tmp + "/conf", ec);
  // Published all at once. A directory that appeared meanwhile (another
  // supervisor's run) wins: rename(2) does not replace a non-empty directory.
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    if (errno != ENOTEMPTY && errno != EEXIST) return Status::IOError("rename " + tmp + ": " + std::strerror(errno));
  } else {
    cleanup.dir.clear();
  }
  const std::string published = final_dir + "/" + kArchiveName;
  if (!CdsArchiveLooksValid(published, build)) return Status::IOError(published + " is not usable");
  return published;
}

std::vector<std::string> CdsArchives::Prepare(const std::vector<std::string>& argv, std::string* note) {
  if (ChoosesOwnCds(argv)) {
    if (note) *note = "the command line chooses its own class-data sharing";
    return argv;
  }
  auto archive = ArchiveFor(argv);
  if (!archive.ok()) {
    if (note) *note = "no class-data archive: " + archive.status().message();
    return argv;
  }
  if (note) *note = "class-data archive " + archive->path;
  return WithCdsArchive(argv, *archive);
}

std::string CdsDir(const std::string& distributions_dir) {
  fs::path p(distributions_dir);
  if (!p.has_filename()) p = p.parent_path();  // a trailing '/'
  return (p.parent_path() / "cds").string();
}

bool CdsEnabledByEnvironment() {
  const char* v = std::getenv("ZKPILOT_CDS");
  if (!v) return true;
  std::string s(v);
  return !(s == "0" || s == "off" || s == "false" || s == "no");
}

}  // namespace zkpilot
