# bench/roll: zkpilot's rolling upgrade, rolling restart and scale-up against a
# naive roll of the same JVMs, under continuous writes (bench/roll_bench.cc).
# Run by scripts/bench-roll.sh; not a test (it takes minutes and needs
# ZooKeeper 3.9.3). bench/java/RollWriter.java is compiled by the benchmark at
# run time, against the jars of the distribution it runs.
add_executable(bench_roll
  bench/roll_bench.cc
  bench/roll_observe.cc
  bench/roll_report.cc
  bench/roll_util.cc)
target_link_libraries(bench_roll PRIVATE zkpilot_write_checker zkpilot_local zkpilot_zookeeper_mt)
target_compile_definitions(bench_roll PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(bench_roll zkpilot)
