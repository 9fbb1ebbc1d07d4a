# Day-2 operations end to end: the write checker (tests/write_checker/) and
# the tests that upgrade, roll back, reconfigure, scale, resume and repair
# real local ensembles with the zkpilot binary while the checker writes.

add_library(zkpilot_write_checker tests/write_checker/write_checker.cc tests/write_checker/server_log.cc)
target_include_directories(zkpilot_write_checker PUBLIC tests)
target_link_libraries(zkpilot_write_checker PUBLIC zkpilot_zk)

add_executable(zkpilot_write_checker_tests tests/write_checker/write_checker_test.cc)
target_link_libraries(zkpilot_write_checker_tests PRIVATE zkpilot_write_checker GTest::gtest GTest::gtest_main)
include(GoogleTest)
gtest_discover_tests(zkpilot_write_checker_tests PROPERTIES LABELS "unit" DISCOVERY_TIMEOUT 60)

# tests/local_test_util.cc: running programs, free ports, finding processes
# (the helpers the local platform's own end-to-end tests use).
add_executable(zkpilot_day2_tests tests/day2_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_day2_tests PRIVATE zkpilot_local zkpilot_write_checker GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_day2_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_day2_tests zkpilot)
# Real ZooKeeper ensembles. Both labels are set after discovery:
# gtest_discover_tests flattens PROPERTIES, so LABELS "integration;zookeeper"
# would end up as LABELS integration plus a bogus property "zookeeper".
gtest_discover_tests(zkpilot_day2_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_LIST zkpilot_day2_test_list
  # Each scenario runs up to five JVMs and a writer; on a 2-core machine two at
  # once would measure the machine, not zkpilot.
  PROPERTIES TIMEOUT 900 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 60)
set(zkpilot_day2_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_day2_labels.cmake")
file(WRITE "${zkpilot_day2_labels}"
  "if(zkpilot_day2_test_list)\n"
  "  set_tests_properties(\${zkpilot_day2_test_list} PROPERTIES LABELS \"integration;zookeeper;local\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_day2_labels}")
