// The check that a cluster's JAAS files and credential files agree
// (CheckJaasAgreesWithCredentials), on files made by the real functions.
#include "platform/local/local_auth.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

class JaasCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zkpilot-auth-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auth_ = LocalAuthAt(root_);
    ASSERT_TRUE(fs::create_directories(auth_.dir));
    settings_.clients = settings_.quorum = true;
    settings_.users = {"app", "ops"};
    auto credentials = EnsureAuthCredentials(auth_, settings_);
    ASSERT_TRUE(credentials.ok()) << credentials.status().message();
    for (int id : {1, 2}) {
      ASSERT_TRUE(WriteFileAtomically(auth_.JaasPath(id), JaasConfig(settings_, *credentials), 0600).ok());
      ASSERT_TRUE(WriteFileAtomically(SecretArgs(id), AuthJvmArgs(auth_, settings_, id), 0600).ok());
    }
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string SecretArgs(int id) const { return root_ + "/secret-" + std::to_string(id) + ".args"; }
  Status Check(const std::vector<std::string>& users = {"app", "ops"}) const {
    return CheckJaasAgreesWithCredentials(auth_, {{1, SecretArgs(1)}, {2, SecretArgs(2)}}, users);
  }

  std::string root_;
  LocalAuth auth_;
  AuthSettings settings_;
};

TEST_F(JaasCheck, FilesAsZkpilotMadeThemAgree) { EXPECT_TRUE(Check().ok()) << Check().message(); }

TEST_F(JaasCheck, AnEditedCredentialOrJaasFileIsNamed) {
  ASSERT_TRUE(WriteFileAtomically(auth_.QuorumCredentialPath(), "edited\n", 0600).ok());
  Status s = Check();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("server-1.jaas gives zkquorum another password than quorum.credential"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("server-2.jaas"), std::string::npos) << s.message();
}

TEST_F(JaasCheck, AJaasFileNoServerReadsIsNotChecked) {
  // Auth switched off: secret.args no longer names the JAAS file.
  for (int id : {1, 2}) ASSERT_TRUE(WriteFileAtomically(SecretArgs(id), "-Dother=1\n", 0600).ok());
  fs::remove(auth_.PasswordPath("app"));
  fs::remove(auth_.QuorumCredentialPath());
  EXPECT_TRUE(Check().ok()) << Check().message();
}

TEST_F(JaasCheck, AUserBeingRemovedMayHaveLostItsFileButNoOtherUser) {
  fs::remove(auth_.PasswordPath("ops"));
  EXPECT_TRUE(Check({"app"}).ok()) << "ops leaves auth.users";
  Status kept = Check({"app", "ops"});
  EXPECT_NE(kept.message().find("ops.password (missing or empty)"), std::string::npos) << kept.message();
  fs::remove(auth_.QuorumCredentialPath());
  EXPECT_FALSE(Check({"app"}).ok()) << "the quorum credential is never optional";
}

}  // namespace
}  // namespace zkpilot
