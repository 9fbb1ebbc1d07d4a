// The operation lock's account of who holds it, without a cluster: the
// test holds the lock itself through a second open file description (flock
// locks belong to those, so one process can contend with itself) and writes
// what a holder's line may say.
#include "platform/local/operation_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

class OperationLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zkpilot-oplock-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    home_ = tmpl;
  }
  void TearDown() override {
    if (held_ >= 0) ::close(held_);
    fs::remove_all(home_);
  }
  // Takes demo's lock as another command would, its file saying `line`.
  void HoldWith(const std::string& line) {
    fs::create_directories(home_ + "/locks");
    held_ = ::open((home_ + "/locks/demo.lock").c_str(), O_RDWR | O_CREAT, 0600);
    ASSERT_GE(held_, 0);
    ASSERT_EQ(::flock(held_, LOCK_EX | LOCK_NB), 0);
    ASSERT_EQ(::ftruncate(held_, 0), 0);
    ASSERT_EQ(::pwrite(held_, line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
  }
  // This process's start time in clock ticks (proc(5), field 22).
  static std::string OwnStartTicks() {
    std::ifstream in("/proc/self/stat");
    std::string stat;
    std::getline(in, stat);
    std::istringstream fields(stat.substr(stat.rfind(')') + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) fields >> field;
    return field;
  }

  std::string home_;
  int held_ = -1;
};

// A line left by a command that has ended (its PID gone, or now another
// process's) is not who holds the lock now: the refusal must not name it,
// nor must `delete --force` act on it.
TEST_F(OperationLockTest, ALineOfACommandThatEndedIsNotTakenForTheHolder) {
  HoldWith(std::to_string(::getpid()) + " upgrade 1 1\n");  // our PID, another start time
  auto refused = OperationLock::Acquire(home_, "demo", "configure");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kConflict);
  EXPECT_NE(refused.status().message().find("being changed by another zkpilot command"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(refused.status().message().find("`upgrade`"), std::string::npos) << refused.status().message();
  EXPECT_EQ(HeldOperationLock(home_, "demo")->pid, 0);

  auto forced = OperationLock::Acquire(home_, "demo", "delete", LockTakeover::kKill);
  ASSERT_FALSE(forced.ok());
  EXPECT_NE(forced.status().message().find("cannot force: pid " + std::to_string(::getpid()) +
                                           " is not the command that took"),
            std::string::npos)
      << forced.status().message();
}

TEST_F(OperationLockTest, TheHoldersOwnLineNamesIt) {
  HoldWith(std::to_string(::getpid()) + " upgrade 1 " + OwnStartTicks() + "\n");
  auto refused = OperationLock::Acquire(home_, "demo", "configure");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("demo is being changed by `upgrade` (zkpilot pid " +
                                            std::to_string(::getpid()) + ")"),
            std::string::npos)
      << refused.status().message();
  auto holder = HeldOperationLock(home_, "demo");
  ASSERT_TRUE(holder.has_value());
  EXPECT_EQ(holder->pid, ::getpid());
  EXPECT_EQ(holder->verb, "upgrade");
}

// A command that ends leaves no line behind for the next holder's rivals.
TEST_F(OperationLockTest, ReleaseLeavesNoLine) {
  {
    auto lock = OperationLock::Acquire(home_, "demo", "restart");
    ASSERT_TRUE(lock.ok()) << lock.status().message();
    EXPECT_GT(fs::file_size(home_ + "/locks/demo.lock"), 0u);
  }
  EXPECT_EQ(fs::file_size(home_ + "/locks/demo.lock"), 0u);
  EXPECT_FALSE(HeldOperationLock(home_, "demo").has_value());
}

}  // namespace
}  // namespace zkpilot
