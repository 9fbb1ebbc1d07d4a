// Rotation by roll (platform/local/certificate_roll.h), through the real
// binary against real ZooKeeper: a server certificate within
// tls.renewBeforeDays is renewed by a quorum-gated roll the supervisor starts
// by itself, while a client keeps writing over TLS, and no acknowledged write
// is lost. No zkpilot command runs between the planting and the check.
// ZKPILOT_CERTIFICATE_CHECK_MS makes the supervisor look every half second
// instead of every ten minutes.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/local_pki.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "security/pki.h"
#include "util/files.h"
#include "write_checker/write_checker.h"
#include "zk/tls_transport.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr int kPortSpan = 40;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class TlsRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-rotation", kPortSpan, &error)) << error;
  }
  void TearDown() override {
    checker_.reset();
    tunnel_.reset();
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY))
        << "processes of " << world_.home() << " survived SIGKILL";
  }
  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    std::vector<std::string> env = world_.Env();
    env.push_back("ZKPILOT_CERTIFICATE_CHECK_MS=500");  // inherited by the supervisor deploy starts
    return testing::RunProcess(args, {env, ZKPILOT_SOURCE_DIR, world_.capture(), 4min});
  }
  nlohmann::json Status() {
    ProcessResult r = Zk({"status", "alpha", "-o", "json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.All();
    return j.is_object() ? j : nlohmann::json::object();
  }
  int PidOf(const nlohmann::json& status, int id) {
    for (const auto& n : status.value("nodes", nlohmann::json::array()))
      if (n.value("id", 0) == id) return n.value("pid", 0);
    return 0;
  }
  std::string ClusterDir() const { return ClusterHome(world_.home(), "alpha"); }

  testing::TestHome world_;
  std::unique_ptr<TlsTunnel> tunnel_;
  std::unique_ptr<testing::WriteChecker> checker_;
};

TEST_F(TlsRotationTest, ADueServerCertificateIsRenewedByARollWithoutACommand) {
  ProcessResult d = Zk({"deploy", "alpha", kPackage, "--set", "tls.enabled=true", "--set", "auth.enabled=false", "--set",
                        "clientPort=" + std::to_string(world_.base_port()), "--timeout", "120"});
  ASSERT_EQ(d.exit_code, 0) << d.All();

  // A client writing over TLS throughout (the C client through a TLS tunnel
  // of this process, with a certificate `zkpilot certs --client` issued).
  const std::string certs = world_.root() + "/certs";
  ProcessResult issue = Zk({"certs", "alpha", "--client", "checker", "-o", certs});
  ASSERT_EQ(issue.exit_code, 0) << issue.All();
  std::vector<Endpoint> servers;
  for (int id = 1; id <= 3; ++id)
    servers.push_back({"127.0.0.1", world_.base_port() + (id - 1) * 10});
  auto tunnel = TlsTunnel::Start(
      servers, {certs + "/ca.crt", certs + "/checker.crt", certs + "/checker.key"});
  ASSERT_TRUE(tunnel.ok()) << tunnel.status().message();
  tunnel_ = std::move(tunnel).value();
  testing::WriteCheckerOptions options;
  for (int id = 1; id <= 3; ++id)
    options.servers.push_back({id, tunnel_->Local(static_cast<size_t>(id - 1))});
  checker_ = std::make_unique<testing::WriteChecker>(options);
  ASSERT_TRUE(checker_->Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return checker_->acknowledged() >= 20; }, 30s, 10ms))
      << "the write checker cannot write: " << checker_->failed() << " failed";

  // Server 2's certificate one day from expiry, within the default 30 days.
  const nlohmann::json before = Status();
  const int pid_before = PidOf(before, 2);
  ASSERT_GT(pid_before, 0) << before.dump(2);
  const LocalPki pki = LocalPkiAt(ClusterDir());
  KeyPair ca{*ReadFile(pki.ca_cert), *ReadFile(pki.ca_key)};
  CertificateRequest near;
  near.common_name = "server-2";
  near.server = true;
  near.client = true;
  near.ip_addresses = {"127.0.0.1"};
  near.dns_names = {"localhost"};
  near.validity = 24h;
  auto pair = IssueCertificate(ca, near);
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  ASSERT_TRUE(WriteFileAtomically(pki.ServerPem(2), KeyStorePem(*pair), 0600).ok());

  // The supervisor rolls the cluster by itself; the roll issues server 2's
  // certificate again before restarting it.
  const std::string supervisor_log = ClusterDir() + "/supervisor.log";
  auto log_has = [&](const std::string& text) {
    auto log = ReadFile(supervisor_log);
    return log.ok() && log->find(text) != std::string::npos;
  };
  ASSERT_TRUE(testing::WaitUntil([&] { return log_has("renewing them by a roll"); }, 30s))
      << TailFile(supervisor_log, 20);
  ASSERT_TRUE(testing::WaitUntil([&] { return log_has("certificate roll (pid"); }, 4min, 500ms))
      << TailFile(supervisor_log, 20) << TailFile(ClusterDir() + "/certificate-roll.log", 30);
  EXPECT_TRUE(log_has("exited with code 0; its output"))
      << TailFile(ClusterDir() + "/certificate-roll.log", 30);

  auto report = checker_->Stop();
  ASSERT_TRUE(report.ok()) << report.status().message();
  std::printf("certificate roll under writes: %s\n", report->Summary().c_str());
  EXPECT_EQ(report->lost, 0) << report->Summary();
  EXPECT_GT(report->acknowledged, 20) << report->Summary();

  const nlohmann::json after = Status();
  EXPECT_EQ(after.value("healthy", false), true) << after.dump(2);
  EXPECT_TRUE(after.value("certificatesDue", nlohmann::json::array()).empty()) << after.dump(2);
  EXPECT_NE(PidOf(after, 2), pid_before) << "server 2 was not restarted onto its new certificate";
  auto renewed = ReadCertificate(*ReadFile(pki.ServerPem(2)));
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_GT(renewed->not_after, std::chrono::system_clock::now() + 24h * 300)
      << "server 2's certificate";
  // The roll is an operation like any other: in the history, and nothing is due again.
  ProcessResult history = Zk({"history", "alpha"});
  EXPECT_TRUE(Contains(history.All(), "restart")) << history.All();
  auto log = ReadFile(supervisor_log);
  size_t rolls = 0;
  for (size_t at = log->find("renewing them by a roll"); at != std::string::npos;
       at = log->find("renewing them by a roll", at + 1))
    ++rolls;
  EXPECT_EQ(rolls, 1u) << TailFile(supervisor_log, 30);
}

}  // namespace
}  // namespace zkpilot
