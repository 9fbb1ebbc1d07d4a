# The local platform and the verbs that act on running clusters: plans and
# their executor, health, the supervisor, hooks, deploy/delete/status.
add_library(zkpilot_local
  src/plan/plan.cc
  src/plan/executor.cc
  src/plan/change_planner.cc
  src/observe/health.cc
  src/platform/local/paths.cc
  src/platform/local/process.cc
  src/platform/local/supervisor.cc
  src/platform/local/services.cc
  src/platform/local/topology.cc
  src/platform/local/hooks.cc
  src/platform/local/local_platform.cc
  src/actions/deploy_action.cc
  src/actions/delete_action.cc
  src/actions/status_action.cc
  src/actions/change_action.cc
)
target_link_libraries(zkpilot_local PUBLIC zkpilot_core zkpilot_state zkpilot_zk zkpilot_distribution zkpilot_exporter)
target_link_libraries(zkpilot PRIVATE zkpilot_local)

add_executable(zkpilot_local_tests
  src/observe/health_test.cc
  src/plan/change_planner_test.cc
  tests/local_platform_test.cc
  tests/local_test_util.cc
)
target_link_libraries(zkpilot_local_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_local_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_local_tests zkpilot)
include(GoogleTest)
gtest_discover_tests(zkpilot_local_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES LABELS integration TIMEOUT 600
  DISCOVERY_TIMEOUT 60)
