# bench/roll: zkpilot's rolling upgrade, rolling restart and scale-up against a
# naive roll of the same JVMs, under continuous writes (bench/roll_bench.cc).
# Run by scripts/bench-roll.sh; not a test (it takes minutes and needs
# ZooKeeper 3.9.3). bench/java/RollWriter.java is compiled by the benchmark at
# run time, against the jars of the distribution it runs. The pure parts
# (LOOKING counting, result parsing, targets) have unit tests.
add_library(bench_roll_lib STATIC
  bench/roll_observe.cc
  bench/roll_report.cc
  bench/roll_util.cc)
target_include_directories(bench_roll_lib PUBLIC bench)
target_link_libraries(bench_roll_lib PUBLIC zkpilot_write_checker zkpilot_local
  PRIVATE zkpilot_zookeeper_mt)

add_executable(bench_roll bench/roll_bench.cc)
target_link_libraries(bench_roll PRIVATE bench_roll_lib)
target_compile_definitions(bench_roll PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(bench_roll zkpilot)

add_executable(bench_roll_tests bench/roll_observe_test.cc)
target_link_libraries(bench_roll_tests PRIVATE bench_roll_lib GTest::gtest GTest::gtest_main)
gtest_discover_tests(bench_roll_tests PROPERTIES LABELS "unit" DISCOVERY_TIMEOUT 60)
