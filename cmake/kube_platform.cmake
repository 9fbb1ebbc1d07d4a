# The Kubernetes platform (src/platform/kubernetes/kube_platform.h): the
# Platform of one ensemble on a Kubernetes cluster, and the ReleaseStore kept
# in the cluster itself (kube_release_store.h: the ZooKeeperCluster's status
# and its ControllerRevisions).
#
# Tests: the pure part (objects, conflict messages) as unit tests; the
# platform and the store against a kube-sim cluster of their own (one per test
# binary), run through `kube-sim run` so that the ZooKeeper pods are reachable
# (root, node, kubectl).

add_library(zkpilot_kube_platform
  src/platform/kubernetes/kube_platform_objects.cc
  src/platform/kubernetes/kube_auth.cc
  src/platform/kubernetes/kube_certmanager.cc
  src/platform/kubernetes/kube_platform.cc
  src/platform/kubernetes/kube_platform_access.cc
  src/platform/kubernetes/kube_release_store.cc
  src/platform/kubernetes/kube_tls.cc
)
target_link_libraries(zkpilot_kube_platform
  PUBLIC zkpilot_core zkpilot_kube_client zkpilot_kube_resources zkpilot_zk zkpilot_security zkpilot_local_auth
         $<TARGET_NAME_IF_EXISTS:zkpilot_platform> $<TARGET_NAME_IF_EXISTS:zkpilot_state>
  PRIVATE OpenSSL::Crypto)
target_compile_features(zkpilot_kube_platform PUBLIC cxx_std_20)

add_executable(zkpilot_kube_platform_unit_tests
  src/platform/kubernetes/kube_platform_objects_test.cc
  src/platform/kubernetes/kube_auth_test.cc
  src/platform/kubernetes/kube_certmanager_test.cc
)
target_link_libraries(zkpilot_kube_platform_unit_tests PRIVATE zkpilot_kube_platform GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_kube_platform_unit_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
include(GoogleTest)
gtest_discover_tests(zkpilot_kube_platform_unit_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)

# Against kube-sim: one cluster per binary, and the whole binary run inside
# the cluster network (tests/kube_sim_fixture: the binary starts the cluster
# and runs itself again through `kube-sim run`), so each binary is one CTest
# test.
add_library(zkpilot_kube_sim_fixture tests/kube_sim_fixture/kube_sim_env.cc)
target_include_directories(zkpilot_kube_sim_fixture PUBLIC tests)
target_link_libraries(zkpilot_kube_sim_fixture PUBLIC zkpilot_kube_client)
target_compile_definitions(zkpilot_kube_sim_fixture PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

find_program(KUBE_PLATFORM_NODE node)
find_program(KUBE_PLATFORM_KUBECTL kubectl)
add_executable(zkpilot_kube_release_store_tests src/platform/kubernetes/kube_release_store_test.cc)
target_link_libraries(zkpilot_kube_release_store_tests PRIVATE zkpilot_kube_platform zkpilot_kube_sim_fixture
  GTest::gtest)
target_compile_definitions(zkpilot_kube_release_store_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_executable(zkpilot_kube_platform_tests src/platform/kubernetes/kube_platform_test.cc)
target_link_libraries(zkpilot_kube_platform_tests PRIVATE zkpilot_kube_platform zkpilot_kube_sim_fixture
  GTest::gtest)
target_compile_definitions(zkpilot_kube_platform_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(KUBE_PLATFORM_NODE AND KUBE_PLATFORM_KUBECTL)
  add_test(NAME kube_release_store_integration COMMAND zkpilot_kube_release_store_tests)
  set_tests_properties(kube_release_store_integration PROPERTIES LABELS "kube-sim;integration" RUN_SERIAL TRUE
    TIMEOUT 600)
  add_test(NAME kube_platform_integration COMMAND zkpilot_kube_platform_tests)
  set_tests_properties(kube_platform_integration PROPERTIES LABELS "kube-sim;integration;zookeeper" RUN_SERIAL TRUE
    TIMEOUT 900 ENVIRONMENT "KUBE_SIM_BACKOFF_BASE_MS=300")
else()
  message(WARNING "node or kubectl not found: the Kubernetes platform's tests against kube-sim are not registered")
endif()

# The cert-manager mode (kube_certmanager.h) against kube-sim with
# cert-manager's CRDs schema-only and the test as the issuer: its API, then a
# TLS ensemble (3.8.0) in its pods.
add_executable(zkpilot_kube_certmanager_tests src/platform/kubernetes/kube_certmanager_integration_test.cc)
target_link_libraries(zkpilot_kube_certmanager_tests PRIVATE zkpilot_kube_platform zkpilot_kube_sim_fixture
  GTest::gtest)
target_compile_definitions(zkpilot_kube_certmanager_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(KUBE_PLATFORM_NODE AND KUBE_PLATFORM_KUBECTL)
  add_test(NAME kube_certmanager_integration COMMAND zkpilot_kube_certmanager_tests)
  set_tests_properties(kube_certmanager_integration PROPERTIES LABELS "kube-sim;integration;zookeeper"
    RUN_SERIAL TRUE TIMEOUT 900 ENVIRONMENT "KUBE_SIM_BACKOFF_BASE_MS=300")
endif()

# The TLS Secrets (kube_tls.h) against kube-sim's API, and a TLS ensemble
# (3.8.0, 3.9.3) in its pods.
add_executable(zkpilot_kube_tls_tests src/platform/kubernetes/kube_tls_test.cc)
target_link_libraries(zkpilot_kube_tls_tests PRIVATE zkpilot_kube_platform zkpilot_kube_sim_fixture
  GTest::gtest)
target_compile_definitions(zkpilot_kube_tls_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(KUBE_PLATFORM_NODE AND KUBE_PLATFORM_KUBECTL)
  add_test(NAME kube_tls_integration COMMAND zkpilot_kube_tls_tests)
  set_tests_properties(kube_tls_integration PROPERTIES LABELS "kube-sim;integration;zookeeper" RUN_SERIAL TRUE
    TIMEOUT 1200 ENVIRONMENT "KUBE_SIM_BACKOFF_BASE_MS=300")
endif()

# zkpilot's own access to a TLS cluster (tls.enabled): deploy, a rolling
# configure and status through the verbs' cores, against kube-sim pods.
add_executable(zkpilot_kube_platform_tls_tests src/platform/kubernetes/kube_platform_tls_test.cc)
target_link_libraries(zkpilot_kube_platform_tls_tests PRIVATE zkpilot_kube_platform zkpilot_actions
  zkpilot_kube_sim_fixture GTest::gtest)
target_compile_definitions(zkpilot_kube_platform_tls_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(KUBE_PLATFORM_NODE AND KUBE_PLATFORM_KUBECTL)
  add_test(NAME kube_platform_tls_integration COMMAND zkpilot_kube_platform_tls_tests)
  set_tests_properties(kube_platform_tls_integration PROPERTIES
    LABELS "kube-sim;integration;zookeeper" RUN_SERIAL TRUE TIMEOUT 900
    ENVIRONMENT "KUBE_SIM_BACKOFF_BASE_MS=300")
endif()
