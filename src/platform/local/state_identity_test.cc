#include "platform/local/state_identity.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <filesystem>

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

ClusterRecord Cluster(const std::string& name) {
  ClusterRecord c;
  c.name = name;
  c.package_dir = "/p";
  c.package_name = "zookeeper";
  c.platform = "local";
  c.status = "deployed";
  c.home = "/h/clusters/" + name;
  return c;
}

class StateIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-identity-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/state.db";
    auto store = StateStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->CreateCluster(Cluster("demo")).ok());
    auto id = TakeStateDbIdentity(*store_, path_, "demo");
    ASSERT_TRUE(id.ok()) << id.status().message();
    id_ = *id;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::string dir_, path_;
  std::unique_ptr<StateStore> store_;
  StateDbIdentity id_;
};

TEST_F(StateIdentityTest, TheSameDatabaseIsItsOwnAndADeleteOfTheClusterIsNotAForeignDatabase) {
  EXPECT_TRUE(CheckStateDbIdentity(id_, *store_).ok());
  ASSERT_TRUE(store_->DeleteCluster("demo").ok());
  EXPECT_TRUE(CheckStateDbIdentity(id_, *store_).ok()) << "`delete` ends a supervisor the ordinary way";
}

TEST_F(StateIdentityTest, ADeletedDatabaseIsNotItsOwn) {
  fs::remove(path_);
  Status s = CheckStateDbIdentity(id_, *store_);
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_EQ(s.message(), "state database " + path_ + " was deleted");
}

TEST_F(StateIdentityTest, AnotherFileAtThePathIsNotItsOwn) {
  { ASSERT_TRUE(StateStore::Open(dir_ + "/other.db").ok()); }
  ASSERT_EQ(::rename((dir_ + "/other.db").c_str(), path_.c_str()), 0);
  Status s = CheckStateDbIdentity(id_, *store_);
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_NE(s.message().find("was replaced by another file"), std::string::npos) << s.message();
}

TEST_F(StateIdentityTest, TheOldJournalIsRemovedSoTheNewDatabaseIsReadAsItIs) {
  // The open store writes through its WAL (no checkpoint yet).
  ASSERT_TRUE(store_->CreateCluster(Cluster("second")).ok());
  ASSERT_TRUE(fs::exists(path_ + "-wal"));
  { ASSERT_TRUE(StateStore::Open(dir_ + "/other.db").ok()); }
  ASSERT_EQ(::rename((dir_ + "/other.db").c_str(), path_.c_str()), 0);
  RemoveStaleJournal(id_);
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
  EXPECT_FALSE(fs::exists(path_ + "-shm"));
  store_.reset();
  auto fresh = StateStore::Open(path_);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  auto clusters = (*fresh)->ListClusters();
  ASSERT_TRUE(clusters.ok()) << clusters.status().message();
  EXPECT_TRUE(clusters->empty()) << "the old journal was replayed into the new database";
}

TEST_F(StateIdentityTest, AJournalOfTheSameDatabaseIsKept) {
  ASSERT_TRUE(store_->CreateCluster(Cluster("second")).ok());
  RemoveStaleJournal(id_);
  EXPECT_TRUE(fs::exists(path_ + "-wal"));
}

TEST_F(StateIdentityTest, TheClusterUnderAnotherIdIsNotItsOwn) {
  // The same file, but it now records another cluster of that name (as a
  // database written over in place would).
  ASSERT_TRUE(store_->DeleteCluster("demo").ok());
  ASSERT_TRUE(store_->CreateCluster(Cluster("demo")).ok());
  Status s = CheckStateDbIdentity(id_, *store_);
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_NE(s.message().find("records cluster demo under another id (" + id_.cluster_uid + ", now "), std::string::npos)
      << s.message();
}

TEST_F(StateIdentityTest, AnUnrecordedClusterHasNoIdentity) {
  EXPECT_EQ(TakeStateDbIdentity(*store_, path_, "nosuch").status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace zkpilot
