// WriteFileAtomically: the one way zkpilot writes a file (keys, passwords,
// configuration), so that a directory others can write cannot make it hand
// them the content, and the result is whole, with exactly the requested mode.
#include "util/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

class WriteFileAtomicallyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zkpilot-files-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    saved_umask_ = ::umask(022);
    ::umask(saved_umask_);
  }
  void TearDown() override {
    ::umask(saved_umask_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void Put(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }
  // Every name in the directory, hidden ones included.
  std::set<std::string> Names() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.insert(e.path().filename().string());
    return out;
  }
  static mode_t ModeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string dir_;
  mode_t saved_umask_ = 022;
};

TEST_F(WriteFileAtomicallyTest, APlantedTmpSymlinkIsNeitherFollowedNorWritten) {
  // What another user of a shared output directory could plant, under the
  // name a predictable temporary file would have.
  Put(Path("victim"), "theirs\n");
  fs::create_symlink(Path("victim"), Path("app1.key.tmp"));
  fs::create_symlink(Path("nowhere"), Path(".app1.key.tmp"));  // dangling

  ASSERT_TRUE(WriteFileAtomically(Path("app1.key"), "private key\n", 0600).ok());

  EXPECT_EQ(Slurp(Path("victim")), "theirs\n");
  EXPECT_FALSE(fs::exists(Path("nowhere")));
  EXPECT_TRUE(fs::is_symlink(Path("app1.key.tmp")));
  EXPECT_FALSE(fs::is_symlink(Path("app1.key")));
  EXPECT_EQ(Slurp(Path("app1.key")), "private key\n");
  EXPECT_EQ(ModeOf(Path("app1.key")), 0600u);
}

TEST_F(WriteFileAtomicallyTest, APlantedTmpFileIsNotReused) {
  // A pre-created file at the temporary name, whose inode its creator still
  // reaches (here through a hard link; in life through an open descriptor).
  Put(Path("app1.key.tmp"), "planted\n");
  fs::create_hard_link(Path("app1.key.tmp"), Path("their-handle"));

  ASSERT_TRUE(WriteFileAtomically(Path("app1.key"), "private key\n", 0600).ok());

  EXPECT_EQ(Slurp(Path("their-handle")), "planted\n");
  EXPECT_EQ(Slurp(Path("app1.key")), "private key\n");
  struct stat key {}, theirs {};
  ASSERT_EQ(::stat(Path("app1.key").c_str(), &key), 0);
  ASSERT_EQ(::stat(Path("their-handle").c_str(), &theirs), 0);
  EXPECT_NE(key.st_ino, theirs.st_ino);
}

TEST_F(WriteFileAtomicallyTest, TheResultHasExactlyTheRequestedModeWhateverTheUmask) {
  struct Case {
    mode_t umask;
    mode_t mode;
  };
  for (const Case c : {Case{0, 0600}, Case{0, 0640}, Case{0, 0644}, Case{077, 0644}, Case{022, 0600},
                       Case{027, 0755}}) {
    const std::string path = Path("f-" + std::to_string(c.umask) + "-" + std::to_string(c.mode));
    // A wider existing file is replaced, not chmod'ed in place.
    Put(path, "old\n");
    ::chmod(path.c_str(), 0666);
    ::umask(c.umask);
    const Status s = WriteFileAtomically(path, "new\n", c.mode);
    ::umask(saved_umask_);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(ModeOf(path), c.mode) << "umask " << std::oct << c.umask << " mode " << c.mode;
    EXPECT_EQ(Slurp(path), "new\n");
  }
}

TEST_F(WriteFileAtomicallyTest, NoTemporaryFileIsLeftAfterSuccess) {
  ASSERT_TRUE(WriteFileAtomically(Path("zoo.cfg"), "tickTime=2000\n").ok());
  ASSERT_TRUE(WriteFileAtomically(Path("zoo.cfg"), "tickTime=3000\n").ok());
  ASSERT_TRUE(WriteFileAtomically(Path("empty"), "").ok());
  EXPECT_EQ(Names(), (std::set<std::string>{"zoo.cfg", "empty"}));
  EXPECT_EQ(Slurp(Path("zoo.cfg")), "tickTime=3000\n");
  EXPECT_EQ(ModeOf(Path("empty")), 0600u);
}

TEST_F(WriteFileAtomicallyTest, NoTemporaryFileIsLeftAfterFailureAndThePathIsUntouched) {
  // The rename fails: the path is a directory that is not empty.
  fs::create_directory(Path("app1.key"));
  Put(Path("app1.key/inside"), "kept\n");

  const Status s = WriteFileAtomically(Path("app1.key"), "private key\n", 0600);

  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(Path("app1.key")), std::string::npos) << s.message();
  EXPECT_EQ(Names(), (std::set<std::string>{"app1.key"}));
  EXPECT_EQ(Slurp(Path("app1.key/inside")), "kept\n");
}

TEST_F(WriteFileAtomicallyTest, AMissingDirectoryIsAnErrorNamingThePath) {
  const Status s = WriteFileAtomically(Path("absent/app1.key"), "x", 0600);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(Path("absent/app1.key")), std::string::npos) << s.message();
  EXPECT_EQ(Names(), std::set<std::string>{});
}


// WriteDirectoryAtomically fills a private temporary directory (mkdtemp) and
// renames it into place.
TEST_F(WriteFileAtomicallyTest, ADirectoryGetsTheUsualModeAndLeavesNoTemporaryDirectory) {
  ::umask(027);
  const Status s = WriteDirectoryAtomically(Path("out"), {{"a.yaml", "a: 1\n"}, {"sub/b.yaml", "b: 2\n"}});
  ::umask(saved_umask_);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ModeOf(Path("out")), 0750u);
  EXPECT_EQ(Slurp(Path("out/sub/b.yaml")), "b: 2\n");
  EXPECT_EQ(Names(), std::set<std::string>{"out"});

  // Refused (not empty): nothing is left beside it.
  ASSERT_FALSE(WriteDirectoryAtomically(Path("out"), {{"c.yaml", "c: 3\n"}}).ok());
  EXPECT_EQ(Names(), std::set<std::string>{"out"});
}

}  // namespace
}  // namespace zkpilot
