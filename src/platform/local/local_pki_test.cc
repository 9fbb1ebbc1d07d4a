// The local PKI files (local_pki.h): what EnsureLocalPki creates, what it
// leaves alone and what it issues again, decided from the files alone.
#include "platform/local/local_pki.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "platform/local/local_files.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::chrono::hours kValidity = 24h * 365;
constexpr std::chrono::hours kRenewBefore = 24h * 30;

class LocalPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-pki-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    pki_ = LocalPkiAt(home_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(home_, ec);
  }

  Result<std::vector<int>> Ensure(std::vector<int> ids = {1, 2, 3}, std::chrono::hours renew_before = kRenewBefore) {
    return EnsureLocalPki(pki_, "demo", ids, kValidity, renew_before);
  }
  std::string Read(const std::string& path) {
    auto text = ReadFile(path);
    EXPECT_TRUE(text.ok()) << text.status().message();
    return text.ok() ? *text : "";
  }
  // Every file of the PKI directory and its content.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(pki_.dir)) files[e.path().string()] = Read(e.path().string());
    return files;
  }
  KeyPair Ca() { return KeyPair{Read(pki_.ca_cert), Read(pki_.ca_key)}; }
  // A server certificate issued by `ca` for `validity`, as server-<id>.pem.
  void WriteServerPem(int id, const KeyPair& ca, std::chrono::hours validity) {
    CertificateRequest request;
    request.common_name = "demo-server-" + std::to_string(id);
    request.dns_names = {"localhost"};
    request.ip_addresses = {"127.0.0.1"};
    request.server = request.client = true;
    request.validity = validity;
    auto pair = IssueCertificate(ca, request);
    ASSERT_TRUE(pair.ok()) << pair.status().message();
    ASSERT_TRUE(WriteFileAtomically(pki_.ServerPem(id), pair->key_pem + pair->cert_pem).ok());
  }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string home_;
  LocalPki pki_;
};

TEST_F(LocalPkiTest, FirstCallCreatesEverythingOwnerOnly) {
  auto issued = Ensure();
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(*issued, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Mode(pki_.dir), 0700u);
  for (const std::string& f : {pki_.ca_cert, pki_.ca_key, pki_.admin_cert, pki_.admin_key, pki_.ServerPem(1),
                               pki_.ServerPem(2), pki_.ServerPem(3)})
    EXPECT_EQ(Mode(f), 0600u) << f;
  EXPECT_EQ(Snapshot().size(), 7u) << "no temporary file left";

  const std::string ca = Read(pki_.ca_cert);
  auto admin = ReadCertificate(Read(pki_.admin_cert));
  ASSERT_TRUE(admin.ok()) << admin.status().message();
  EXPECT_EQ(admin->subject, kSuperUserDn);
  EXPECT_TRUE(VerifyIssuedBy(Read(pki_.admin_cert), ca).ok());
  EXPECT_EQ(RenewalReason(Read(pki_.admin_cert), Read(pki_.admin_key), ca, kRenewBefore), "");

  // One file per server: its key, then its certificate (ZooKeeper's PEM key store).
  const std::string pem = Read(pki_.ServerPem(2));
  ASSERT_LT(pem.find("-----BEGIN PRIVATE KEY-----"), pem.find("-----BEGIN CERTIFICATE-----"));
  auto certs = PemBlocks(pem, "CERTIFICATE");
  auto keys = PemBlocks(pem, "PRIVATE KEY");
  ASSERT_EQ(certs.size(), 1u);
  ASSERT_EQ(keys.size(), 1u);
  auto server = ReadCertificate(certs[0]);
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_EQ(server->ip_addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(server->dns_names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(RenewalReason(certs[0], keys[0], ca, kRenewBefore, "127.0.0.1"), "");
  EXPECT_EQ(pki_.AdminFiles().cert_file, pki_.admin_cert);
}

TEST_F(LocalPkiTest, SecondCallIssuesNothing) {
  ASSERT_TRUE(Ensure().ok());
  const auto before = Snapshot();
  auto issued = Ensure();
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_TRUE(issued->empty());
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(LocalPkiTest, ANewServerGetsACertificateAndOnlyIt) {
  ASSERT_TRUE(Ensure().ok());
  const auto before = Snapshot();
  auto issued = Ensure({1, 2, 3, 4});
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(*issued, std::vector<int>{4});
  for (const auto& [path, content] : before) EXPECT_EQ(Read(path), content) << path;
}

TEST_F(LocalPkiTest, AServerCertificateExpiringWithinRenewBeforeIsIssuedAgainAndOnlyIt) {
  ASSERT_TRUE(Ensure().ok());
  ASSERT_NO_FATAL_FAILURE(WriteServerPem(2, Ca(), 24h * 10));  // expires in 10 days, renewal 30 days before
  const auto before = Snapshot();
  auto issued = Ensure();
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(*issued, std::vector<int>{2});
  for (const auto& [path, content] : before) {
    if (path != pki_.ServerPem(2)) {
      EXPECT_EQ(Read(path), content) << path;
    }
  }
  auto renewed = ReadCertificate(PemBlocks(Read(pki_.ServerPem(2)), "CERTIFICATE").at(0));
  ASSERT_TRUE(renewed.ok());
  EXPECT_GT(renewed->not_after, std::chrono::system_clock::now() + 24h * 300);
}

TEST_F(LocalPkiTest, CertificatesOfAnotherCaAreIssuedAgain) {
  ASSERT_TRUE(Ensure().ok());
  auto other = CreateCertificateAuthority("another CA", kValidity);
  ASSERT_TRUE(other.ok()) << other.status().message();
  ASSERT_NO_FATAL_FAILURE(WriteServerPem(3, *other, kValidity));
  // zkpilot's own certificate too.
  CertificateRequest admin;
  admin.common_name = kSuperUserCommonName;
  admin.client = true;
  auto foreign_admin = IssueCertificate(*other, admin);
  ASSERT_TRUE(foreign_admin.ok());
  ASSERT_TRUE(WriteFileAtomically(pki_.admin_key, foreign_admin->key_pem).ok());
  ASSERT_TRUE(WriteFileAtomically(pki_.admin_cert, foreign_admin->cert_pem).ok());
  const std::string server1 = Read(pki_.ServerPem(1));

  auto issued = Ensure();
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(*issued, std::vector<int>{3});
  const std::string ca = Read(pki_.ca_cert);
  EXPECT_TRUE(VerifyIssuedBy(PemBlocks(Read(pki_.ServerPem(3)), "CERTIFICATE").at(0), ca).ok());
  EXPECT_TRUE(VerifyIssuedBy(Read(pki_.admin_cert), ca).ok());
  EXPECT_EQ(Read(pki_.ServerPem(1)), server1);
}

TEST_F(LocalPkiTest, AKeyThatIsNotTheCertificatesIsIssuedAgain) {
  ASSERT_TRUE(Ensure().ok());
  // server-1.pem with server-2's key: what an interrupted or botched copy leaves.
  const auto keys2 = PemBlocks(Read(pki_.ServerPem(2)), "PRIVATE KEY");
  const auto certs1 = PemBlocks(Read(pki_.ServerPem(1)), "CERTIFICATE");
  ASSERT_TRUE(WriteFileAtomically(pki_.ServerPem(1), keys2.at(0) + certs1.at(0)).ok());
  auto issued = Ensure();
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(*issued, std::vector<int>{1});
}

TEST_F(LocalPkiTest, AWiderDirectoryIsMadeOwnerOnly) {
  fs::create_directories(pki_.dir);
  fs::permissions(pki_.dir, fs::perms(0755), fs::perm_options::replace);
  ASSERT_TRUE(Ensure().ok());
  EXPECT_EQ(Mode(pki_.dir), 0700u);
}

TEST_F(LocalPkiTest, AnExpiringCaIsAnErrorAndNothingIsWritten) {
  auto ca = CreateCertificateAuthority("zkpilot demo CA", 24h * 20);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  fs::create_directories(pki_.dir);
  ASSERT_TRUE(WriteFileAtomically(pki_.ca_key, ca->key_pem).ok());
  ASSERT_TRUE(WriteFileAtomically(pki_.ca_cert, ca->cert_pem).ok());
  auto issued = Ensure();
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(issued.status().message().find(pki_.ca_cert + ": the cluster's CA expires on"), std::string::npos)
      << issued.status().message();
  EXPECT_EQ(Snapshot().size(), 2u) << "nothing issued with a CA about to expire";
  EXPECT_EQ(Read(pki_.ca_cert), ca->cert_pem);
}

TEST_F(LocalPkiTest, ACaWithoutItsKeyIsAnError) {
  ASSERT_TRUE(Ensure().ok());
  fs::remove(pki_.ca_key);
  auto issued = Ensure();
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.status().message().find(pki_.ca_cert + ": " + pki_.ca_key + " is missing"), std::string::npos)
      << issued.status().message();
}

// A new CA beside the old one's certificates would leave servers restarted one
// by one trusting different CAs; without any certificate left, one is made.
TEST_F(LocalPkiTest, AMissingCaWhoseCertificatesRemainIsAnErrorAndNothingIsWritten) {
  ASSERT_TRUE(Ensure().ok());
  const std::string server = Read(pki_.ServerPem(1));
  fs::remove(pki_.ca_cert);
  auto issued = Ensure();
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.status().message().find(pki_.ca_cert + " is missing, but certificates it issued remain"),
            std::string::npos)
      << issued.status().message();
  EXPECT_FALSE(fs::exists(pki_.ca_cert));
  EXPECT_EQ(Read(pki_.ServerPem(1)), server);

  fs::remove_all(pki_.dir);
  auto fresh = Ensure();
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_TRUE(fs::exists(pki_.ca_cert));
}

TEST_F(LocalPkiTest, ClientCertificatesAreSignedByTheCa) {
  auto none = IssueLocalClientCertificate(pki_, "app1", 24h * 90);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("has no CA yet"), std::string::npos) << none.status().message();
  ASSERT_TRUE(Ensure().ok());
  auto pair = IssueLocalClientCertificate(pki_, "app1", 24h * 90);
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  auto info = ReadCertificate(pair->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject, "CN=app1");
  EXPECT_EQ(RenewalReason(pair->cert_pem, pair->key_pem, Read(pki_.ca_cert), 24h * 30), "");
}

}  // namespace
}  // namespace zkpilot
