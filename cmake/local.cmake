# The platform interface, the verbs that act on clusters (on any platform),
# and the local platform.
#
#   zkpilot_platform  platform/platform.h's shared parts: the system clock,
#                     ZooKeeper sessions and srvr readings, health
#   zkpilot_actions   plans, their executor and planners, the step runner,
#                     hooks, and the verbs' cores (actions/cluster_actions.h)
#   zkpilot_local     the local platform (supervisor, processes) and the
#                     command line's local front (platform/local/local_actions.h)
#   zkpilot_fake_platform  the in-memory platform of the unit tests
add_library(zkpilot_platform
  src/platform/platform.cc
  src/observe/health.cc
  src/observe/log_cause.cc
)
target_link_libraries(zkpilot_platform PUBLIC zkpilot_core zkpilot_zk)

add_library(zkpilot_actions
  src/plan/plan.cc
  src/plan/steps.cc
  src/plan/executor.cc
  src/plan/change_planner.cc
  src/plan/tls_planner.cc
  src/plan/quorum_auth_planner.cc
  src/actions/observe.cc
  src/actions/hooks.cc
  src/actions/step_runner.cc
  src/actions/tls_steps.cc
  src/actions/releases.cc
  src/actions/deploy_action.cc
  src/actions/delete_action.cc
  src/actions/status_action.cc
  src/actions/change_action.cc
)
target_link_libraries(zkpilot_actions PUBLIC zkpilot_core zkpilot_platform zkpilot_state)

# SASL settings, credentials and JAAS files (platform/local/local_auth.h)
# and the local platform's file helpers they use: also what the Kubernetes
# platform reads auth.* and writes the JAAS file with (kube_auth.h).
add_library(zkpilot_local_auth
  src/platform/local/local_files.cc
  src/platform/local/local_auth.cc
  src/platform/local/zoo_cfg.cc
)
target_link_libraries(zkpilot_local_auth PUBLIC zkpilot_core)

add_library(zkpilot_local
  src/platform/local/paths.cc
  src/platform/local/process.cc
  src/platform/local/cds.cc
  src/platform/local/jar_manifest.cc
  src/platform/local/operation_lock.cc
  src/platform/local/port_registry.cc
  src/platform/local/supervisor.cc
  src/platform/local/certificate_roll.cc
  src/platform/local/state_identity.cc
  src/platform/local/orphans.cc
  src/platform/local/guardian.cc
  src/platform/local/liveness.cc
  src/platform/local/services.cc
  src/platform/local/topology.cc
  src/platform/local/local_tls.cc
  src/platform/local/file_actions.cc
  src/platform/local/port_owner.cc
  src/platform/local/local_platform.cc
  src/platform/local/local_addons.cc
  src/platform/local/local_actions.cc
)
# libzip: reading jar manifests (platform/local/jar_manifest.h)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
target_link_libraries(zkpilot_local PUBLIC zkpilot_local_auth zkpilot_actions zkpilot_state zkpilot_zk zkpilot_distribution
  zkpilot_exporter PRIVATE PkgConfig::LIBZIP)
target_link_libraries(zkpilot PRIVATE zkpilot_local)
# The local front of `alerts` and `dashboards` (actions/monitoring_action.h)
# goes with them into zkpilot_alerts (alerts.cmake), which links zkpilot_local.
target_sources(zkpilot_alerts PRIVATE src/platform/local/local_monitoring.cc)

add_library(zkpilot_fake_platform src/platform/fake_platform.cc)
target_link_libraries(zkpilot_fake_platform PUBLIC zkpilot_platform)

include(GoogleTest)

# Fast: pure planners and health, the executor, the step runner and every
# verb against the fake platform (no process, no socket).
add_executable(zkpilot_action_tests
  src/observe/health_test.cc
  src/observe/log_cause_test.cc
  src/plan/change_planner_test.cc
  src/plan/tls_planner_test.cc
  src/plan/quorum_auth_planner_test.cc
  src/plan/executor_test.cc
  src/actions/step_runner_test.cc
  src/actions/tls_steps_test.cc
  src/actions/cluster_actions_test.cc
)
target_link_libraries(zkpilot_action_tests PRIVATE zkpilot_actions zkpilot_fake_platform GTest::gtest
  GTest::gtest_main)
gtest_discover_tests(zkpilot_action_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

# The real binary against real ZooKeeper (labels "integration;local", set
# after discovery: gtest_discover_tests would split a list in PROPERTIES).
add_executable(zkpilot_local_tests
  tests/local_platform_test.cc
  tests/identity_test.cc
  tests/privilege_test.cc
  tests/validate_first_test.cc
  tests/local_test_util.cc
)
target_link_libraries(zkpilot_local_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_local_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_local_tests zkpilot)
gtest_discover_tests(zkpilot_local_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  TEST_LIST zkpilot_local_test_list
  # Three JVMs per test: one test at a time.
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 60)
set(zkpilot_local_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_local_labels.cmake")
file(WRITE "${zkpilot_local_labels}"
  "if(zkpilot_local_test_list)\n"
  "  set_tests_properties(\${zkpilot_local_test_list} PROPERTIES LABELS \"integration;local\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_local_labels}")

# The operation lock's account of its holder (src/platform/local/operation_lock.h).
add_executable(zkpilot_operation_lock_tests src/platform/local/operation_lock_test.cc)
target_link_libraries(zkpilot_operation_lock_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_operation_lock_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

# Jar manifests' Class-Path (src/platform/local/jar_manifest.h): unit tests.
add_executable(zkpilot_jar_manifest_tests src/platform/local/jar_manifest_test.cc)
target_link_libraries(zkpilot_jar_manifest_tests PRIVATE zkpilot_local PkgConfig::LIBZIP GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_jar_manifest_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

# Class-data archives and process stops (src/platform/local/cds.h, process.h):
# unit tests, and integration tests that start a real ZooKeeper JVM.
add_executable(zkpilot_cds_tests src/platform/local/cds_test.cc)
target_link_libraries(zkpilot_cds_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_cds_tests
  TEST_FILTER "-*Integration*"
  TEST_LIST zkpilot_cds_unit_tests
  PROPERTIES LABELS unit
  DISCOVERY_TIMEOUT 60)
gtest_discover_tests(zkpilot_cds_tests
  TEST_FILTER "*Integration*"
  TEST_LIST zkpilot_cds_integration_tests
  PROPERTIES LABELS integration TIMEOUT 300 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 60)

# The port registry (src/platform/local/port_registry.h) end to end: two
# homes, real ZooKeeper; one test at a time like the other local tests.
add_executable(zkpilot_port_tests tests/port_registry_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_port_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_port_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_port_tests zkpilot)
gtest_discover_tests(zkpilot_port_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE LABELS "integration"
  DISCOVERY_TIMEOUT 60)
