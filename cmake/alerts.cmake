# Alerts and dashboards of local clusters (src/observe/alerts*,
# src/actions/monitoring_action*): `zkpilot alerts` asks the cluster's
# Prometheus for its active alerts, `zkpilot dashboards` writes Grafana files.
# Debian: libcpp-httplib-dev; the integration tests need prometheus
# (/usr/bin/prometheus).
#
# Included before zk.cmake and local.cmake (alphabetical order): the httplib
# target may not exist yet (zk.cmake reuses it), and zkpilot_local is
# resolved when the build is generated.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CPP_HTTPLIB)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

add_library(zkpilot_alerts
  src/observe/alerts.cc
  src/actions/monitoring_action.cc
)
target_link_libraries(zkpilot_alerts
  PUBLIC zkpilot_local
  PRIVATE PkgConfig::CPP_HTTPLIB fmt::fmt)
target_link_libraries(zkpilot PRIVATE zkpilot_alerts)

find_program(ZKPILOT_PROMETHEUS prometheus PATHS /usr/bin)
if(NOT ZKPILOT_PROMETHEUS)
  message(WARNING "alerts: prometheus not found; the alerts integration tests will fail "
                  "(Debian: apt-get install prometheus)")
  set(ZKPILOT_PROMETHEUS /usr/bin/prometheus)
endif()

add_executable(zkpilot_alerts_tests src/observe/alerts_test.cc)
target_link_libraries(zkpilot_alerts_tests PRIVATE zkpilot_alerts zkpilot_local GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_alerts_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_PROMETHEUS="${ZKPILOT_PROMETHEUS}")
include(GoogleTest)
# Pure: parsing, filtering, sorting, formatting.
gtest_discover_tests(zkpilot_alerts_tests
  TEST_FILTER "-*Integration*"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)
# A real Prometheus on 127.0.0.1 (no ZooKeeper). Labels are set after
# discovery (see exporter.cmake: PROPERTIES would split "integration;prometheus").
gtest_discover_tests(zkpilot_alerts_tests
  TEST_FILTER "*Integration*"
  TEST_LIST zkpilot_alerts_integration_tests
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  DISCOVERY_TIMEOUT 60
  PROPERTIES TIMEOUT 180)
set(zkpilot_alerts_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_alerts_labels.cmake")
file(WRITE "${zkpilot_alerts_labels}"
  "if(zkpilot_alerts_integration_tests)\n"
  "  set_tests_properties(\${zkpilot_alerts_integration_tests} PROPERTIES LABELS \"integration;prometheus\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_alerts_labels}")
