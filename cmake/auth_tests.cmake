# SASL authentication of local clusters (platform/local/local_auth.h) end to
# end: real ZooKeeper, kazoo, ZooKeeper's Java client and the C client.
add_executable(zkpilot_auth_tests tests/auth_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_auth_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_auth_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_auth_tests zkpilot)
include(GoogleTest)
# Up to four JVMs per test: one test at a time, like the other local suites.
gtest_discover_tests(zkpilot_auth_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE LABELS integration
  DISCOVERY_TIMEOUT 60)

# A new cluster's defaults (TLS, SASL users) end to end: real ZooKeeper, kazoo.
add_executable(zkpilot_defaults_tests tests/defaults_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_defaults_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_defaults_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_defaults_tests zkpilot)
gtest_discover_tests(zkpilot_defaults_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE LABELS integration
  DISCOVERY_TIMEOUT 60)
