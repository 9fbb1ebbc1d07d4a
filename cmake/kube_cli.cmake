# The command line's verbs with --platform kubernetes (src/actions/kube_*):
# validate locally, write the ZooKeeperCluster's spec and the package's
# ConfigMaps, follow the status the operator writes; the read-only views.
# Tests: the pure parts (views, spec changes, progress from status
# snapshots) as unit tests; the API writes against a kube-sim cluster of
# their own (root, node, kubectl).

add_library(zkpilot_kube_cli
  src/actions/kube_objects.cc
  src/actions/kube_cluster_view.cc
  src/actions/kube_follow.cc
  src/actions/kube_spec.cc
  src/actions/kube_writes.cc
  src/actions/kube_cluster_reads.cc
  src/actions/kube_deploy.cc
  src/actions/kube_change.cc
  src/actions/kube_commands.cc
  src/actions/kube_read_commands.cc
)
# zkpilot_local: the plan, its ProgressSink and the change planner;
# zkpilot_alerts: parsing and formatting Prometheus's alerts.
target_link_libraries(zkpilot_kube_cli
  PUBLIC zkpilot_core zkpilot_kube_client zkpilot_kube_resources zkpilot_local zkpilot_alerts
  PRIVATE fmt::fmt)
target_link_libraries(zkpilot PRIVATE zkpilot_kube_cli)
# The command line's Kubernetes side: --platform flags, `operator`, `operator manifests`.
target_sources(zkpilot PRIVATE src/cli/kube_dispatch.cc)

add_executable(zkpilot_kube_cli_tests
  src/actions/kube_cluster_view_test.cc
  src/actions/kube_follow_test.cc
  src/actions/kube_spec_test.cc
)
target_link_libraries(zkpilot_kube_cli_tests PRIVATE zkpilot_kube_cli GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_kube_cli_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
include(GoogleTest)
gtest_discover_tests(zkpilot_kube_cli_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)

# Against a real kube-sim cluster: one cluster for the whole binary (a gtest
# Environment), so the binary is one CTest test.
find_program(KUBE_CLI_NODE node)
add_executable(zkpilot_kube_cli_integration_tests
  src/actions/kube_commands_integration_test.cc
  src/actions/kube_views_integration_test.cc
)
target_link_libraries(zkpilot_kube_cli_integration_tests PRIVATE zkpilot_kube_cli GTest::gtest Threads::Threads)
target_compile_definitions(zkpilot_kube_cli_integration_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(KUBE_CLI_NODE)
  add_test(NAME kube_cli_integration COMMAND zkpilot_kube_cli_integration_tests)
  set_tests_properties(kube_cli_integration PROPERTIES LABELS "kube-sim;integration" RUN_SERIAL TRUE
    TIMEOUT 900 ENVIRONMENT "KUBE_SIM_BACKOFF_BASE_MS=300")
else()
  message(WARNING "node not found: the Kubernetes commands' tests against kube-sim are not registered")
endif()
