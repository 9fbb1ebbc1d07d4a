# tests/soak/: a bounded random soak of the local platform (operations and
# faults on two clusters under writes). Not a CTest test: it runs for minutes;
# scripts/soak.sh runs it, and CI runs that after the suite.
if(TARGET zkpilot_write_checker)
  add_executable(zkpilot_soak tests/soak/soak_main.cc tests/local_test_util.cc)
  target_include_directories(zkpilot_soak PRIVATE tests)
  target_link_libraries(zkpilot_soak PRIVATE zkpilot_local zkpilot_write_checker CLI11::CLI11)
  target_compile_definitions(zkpilot_soak PRIVATE
    ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
  add_dependencies(zkpilot_soak zkpilot)
endif()
