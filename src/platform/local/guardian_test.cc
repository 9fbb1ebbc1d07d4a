// The systemd side of the supervisor's supervision (guardian.h): the unit it
// asks for. The guardian side runs end to end in tests/self_heal_test.cc.
#include "platform/local/guardian.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace zkpilot {
namespace {

bool Has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

TEST(SystemdSupervisor, IsATransientUserUnitRestartedOnFailureThatLeavesTheServersRunning) {
  const auto argv = SystemdSupervisorCommand("/bin/zkpilot", "/home/u/state", "alpha");
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv.front(), "systemd-run");
  EXPECT_TRUE(Has(argv, "--user"));
  EXPECT_TRUE(Has(argv, "--collect"));  // a failed unit does not block the next start
  // Exit 0 (nothing to supervise, SIGTERM from delete) must end it for good.
  EXPECT_TRUE(Has(argv, "--property=Restart=on-failure"));
  EXPECT_TRUE(Has(argv, "--property=KillMode=process"));
  EXPECT_TRUE(Has(argv, "--setenv=ZKPILOT_SUPERVISED_BY=systemd"));
  const std::vector<std::string> tail(argv.end() - 5, argv.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"/bin/zkpilot", "supervise", "alpha", "--home", "/home/u/state"}));
  // One unit per cluster and state directory.
  auto unit = std::find_if(argv.begin(), argv.end(), [](const std::string& a) { return a.rfind("--unit=", 0) == 0; });
  ASSERT_NE(unit, argv.end());
  const auto other = SystemdSupervisorCommand("/bin/zkpilot", "/home/u/other", "alpha");
  EXPECT_FALSE(Has(other, *unit)) << *unit;
  EXPECT_EQ(unit->rfind("--unit=zkpilot-alpha-", 0), 0u) << *unit;
}

}  // namespace
}  // namespace zkpilot
