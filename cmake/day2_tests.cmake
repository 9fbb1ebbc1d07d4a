# Day-2 operations end to end: the write checker (tests/write_checker/) and
# the tests that upgrade, roll back, reconfigure, scale, resume and repair
# real local ensembles with the zkpilot binary while the checker writes.

add_library(zkpilot_write_checker tests/write_checker/write_checker.cc)
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
gtest_discover_tests(zkpilot_day2_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES LABELS "integration;zookeeper" TIMEOUT 900
  DISCOVERY_TIMEOUT 60)
