# Distributions: where the local platform gets the ZooKeeper JVM code of each
# version (src/platform/local/distribution.h, docs/distributions.md).
add_library(zkpilot_distribution src/platform/local/distribution.cc)
target_link_libraries(zkpilot_distribution PUBLIC zkpilot_core)

add_executable(zkpilot_distribution_tests src/platform/local/distribution_test.cc)
target_link_libraries(zkpilot_distribution_tests PRIVATE zkpilot_distribution GTest::gmock
  GTest::gtest GTest::gtest_main)

include(GoogleTest)
# Unit tests: no JVM, no network.
gtest_discover_tests(zkpilot_distribution_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_FILTER "-*DistributionIntegration*"
  TEST_LIST zkpilot_distribution_unit_tests
  PROPERTIES LABELS "unit"
  DISCOVERY_TIMEOUT 60)
# Integration tests: start a real ZooKeeper JVM of each distribution on
# 127.0.0.1 (`ctest -L integration`, or `-LE integration` to leave them out).
# debian-3.9.3 needs `scripts/fetch-zookeeper.sh 3.9.3` first, else it skips.
gtest_discover_tests(zkpilot_distribution_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_FILTER "*DistributionIntegration*"
  TEST_LIST zkpilot_distribution_integration_tests
  PROPERTIES LABELS integration TIMEOUT 300
  DISCOVERY_TIMEOUT 60)
