# The local platform's PKI files (src/platform/local/local_pki.h) and the
# commands that hand certificates to clients: `zkpilot certs` and `zkpilot
# connect` (src/actions/certs_action.h, their local front
# src/platform/local/local_certs.cc, the command line src/cli/certs_command.h).
# After local.cmake (its targets) in the modules' order.
target_sources(zkpilot_local PRIVATE
  src/platform/local/local_pki.cc
  src/platform/local/local_certs.cc
  src/actions/certs_action.cc
)
target_link_libraries(zkpilot_local PUBLIC zkpilot_security OpenSSL::Crypto)
target_sources(zkpilot PRIVATE src/cli/certs_command.cc)

include(GoogleTest)

# What EnsureLocalPki creates, keeps and issues again (files only: fast).
add_executable(zkpilot_local_pki_tests src/platform/local/local_pki_test.cc)
target_link_libraries(zkpilot_local_pki_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
gtest_discover_tests(zkpilot_local_pki_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

# `certs` and `connect` through the real binary on deployed clusters, the
# issued files checked with the openssl CLI (one JVM per test: serial).
add_executable(zkpilot_certs_tests tests/certs_test.cc tests/local_test_util.cc)
target_link_libraries(zkpilot_certs_tests PRIVATE zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_certs_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
add_dependencies(zkpilot_certs_tests zkpilot)
gtest_discover_tests(zkpilot_certs_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE LABELS integration
  DISCOVERY_TIMEOUT 60)
