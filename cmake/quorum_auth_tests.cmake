# Switching quorum SASL on a running local ensemble and back, under the write
# checker (tests/quorum_auth_test.cc): real ZooKeeper 3.8.0 and 3.9.3.
add_executable(zkpilot_quorum_auth_tests tests/quorum_auth_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_quorum_auth_tests PRIVATE zkpilot_local zkpilot_write_checker GTest::gtest
  GTest::gtest_main)
target_compile_definitions(zkpilot_quorum_auth_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_quorum_auth_tests zkpilot)
include(GoogleTest)
gtest_discover_tests(zkpilot_quorum_auth_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_LIST zkpilot_quorum_auth_test_list
  # Three JVMs and a writer per scenario: one at a time on a small machine.
  PROPERTIES TIMEOUT 900 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 60)
set(zkpilot_quorum_auth_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_quorum_auth_labels.cmake")
file(WRITE "${zkpilot_quorum_auth_labels}"
  "if(zkpilot_quorum_auth_test_list)\n"
  "  set_tests_properties(\${zkpilot_quorum_auth_test_list} PROPERTIES LABELS \"integration;zookeeper;local\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_quorum_auth_labels}")
