# The Kubernetes resources of zkpilot (src/platform/kubernetes/): the
# ZooKeeperCluster resource (structs, JSON, values and record conversions),
# its CRD generated from a package's parameter schema, packages stored as
# ConfigMaps, and the operator's install manifests with the
# `operator manifests` verb (src/actions/operator_manifests_action). Pure: no
# API calls, so every test here is a fast unit test; the conformance script
# tests/kube-sim/conformance/crd_zookeepercluster.sh applies the output to the
# test cluster.
#
# The records' status names live with the state store (zkpilot_state, which
# state.cmake defines after this file): linked when that target exists.
add_library(zkpilot_kube_resources
  src/platform/kubernetes/cluster_resource.cc
  src/platform/kubernetes/cluster_records.cc
  src/platform/kubernetes/crd.cc
  src/platform/kubernetes/package_configmaps.cc
  src/platform/kubernetes/operator_manifests.cc
  src/actions/operator_manifests_action.cc
)
target_link_libraries(zkpilot_kube_resources
  PUBLIC zkpilot_core $<TARGET_NAME_IF_EXISTS:zkpilot_state>
  PRIVATE OpenSSL::Crypto)
target_link_libraries(zkpilot PRIVATE zkpilot_kube_resources)

add_executable(zkpilot_kube_resources_tests
  src/platform/kubernetes/cluster_resource_test.cc
  src/platform/kubernetes/crd_test.cc
  src/platform/kubernetes/package_configmaps_test.cc
  src/platform/kubernetes/operator_manifests_test.cc
  src/actions/operator_manifests_action_test.cc
)
target_link_libraries(zkpilot_kube_resources_tests PRIVATE zkpilot_kube_resources GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_kube_resources_tests PRIVATE ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
include(GoogleTest)
gtest_discover_tests(zkpilot_kube_resources_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)

# A small driver for the conformance script: the manifests, a package's
# ConfigMaps and sample ZooKeeperCluster objects, as the operator and the
# CLI build them (until `zkpilot operator manifests` is wired, and for the
# objects the CLI has no verb to print).
add_executable(zkpilot_kube_manifests tests/kube_manifests/kube_manifests_main.cc)
target_link_libraries(zkpilot_kube_manifests PRIVATE zkpilot_kube_resources CLI11::CLI11)
