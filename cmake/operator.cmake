# The operator (`zkpilot operator`, src/platform/kubernetes/operator.h): the
# reconcile loop of ZooKeeperCluster resources — watch, work queue, leader
# election with a Lease, health endpoints — and the reconciler that runs the
# action cores with the Kubernetes platform and release store.
#
# Tests: the pure parts (queue and backoff, lease decisions, kind-of-change
# inference, conditions, the reconciler against fakes, flags) are unit tests;
# the health server talks HTTP on 127.0.0.1; `zkpilot operator` itself runs
# against a kube-sim cluster of its own (in a pod as its manifests install it;
# two replicas and their Lease; refused resources; deploy, change, restart,
# delete; an operator killed mid-roll) — RUN_SERIAL, as every kube-sim suite.
if(NOT TARGET PkgConfig::CPP_HTTPLIB)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

add_library(zkpilot_operator
  src/platform/kubernetes/work_queue.cc
  src/platform/kubernetes/lease.cc
  src/platform/kubernetes/health_server.cc
  src/platform/kubernetes/reconciler.cc
  src/platform/kubernetes/cluster_api.cc
  src/platform/kubernetes/operator.cc
  src/platform/kubernetes/operator_backend.cc
  src/platform/kubernetes/operator_cores.cc
  src/actions/operator_action.cc
)
target_link_libraries(zkpilot_operator
  PUBLIC zkpilot_core zkpilot_kube_client zkpilot_kube_resources
         zkpilot_kube_platform zkpilot_actions
  PRIVATE PkgConfig::CPP_HTTPLIB fmt::fmt spdlog::spdlog)
target_link_libraries(zkpilot PRIVATE zkpilot_operator)

include(GoogleTest)
add_executable(zkpilot_operator_unit_tests
  src/platform/kubernetes/work_queue_test.cc
  src/platform/kubernetes/lease_test.cc
  src/platform/kubernetes/reconciler_test.cc
  src/actions/operator_action_test.cc
)
target_link_libraries(zkpilot_operator_unit_tests PRIVATE zkpilot_operator GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_operator_unit_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
gtest_discover_tests(zkpilot_operator_unit_tests
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)

add_executable(zkpilot_operator_http_tests src/platform/kubernetes/health_server_test.cc)
target_link_libraries(zkpilot_operator_http_tests PRIVATE zkpilot_operator PkgConfig::CPP_HTTPLIB
  GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_operator_http_tests
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS integration TIMEOUT 120)

# Against kube-sim: one cluster for the binary (a gtest Environment), the
# operator run as `zkpilot operator` (two replicas; --once; the loop; in a
# pod as its manifests install it).
find_program(OPERATOR_TEST_NODE node)
add_executable(zkpilot_operator_kube_tests src/platform/kubernetes/operator_test.cc)
target_link_libraries(zkpilot_operator_kube_tests PRIVATE zkpilot_operator PkgConfig::CPP_HTTPLIB
  GTest::gtest Threads::Threads)
target_compile_definitions(zkpilot_operator_kube_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_operator_kube_tests zkpilot)
if(OPERATOR_TEST_NODE)
  add_test(NAME operator_kube_sim COMMAND zkpilot_operator_kube_tests)
  set_tests_properties(operator_kube_sim PROPERTIES LABELS "kube-sim;integration" RUN_SERIAL TRUE
    TIMEOUT 900 ENVIRONMENT "KUBE_SIM_BACKOFF_BASE_MS=300")
endif()
