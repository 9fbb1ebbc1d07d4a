# Metrics exporter (src/observe/metrics*, src/observe/exporter*): ZooKeeper
# readings as Prometheus text over HTTP. Debian: libcpp-httplib-dev; the
# integration tests also need zookeeper (see zk.cmake) and prometheus
# (promtool).
#
# This file is included before zk.cmake (alphabetical order), so the httplib
# target may not exist yet; zk.cmake's pkg_check_modules reuses it.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CPP_HTTPLIB)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

add_library(zkpilot_exporter
  src/observe/metrics.cc
  src/observe/exporter.cc
)
target_link_libraries(zkpilot_exporter
  PUBLIC zkpilot_zk
  PRIVATE PkgConfig::CPP_HTTPLIB fmt::fmt)

find_program(ZKPILOT_PROMTOOL promtool)
if(NOT ZKPILOT_PROMTOOL)
  set(ZKPILOT_PROMTOOL "")
endif()

add_executable(zkpilot_exporter_tests tests/exporter_test.cc)
target_link_libraries(zkpilot_exporter_tests PRIVATE zkpilot_exporter zkpilot_zk_fixture
  PkgConfig::CPP_HTTPLIB GTest::gtest GTest::gtest_main)
target_compile_definitions(zkpilot_exporter_tests PRIVATE
  ZKPILOT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ZKPILOT_PROMTOOL="${ZKPILOT_PROMTOOL}")
include(GoogleTest)
# Pure: text format, mapping, escaping.
gtest_discover_tests(zkpilot_exporter_tests
  TEST_FILTER "Metrics*"
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)
# HTTP on 127.0.0.1, no ZooKeeper.
gtest_discover_tests(zkpilot_exporter_tests
  TEST_FILTER "ExporterHttp*"
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS integration TIMEOUT 120)
# Real ZooKeeper ensembles. Their labels are set after discovery:
# gtest_discover_tests flattens PROPERTIES, so LABELS "integration;zookeeper"
# would end up as LABELS integration plus a bogus property "zookeeper".
gtest_discover_tests(zkpilot_exporter_tests
  TEST_FILTER "ExporterZkIntegration*"
  TEST_LIST zkpilot_exporter_zk_tests
  DISCOVERY_TIMEOUT 60
  PROPERTIES TIMEOUT 300)
set(zkpilot_exporter_labels "${CMAKE_CURRENT_BINARY_DIR}/zkpilot_exporter_labels.cmake")
file(WRITE "${zkpilot_exporter_labels}"
  "if(zkpilot_exporter_zk_tests)\n"
  "  set_tests_properties(\${zkpilot_exporter_zk_tests} PROPERTIES LABELS \"integration;zookeeper\")\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${zkpilot_exporter_labels}")
