# TLS on the local platform (tests/tls_test.cc): the real binary against real
# ZooKeeper with tls.enabled, and real clients (kazoo, ZooKeeper's Java
# client, openssl s_client). Labels "integration;local" like the other slow
# local suites, set after discovery (gtest_discover_tests would split a list
# in PROPERTIES); three to five JVMs per test: one test at a time.
add_executable(zkpilot_tls_tests tests/tls_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_tls_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_tls_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_tls_tests zkpilot)
include(GoogleTest)
gtest_discover_tests(zkpilot_tls_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_LIST zkpilot_tls_test_list
  PROPERTIES TIMEOUT 900 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 60)
set(zkpilot_tls_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_tls_labels.cmake")
file(WRITE "${zkpilot_tls_labels}"
  "if(zkpilot_tls_test_list)\n"
  "  set_tests_properties(\${zkpilot_tls_test_list} PROPERTIES LABELS \"integration;local\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_tls_labels}")

# The TLS stages of a local server's zoo.cfg: rendering (golden files of
# stages 0 and 3) and classification (pure; no process).
add_executable(zkpilot_tls_stage_tests src/platform/local/tls_stage_test.cc)
target_link_libraries(zkpilot_tls_stage_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_tls_stage_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
gtest_discover_tests(zkpilot_tls_stage_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

# Stages 1 and 2 on a running cluster (tests/tls_stages_test.cc): the real
# binary against real ZooKeeper, three JVMs: one test at a time.
add_executable(zkpilot_tls_stages_tests tests/tls_stages_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_tls_stages_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_tls_stages_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_tls_stages_tests zkpilot)
gtest_discover_tests(zkpilot_tls_stages_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_LIST zkpilot_tls_stages_test_list
  PROPERTIES TIMEOUT 900 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 60)
set(zkpilot_tls_stages_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_tls_stages_labels.cmake")
file(WRITE "${zkpilot_tls_stages_labels}"
  "if(zkpilot_tls_stages_test_list)\n"
  "  set_tests_properties(\${zkpilot_tls_stages_test_list} PROPERTIES LABELS \"integration;local\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_tls_stages_labels}")

# The check that JAAS and credential files agree (platform/local/local_auth.h).
add_executable(zkpilot_local_auth_tests src/platform/local/local_auth_test.cc)
target_link_libraries(zkpilot_local_auth_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_local_auth_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
