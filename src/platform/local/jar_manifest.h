// The classpath a JVM really searches: jars named by other jars' manifests.
//
// A jar's META-INF/MANIFEST.MF may name more jars in its main section's
// Class-Path attribute. Debian's zookeeper.jar names 23 that way (Jetty,
// slf4j-api, metrics, Netty's buffer and handler, ...) with absolute paths.
// The JDK's class loader (jdk.internal.loader.URLClassPath) follows them:
// after opening a jar it pushes the jar's Class-Path URLs, resolved against
// the jar's own URL, to the front of the jars still to open, so they are
// searched right after that jar and before the next -cp entry (depth first),
// and a jar already opened is not opened again.
//
// Java 17's class-data sharing does not follow absolute Class-Path entries
// the same way: it joins them to the jar's directory
// ("/usr/share/java//usr/share/java/jetty9-util.jar"), finds nothing there,
// and archives none of their classes (-Xlog:cds: "Unsupported location").
// Naming those jars on -cp, in the order the class loader searches them,
// gives the JVM the same classes in the same order and lets an archive hold
// them (docs/server-start.md).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

// The main section's Class-Path attribute of a manifest's text ("" when
// absent): continuation lines (starting with one space) joined, CRLF or LF.
// Pure.
std::string ManifestClassPath(const std::string& manifest);

// The Class-Path entries of the jar at `jar_path`, resolved the way
// URLClassPath resolves them against the jar's URL: an absolute path stays,
// a relative one is taken from the jar's directory, a "file:" URL is its
// path, %XX escapes are decoded; entries with another scheme are dropped
// (the JDK refuses them for a jar on the file system). Pure.
std::vector<std::string> ResolveManifestEntries(const std::string& jar_path, const std::string& class_path);

// The text of META-INF/MANIFEST.MF in the jar at `jar_path`; "" when the
// jar has none. An error when the file is not a readable zip archive.
Result<std::string> ReadJarManifest(const std::string& jar_path);

// Reads a jar's manifest text (ReadJarManifest, or a fake in tests).
using ManifestReader = std::function<Result<std::string>(const std::string& jar_path)>;

// `classpath` with every jar named by a Class-Path attribute inserted where
// the JDK's class loader searches it (right after the jar that names it,
// recursively), each jar once, files that do not exist left out (the class
// loader skips them too). Directories are kept where they are. An error
// when a manifest names something other than a jar (a directory, say):
// then the order of classes could not be kept by a flat -cp.
Result<std::vector<std::string>> ExpandManifestClassPath(const std::vector<std::string>& classpath,
                                                         const ManifestReader& read = ReadJarManifest);

}  // namespace zkpilot
