# Switching TLS on a running local cluster and back (tests/tls_migration_test.cc):
# the real binary against real 3-server ZooKeeper 3.8.0 and 3.9.3 ensembles
# while the write checker (day2_tests.cmake) writes, moving to TLS and back.
# Long (several rolling restarts per test): labels "integration;local" like the
# other slow local suites, set after discovery (gtest_discover_tests would split
# a list in PROPERTIES); three JVMs and a writer per test: one test at a time.
if(TARGET zkpilot_write_checker)
  add_executable(zkpilot_tls_migration_tests tests/tls_migration_test.cc tests/local_test_util.cc)
  target_link_libraries(zkpilot_tls_migration_tests PRIVATE zkpilot_local zkpilot_write_checker
    GTest::gtest GTest::gtest_main)
  target_compile_definitions(zkpilot_tls_migration_tests PRIVATE
    ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>"
    ZKPILOT_WRITE_CHECK="$<TARGET_FILE:zkpilot-write-check>")
  add_dependencies(zkpilot_tls_migration_tests zkpilot zkpilot-write-check)
  include(GoogleTest)
  gtest_discover_tests(zkpilot_tls_migration_tests
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    TEST_LIST zkpilot_tls_migration_test_list
    PROPERTIES TIMEOUT 1800 RUN_SERIAL TRUE
    DISCOVERY_TIMEOUT 60)
  set(zkpilot_tls_migration_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_tls_migration_labels.cmake")
  file(WRITE "${zkpilot_tls_migration_labels}"
    "if(zkpilot_tls_migration_test_list)\n"
    "  set_tests_properties(\${zkpilot_tls_migration_test_list} PROPERTIES LABELS \"integration;local\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_tls_migration_labels}")
endif()
