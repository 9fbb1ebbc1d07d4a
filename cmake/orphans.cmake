# The state directory as the source of truth (platform/local/state_identity.h,
# platform/local/orphans.h): a unit test of the supervisor's database check,
# and the real binary against real ZooKeeper with state.db deleted or replaced.
include(GoogleTest)

add_executable(zkpilot_state_identity_tests src/platform/local/state_identity_test.cc)
target_link_libraries(zkpilot_state_identity_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_state_identity_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

add_executable(zkpilot_orphans_tests tests/orphans_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_orphans_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_orphans_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_orphans_tests zkpilot)
gtest_discover_tests(zkpilot_orphans_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_LIST zkpilot_orphans_test_list
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 60)
set(zkpilot_orphans_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_orphans_labels.cmake")
file(WRITE "${zkpilot_orphans_labels}"
  "if(zkpilot_orphans_test_list)\n"
  "  set_tests_properties(\${zkpilot_orphans_test_list} PROPERTIES LABELS \"integration;local\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_orphans_labels}")
