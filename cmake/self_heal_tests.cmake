# Self-healing of local clusters without a command: a killed supervisor or
# guardian comes back by itself, a hung server is killed and restarted
# (platform/local/guardian.h, platform/local/liveness.h).
add_executable(zkpilot_self_heal_tests tests/self_heal_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_self_heal_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_self_heal_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_self_heal_tests zkpilot)
include(GoogleTest)
# Real ZooKeeper; timing (liveness timeouts) is the test's, not the machine's.
gtest_discover_tests(zkpilot_self_heal_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE LABELS integration
  DISCOVERY_TIMEOUT 60)

# LivenessMonitor's verdicts against fake servers on 127.0.0.1 (no JVM) and the
# systemd unit the supervisor asks for.
add_executable(zkpilot_self_heal_unit_tests src/platform/local/liveness_test.cc src/platform/local/guardian_test.cc)
target_link_libraries(zkpilot_self_heal_unit_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_self_heal_unit_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
