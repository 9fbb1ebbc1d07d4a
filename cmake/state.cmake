# Local state: StateStore on SQLite (src/state/).
find_package(SQLite3 REQUIRED)

add_library(zkpilot_state
  src/state/records.cc
  src/state/sqlite_db.cc
  src/state/state_schema.cc
  src/state/state_store.cc
)
target_link_libraries(zkpilot_state PUBLIC zkpilot_core PRIVATE SQLite::SQLite3)

add_executable(zkpilot_state_tests src/state/state_store_test.cc)
# The tests also open the database directly to check its integrity.
target_link_libraries(zkpilot_state_tests PRIVATE zkpilot_state SQLite::SQLite3 GTest::gtest GTest::gtest_main)
include(GoogleTest)
gtest_discover_tests(zkpilot_state_tests DISCOVERY_TIMEOUT 60)
