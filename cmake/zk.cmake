# ZooKeeper client module (src/zk/) and the real-ZooKeeper test fixture
# (tests/zk_fixture/). Debian packages: libzookeeper-mt-dev, libcpp-httplib-dev;
# the integration tests also need zookeeper (which brings a JRE).

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

find_path(ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h)
find_library(ZOOKEEPER_MT_LIBRARY NAMES zookeeper_mt)
if(NOT ZOOKEEPER_INCLUDE_DIR OR NOT ZOOKEEPER_MT_LIBRARY)
  message(FATAL_ERROR "zk: ZooKeeper C client not found (Debian: apt-get install libzookeeper-mt-dev)")
endif()
# The C client needs only libc and pthreads (no OpenSSL/SASL in Debian's build).
# THREADED declares the synchronous API, which only the _mt library has.
add_library(zkpilot_zookeeper_mt UNKNOWN IMPORTED)
set_target_properties(zkpilot_zookeeper_mt PROPERTIES
  IMPORTED_LOCATION "${ZOOKEEPER_MT_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${ZOOKEEPER_INCLUDE_DIR}"
  INTERFACE_COMPILE_DEFINITIONS THREADED
  INTERFACE_LINK_LIBRARIES Threads::Threads)

# Debian's cpp-httplib is a compiled library; its pkg-config file carries the
# feature defines the header must see (they change class layouts).
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

add_library(zkpilot_zk
  src/zk/endpoint.cc
  src/zk/four_letter.cc
  src/zk/ensemble_config.cc
  src/zk/zk_client.cc
  src/zk/tls_connection.cc
  src/zk/tls_transport.cc
)
target_link_libraries(zkpilot_zk
  PUBLIC zkpilot_core nlohmann_json::nlohmann_json fmt::fmt spdlog::spdlog
  PRIVATE zkpilot_zookeeper_mt PkgConfig::CPP_HTTPLIB OpenSSL::SSL OpenSSL::Crypto)

# Real ZooKeeper for integration tests: Debian's jar plus the jars that its
# manifest does not pull but the server needs (servlet API: the AdminServer;
# slf4j-simple: a log in the test directory instead of silence; Netty's codec
# and resolver: NettyServerCnxnFactory, which TLS needs).
find_program(ZKPILOT_JAVA java PATHS /usr/bin)
find_file(ZKPILOT_ZOOKEEPER_JAR zookeeper.jar PATHS /usr/share/java NO_DEFAULT_PATH)
find_file(ZKPILOT_SERVLET_API_JAR servlet-api.jar PATHS /usr/share/java NO_DEFAULT_PATH)
find_file(ZKPILOT_SLF4J_SIMPLE_JAR slf4j-simple.jar PATHS /usr/share/java NO_DEFAULT_PATH)
find_file(ZKPILOT_NETTY_CODEC_JAR netty-codec.jar PATHS /usr/share/java NO_DEFAULT_PATH)
find_file(ZKPILOT_NETTY_RESOLVER_JAR netty-resolver.jar PATHS /usr/share/java NO_DEFAULT_PATH)
set(ZKPILOT_ZOOKEEPER_CLASSPATH "")
foreach(jar ZKPILOT_ZOOKEEPER_JAR ZKPILOT_SERVLET_API_JAR ZKPILOT_SLF4J_SIMPLE_JAR
        ZKPILOT_NETTY_CODEC_JAR ZKPILOT_NETTY_RESOLVER_JAR)
  if(${jar})
    list(APPEND ZKPILOT_ZOOKEEPER_CLASSPATH "${${jar}}")
  endif()
endforeach()
list(JOIN ZKPILOT_ZOOKEEPER_CLASSPATH ":" ZKPILOT_ZOOKEEPER_CLASSPATH)
if(NOT ZKPILOT_JAVA OR NOT ZKPILOT_ZOOKEEPER_JAR)
  message(WARNING "zk: java or zookeeper.jar not found; the ZooKeeper integration tests will fail "
                  "(Debian: apt-get install zookeeper)")
  set(ZKPILOT_JAVA /usr/bin/java)
endif()

add_library(zkpilot_zk_fixture tests/zk_fixture/zk_fixture.cc tests/zk_fixture/test_pki.cc)
target_include_directories(zkpilot_zk_fixture PUBLIC tests)
target_link_libraries(zkpilot_zk_fixture PUBLIC zkpilot_zk)
target_compile_definitions(zkpilot_zk_fixture PUBLIC
  ZKPILOT_TEST_JAVA="${ZKPILOT_JAVA}"
  ZKPILOT_TEST_ZOOKEEPER_CLASSPATH="${ZKPILOT_ZOOKEEPER_CLASSPATH}")

add_executable(zkpilot_zk_tests
  src/zk/four_letter_test.cc
  src/zk/ensemble_config_test.cc
  src/zk/zk_integration_test.cc
  src/zk/tls_transport_test.cc
  src/zk/zk_tls_integration_test.cc
)
target_link_libraries(zkpilot_zk_tests PRIVATE zkpilot_zk_fixture PkgConfig::CPP_HTTPLIB OpenSSL::SSL GTest::gtest
  GTest::gtest_main)
target_compile_definitions(zkpilot_zk_tests PRIVATE
  ZKPILOT_ZK_TESTDATA="${CMAKE_SOURCE_DIR}/src/zk/testdata")
include(GoogleTest)
# Parsers: no network, no processes.
gtest_discover_tests(zkpilot_zk_tests
  TEST_FILTER "-Zk*Integration*"
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)
# Real ZooKeeper and sockets on 127.0.0.1.
gtest_discover_tests(zkpilot_zk_tests
  TEST_FILTER "Zk*Integration*"
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS integration TIMEOUT 300)
