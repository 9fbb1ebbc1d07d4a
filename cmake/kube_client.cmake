# The Kubernetes API client (src/platform/kubernetes/kube_client.h):
# libcurl for HTTPS, Boost.Beast (header-only) over OpenSSL for pods/exec.
# Debian packages: libcurl4-openssl-dev, libboost-dev, libssl-dev.
# Tests: the kubeconfig parser alone (unit), and the client against a
# kube-sim cluster of its own (tests/kube-sim; root, node, kubectl).

find_package(CURL REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(Threads REQUIRED)

add_library(zkpilot_kube_client
  src/platform/kubernetes/kubeconfig.cc
  src/platform/kubernetes/kube_client.cc
  src/platform/kubernetes/kube_client_credentials.cc
  src/platform/kubernetes/kube_client_http.cc
  src/platform/kubernetes/exec_ws.cc
)
target_link_libraries(zkpilot_kube_client
  PUBLIC zkpilot_core nlohmann_json::nlohmann_json
  PRIVATE CURL::libcurl OpenSSL::SSL OpenSSL::Crypto Boost::headers Threads::Threads)

# Pure: kubeconfig merging and resolution, URLs, proxies, error wording.
add_executable(zkpilot_kubeconfig_tests
  src/platform/kubernetes/kubeconfig_test.cc
)
target_link_libraries(zkpilot_kubeconfig_tests PRIVATE zkpilot_kube_client GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_kubeconfig_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
include(GoogleTest)
gtest_discover_tests(zkpilot_kubeconfig_tests TEST_PREFIX "kube_client_unit." DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)

# Against a real kube-sim cluster: one cluster for the whole binary (a gtest
# Environment), so the binary is one CTest test.
find_program(KUBE_CLIENT_NODE node)
add_executable(zkpilot_kube_client_tests
  src/platform/kubernetes/kube_client_test.cc
  src/platform/kubernetes/kube_client_auth_test.cc
)
target_link_libraries(zkpilot_kube_client_tests PRIVATE zkpilot_kube_client GTest::gtest Threads::Threads)
target_compile_definitions(zkpilot_kube_client_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
if(KUBE_CLIENT_NODE)
  add_test(NAME kube_client_integration COMMAND zkpilot_kube_client_tests)
  set_tests_properties(kube_client_integration PROPERTIES LABELS "kube-sim;integration" RUN_SERIAL TRUE
    TIMEOUT 600 ENVIRONMENT "KUBE_SIM_BACKOFF_BASE_MS=300")
else()
  message(WARNING "node not found: the Kubernetes client's tests against kube-sim are not registered")
endif()
