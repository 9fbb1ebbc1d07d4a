// Class-data sharing (AppCDS) for the ZooKeeper JVMs the supervisor starts.
//
// A JVM spends most of a ZooKeeper server's start loading and verifying the
// same few thousand classes. Java 17 can dump them into an archive at the end
// of one run (-XX:ArchiveClassesAtExit) and map it in later runs
// (-XX:SharedArchiveFile); docs/server-start.md has the numbers.
//
// One archive serves every server started with the same JVM build, the same
// jars and main class and the same -XX options: its key hashes those
// (`java -version`, the size and mtime of libjvm.so, each jar's path, size and
// mtime). Archives live in the cluster-independent state directory next to
// the distribution store (<store>/../cds/<label>-<key>/classes.jsa). The
// first start that finds none creates it with a training run: the server's
// own command line on a one-server ensemble in a temporary directory, stopped
// with SIGTERM once it serves (the JVM writes the archive when it exits
// normally). The archive is checked (-Xshare:on must accept it) and
// published by renaming its directory, so two supervisors creating the same
// archive at once never expose a partial file: the first rename wins and the
// other run is discarded.
//
// The launch file (conf/launch.json) never names an archive: CdsArchives
// rewrites the command line at each start, so archives can come and go
// without changing any server's fingerprint. Nothing here fails a start: any
// trouble (no java, a training run that fails, an archive from another JVM
// or a damaged one) means the server starts without an archive.
//
// Disabled by ZKPILOT_CDS=0 in the supervisor's environment, and for a
// cluster whose jvmFlags set any -Xshare or archive option themselves.
//
// Thread-safety: CdsArchives is used by one thread (the supervisor's loop).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

// The parts of a server's JVM command line that CDS depends on. Pure.
struct JavaCommand {
  std::string java;                    // argv[0]
  std::vector<std::string> options;    // everything between java and -cp
  std::vector<std::string> classpath;  // -cp, split at ':'
  std::string main_class;
  std::vector<std::string> args;       // after the main class
};
Result<JavaCommand> ParseJavaCommand(const std::vector<std::string>& argv);

// True when the command line chooses its own class-data sharing (-Xshare:*,
// -XX:SharedArchiveFile, -XX:ArchiveClassesAtExit, -XX:+/-AutoCreateSharedArchive).
bool ChoosesOwnCds(const std::vector<std::string>& argv);

// What identifies a JVM build: `java -version`'s output and libjvm.so's
// size and mtime. The VM's build string ("17.0.15+6-Debian-1deb12u1") is
// what the JVM writes into an archive's header.
struct JvmIdentity {
  std::string version_output;
  std::string libjvm;   // "path size mtime", "" when not found
  std::string build;    // from "(build X," of the VM line
};
// Parses the build out of `java -version`'s output ("" when absent). Pure.
std::string JvmBuildOf(const std::string& version_output);

// The archive key: 16 hex digits of a SHA-256 over the JVM identity, the
// -XX options, each jar (`jar_stamps`: "path size mtime", in classpath
// order, manifest-named jars included) and the main class. Pure.
std::string CdsArchiveKey(const JvmIdentity& jvm, const JavaCommand& command,
                          const std::vector<std::string>& jar_stamps);

// A human label for the archive directory: the zookeeper jar's name without
// ".jar" ("zookeeper-3.9.3"; Debian's own is "zookeeper"), else "jvm". Pure.
std::string CdsArchiveLabel(const JavaCommand& command);

// An archive and the jars it was made with, in their -cp order: the
// command line's jars with every jar their manifests name (Class-Path)
// inserted where the class loader searches it (jar_manifest.h).
struct CdsArchive {
  std::string path;
  std::vector<std::string> jars;
  bool created = false;  // made by this call (a training run)
};

// `argv` starting with `archive`: -XX:SharedArchiveFile before -cp, and -cp
// the archive's jars followed by the classpath's directories (entries not
// ending in .jar), since the archive was made with the jars alone and the
// JVM accepts a classpath that extends the dump's but not one that differs
// in front. The class loader finds the same classes in the same order: the
// directories hold none, and the manifest-named jars are where it would
// search them anyway. Pure.
std::vector<std::string> WithCdsArchive(const std::vector<std::string>& argv, const CdsArchive& archive);

// Whether the file at `path` looks like a usable dynamic archive of the JVM
// build `build`: the dynamic-archive magic and `(build)` in its header, and
// the size recorded when it was published. Reads 8 KiB.
bool CdsArchiveLooksValid(const std::string& path, const std::string& build);

struct CdsOptions {
  std::string dir;                                    // where archives live
  std::chrono::milliseconds training_timeout{60000};  // a training run's start and dump, each
};

class CdsArchives {
 public:
  explicit CdsArchives(CdsOptions options);

  // The command line to start: `argv` with an archive (created now if
  // missing or unusable) or, on any trouble, `argv` unchanged. `note` (may
  // be null) receives what happened, for the log.
  std::vector<std::string> Prepare(const std::vector<std::string>& argv, std::string* note);

  // The published archive for `argv`, creating it if needed.
  Result<CdsArchive> ArchiveFor(const std::vector<std::string>& argv);

 private:
  Result<JvmIdentity> Identity(const std::string& java);
  Result<std::string> Create(const JavaCommand& command, const std::vector<std::string>& jars,
                             const std::string& final_dir, const std::string& build);

  CdsOptions options_;
  // By java path: the stamps of the JDK's files and the identity read with
  // them; also kept on disk (jvm-*.identity).
  std::map<std::string, std::pair<std::string, JvmIdentity>> identities_;
  std::map<std::string, Status> failed_;           // by key: not tried again in this process
  // By the command line's jars (':'-joined): those with the manifests' jars,
  // and the stamps of all of them when the manifests were read.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> expanded_;
};

// <distribution store>/../cds: next to the distribution store.
std::string CdsDir(const std::string& distributions_dir);

// False when ZKPILOT_CDS is "0", "off", "false" or "no".
bool CdsEnabledByEnvironment();

}  // namespace zkpilot
