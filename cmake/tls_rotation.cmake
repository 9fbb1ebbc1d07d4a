# Server certificates renewed by a roll the supervisor starts
# (tests/tls_rotation_test.cc): the real binary against real ZooKeeper with
# tls.enabled and the write checker over TLS; three JVMs: one test at a time.
add_executable(zkpilot_tls_rotation_tests tests/tls_rotation_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_tls_rotation_tests PRIVATE zkpilot_local zkpilot_write_checker GTest::gtest
  GTest::gtest_main)
target_compile_definitions(zkpilot_tls_rotation_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_tls_rotation_tests zkpilot)
include(GoogleTest)
gtest_discover_tests(zkpilot_tls_rotation_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES TIMEOUT 900 RUN_SERIAL TRUE LABELS integration
  DISCOVERY_TIMEOUT 60)
