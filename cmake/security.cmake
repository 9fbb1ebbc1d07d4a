# Security: the cluster PKI (src/security/pki.h): a CA per cluster, server and
# client certificates, with OpenSSL 3's C API. Debian package: libssl-dev.
add_library(zkpilot_security src/security/pki.cc)
target_link_libraries(zkpilot_security PUBLIC zkpilot_core PRIVATE OpenSSL::Crypto fmt::fmt)

# Unit tests (no network; they run the openssl CLI to cross-check) and the
# integration tests against a real ZooKeeper over TLS (java, kazoo, openssl).
add_executable(zkpilot_security_tests
  src/security/pki_test.cc
  src/security/pki_integration_test.cc
  tests/local_test_util.cc
)
target_link_libraries(zkpilot_security_tests PRIVATE zkpilot_security zkpilot_zk_fixture
  zkpilot_local OpenSSL::Crypto GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_security_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  # tests/cli_runner.h (its TempDir) names the binary; these tests never run it.
  ZKPILOT_BINARY="$<TARGET_FILE:zkpilot>")
include(GoogleTest)
gtest_discover_tests(zkpilot_security_tests
  TEST_FILTER "-*Integration*"
  TEST_LIST zkpilot_security_unit_tests
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)
gtest_discover_tests(zkpilot_security_tests
  TEST_FILTER "*Integration*"
  TEST_LIST zkpilot_security_integration_tests
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS integration TIMEOUT 300)
