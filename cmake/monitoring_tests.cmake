# Monitoring of local clusters end to end: real ZooKeeper, Prometheus and
# Alertmanager, the package's alert rules firing and resolving.
add_executable(zkpilot_monitoring_tests tests/monitoring_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_monitoring_tests PRIVATE zkpilot_alerts zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_monitoring_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_monitoring_tests zkpilot)
include(GoogleTest)
# The node-down alert needs its `for: 2m`; run alone so timing is the rule's, not the machine's.
gtest_discover_tests(zkpilot_monitoring_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE LABELS integration
  DISCOVERY_TIMEOUT 60)

# bench/exporter (not a test): scripts/bench-exporter.sh
if(benchmark_FOUND)
  add_executable(bench_exporter bench/exporter_bench.cc)
  target_link_libraries(bench_exporter PRIVATE zkpilot_exporter zkpilot_zk_fixture benchmark::benchmark)
endif()
