// Jar manifests' Class-Path (jar_manifest.h): parsing, resolving entries the
// way the JDK's class loader does, the depth-first expansion, and reading a
// real zip file written here with libzip.
#include "platform/local/jar_manifest.h"

#include <stdlib.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<std::string>;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-jar-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Touch(const std::string& name) const {
    const std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p) << "x";
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(JarManifest, ClassPathJoinsContinuationLinesOfTheMainSectionOnly) {
  const std::string manifest =
      "Manifest-Version: 1.0\r\n"
      "Class-Path: /usr/share/java/commons-cli.jar /usr/share/java/jetty9-ut\r\n"
      " il.jar lib/x.jar\r\n"
      "Main-Class: Foo\r\n"
      "\r\n"
      "Name: org/foo/\r\n"
      "Class-Path: ignored.jar\r\n";
  EXPECT_EQ(ManifestClassPath(manifest),
            "/usr/share/java/commons-cli.jar /usr/share/java/jetty9-util.jar lib/x.jar");
  EXPECT_EQ(ManifestClassPath("Manifest-Version: 1.0\nclass-path: a.jar\n"), "a.jar") << "names are case-blind";
  EXPECT_EQ(ManifestClassPath("Manifest-Version: 1.0\rClass-Path: a.jar\r b.jar\r\rName: x\r"), "a.jarb.jar")
      << "lone CRs end lines too";
  EXPECT_EQ(ManifestClassPath("Manifest-Version: 1.0\n"), "");
  EXPECT_EQ(ManifestClassPath(""), "");
}

TEST(JarManifest, EntriesResolveAgainstTheJarsDirectoryAsTheClassLoaderDoes) {
  EXPECT_EQ(ResolveManifestEntries("/opt/zk/lib/zookeeper.jar",
                                   "/usr/share/java/a.jar b.jar ../c.jar file:/x/d.jar my%20e.jar "
                                   "http://example.invalid/f.jar"),
            (Paths{"/usr/share/java/a.jar", "/opt/zk/lib/b.jar", "/opt/zk/c.jar", "/x/d.jar", "/opt/zk/lib/my e.jar"}));
  EXPECT_TRUE(ResolveManifestEntries("/a/b.jar", "").empty());
}

TEST(JarManifest, ExpansionIsDepthFirstOnceEachAndSkipsMissingJars) {
  TempDir tmp;
  const std::string a = tmp.Touch("a.jar"), b = tmp.Touch("b.jar"), c = tmp.Touch("c.jar");
  const std::string d = tmp.Touch("lib/d.jar"), e = tmp.Touch("e.jar");
  const std::string conf = tmp.path() + "/conf";
  fs::create_directories(conf);
  std::map<std::string, std::string> manifests = {
      {a, "Class-Path: lib/d.jar missing.jar gone/ c.jar\n"},  // d, then c (c is also named later on -cp)
      {d, "Class-Path: ../e.jar\n"},                      // e is searched right after d
      {c, "Class-Path: a.jar\n"},                         // a cycle: a was opened already
  };
  auto read = [&](const std::string& jar) -> Result<std::string> {
    auto it = manifests.find(jar);
    return it == manifests.end() ? std::string() : it->second;
  };
  auto out = ExpandManifestClassPath({conf, a, b, c}, read);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, (Paths{conf, a, d, e, c, b}));
}

TEST(JarManifest, AManifestNamingADirectoryCannotBeFlattened) {
  TempDir tmp;
  const std::string a = tmp.Touch("a.jar");
  fs::create_directories(tmp.path() + "/classes");
  auto read = [&](const std::string&) -> Result<std::string> { return std::string("Class-Path: classes/\n"); };
  auto out = ExpandManifestClassPath({a}, read);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("a.jar's manifest names"), std::string::npos) << out.status().message();
}

// A zip file with one entry, written with libzip.
void WriteZip(const std::string& path, const std::string& name, const std::string& content) {
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(z, nullptr);
  zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
  ASSERT_NE(src, nullptr);
  ASSERT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE), 0);
  ASSERT_EQ(zip_close(z), 0);
}

TEST(JarManifest, ReadsTheManifestOutOfARealJar) {
  TempDir tmp;
  const std::string lib = tmp.path() + "/lib.jar";
  WriteZip(lib, "Lib.class", "cafebabe");  // no manifest
  const std::string jar = tmp.path() + "/app.jar";
  WriteZip(jar, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nClass-Path: lib.jar\n\n");
  auto text = ReadJarManifest(jar);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(ManifestClassPath(*text), "lib.jar");
  // The default reader, end to end.
  auto out = ExpandManifestClassPath({jar});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, (Paths{jar, lib}));

  // The manifest's name in another case: the JDK finds it all the same.
  const std::string lower = tmp.path() + "/lower.jar";
  WriteZip(lower, "meta-inf/manifest.mf", "Manifest-Version: 1.0\nClass-Path: lib.jar\n\n");
  auto found = ReadJarManifest(lower);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(ManifestClassPath(*found), "lib.jar");

  const std::string plain = tmp.path() + "/plain.jar";
  WriteZip(plain, "Foo.class", "cafebabe");
  auto none = ReadJarManifest(plain);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(*none, "");

  const std::string junk = tmp.Touch("junk.jar");  // "x": not a zip file
  auto bad = ReadJarManifest(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(junk), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ExpandManifestClassPath({junk}).ok()) << "an unreadable jar is an error, not a silent skip";
}

}  // namespace
}  // namespace zkpilot
