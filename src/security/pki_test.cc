// The PKI library, cross-checked with the real `openssl` command line: what
// it issues verifies with `openssl verify`, reads back with `openssl x509`,
// and what it refuses (another CA's certificate, an altered one, an expired
// one, bad names) is refused with a message naming the field.
#include "security/pki.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <string>

#include "cli_runner.h"
#include "local_test_util.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using ::zkpilot::testing::ProcessResult;
using ::zkpilot::testing::RunOptions;
using ::zkpilot::testing::RunProcess;
using ::zkpilot::testing::TempDir;

constexpr char kOpenssl[] = "/usr/bin/openssl";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

KeyPair MustCa(const std::string& cn = "zkpilot-test-ca", std::chrono::hours validity = 24h) {
  Result<KeyPair> ca = CreateCertificateAuthority(cn, validity);
  EXPECT_TRUE(ca.ok()) << ca.status().message();
  return ca.ok() ? *ca : KeyPair{};
}

CertificateRequest ServerRequest() {
  CertificateRequest request;
  request.common_name = "zk-server-1";
  request.dns_names = {"localhost", "zk-1.zk-headless.ns.svc"};
  request.ip_addresses = {"127.0.0.1", "::1"};
  request.server = true;
  request.client = true;
  request.validity = 48h;
  return request;
}

CertificateRequest ClientRequest(const std::string& cn) {
  CertificateRequest request;
  request.common_name = cn;
  request.client = true;
  return request;
}

KeyPair MustIssue(const KeyPair& ca, const CertificateRequest& request) {
  Result<KeyPair> issued = IssueCertificate(ca, request);
  EXPECT_TRUE(issued.ok()) << issued.status().message();
  return issued.ok() ? *issued : KeyPair{};
}

class PkiTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
  }
  ProcessResult Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), kOpenssl);
    RunOptions options;
    options.capture_dir = dir_.path();
    options.timeout = 30s;
    return RunProcess(args, options);
  }
  TempDir dir_;
};

TEST_F(PkiTest, IssuedChainVerifiesWithOpensslAndVerifyIssuedBy) {
  const KeyPair ca = MustCa();
  const KeyPair server = MustIssue(ca, ServerRequest());
  EXPECT_TRUE(VerifyIssuedBy(server.cert_pem, ca.cert_pem).ok());
  EXPECT_TRUE(VerifyIssuedBy(ca.cert_pem, ca.cert_pem).ok());

  const std::string ca_file = Write("ca.crt", ca.cert_pem);
  const std::string cert_file = Write("server.crt", server.cert_pem);
  ProcessResult verify = Openssl({"verify", "-CAfile", ca_file, cert_file});
  EXPECT_EQ(verify.exit_code, 0) << verify.All();
  EXPECT_EQ(verify.out, cert_file + ": OK\n") << verify.All();
  // Both purposes ZooKeeper checks: a server on its client port, and a
  // quorum peer, which is a TLS client of the other servers.
  for (const char* purpose : {"sslserver", "sslclient"}) {
    ProcessResult p = Openssl({"verify", "-purpose", purpose, "-CAfile", ca_file, cert_file});
    EXPECT_EQ(p.exit_code, 0) << purpose << ": " << p.All();
  }
}

TEST_F(PkiTest, ExtensionsReadBackWithOpensslX509) {
  const KeyPair ca = MustCa();
  const std::string server_text = Openssl({"x509", "-noout", "-text", "-in",
                                           Write("s.crt", MustIssue(ca, ServerRequest()).cert_pem)})
                                      .out;
  EXPECT_TRUE(Contains(server_text, "Subject: CN = zk-server-1\n")) << server_text;
  EXPECT_TRUE(Contains(server_text, "Issuer: CN = zkpilot-test-ca\n")) << server_text;
  EXPECT_TRUE(Contains(server_text, "ASN1 OID: prime256v1")) << server_text;
  EXPECT_TRUE(Contains(server_text, "X509v3 Basic Constraints: critical\n                CA:FALSE"))
      << server_text;
  EXPECT_TRUE(
      Contains(server_text,
               "X509v3 Extended Key Usage: \n"
               "                TLS Web Server Authentication, TLS Web Client Authentication"))
      << server_text;
  EXPECT_TRUE(Contains(server_text,
                       "DNS:localhost, DNS:zk-1.zk-headless.ns.svc, IP Address:127.0.0.1, "
                       "IP Address:0:0:0:0:0:0:0:1"))
      << server_text;
  EXPECT_TRUE(Contains(server_text, "Signature Algorithm: ecdsa-with-SHA256")) << server_text;

  const std::string ca_text =
      Openssl({"x509", "-noout", "-text", "-in", Write("ca.crt", ca.cert_pem)}).out;
  EXPECT_TRUE(Contains(ca_text, "Subject: CN = zkpilot-test-ca\n")) << ca_text;
  EXPECT_TRUE(Contains(ca_text, "X509v3 Basic Constraints: critical\n                CA:TRUE"))
      << ca_text;
  EXPECT_TRUE(
      Contains(ca_text, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"))
      << ca_text;

  const std::string client_text =
      Openssl({"x509", "-noout", "-text", "-in",
               Write("c.crt", MustIssue(ca, ClientRequest("app1")).cert_pem)})
          .out;
  EXPECT_TRUE(Contains(
      client_text, "X509v3 Extended Key Usage: \n                TLS Web Client Authentication\n"))
      << client_text;
  EXPECT_FALSE(Contains(client_text, "Subject Alternative Name")) << client_text;
}

TEST_F(PkiTest, KeyIsUnencryptedPkcs8AndMatchesTheCertificate) {
  const KeyPair server = MustIssue(MustCa(), ServerRequest());
  EXPECT_EQ(server.key_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << "not PKCS#8";
  const std::string key_file = Write("s.key", server.key_pem);
  const std::string cert_file = Write("s.crt", server.cert_pem);
  ProcessResult from_key = Openssl({"pkey", "-in", key_file, "-pubout"});
  ProcessResult from_cert = Openssl({"x509", "-in", cert_file, "-noout", "-pubkey"});
  ASSERT_EQ(from_key.exit_code, 0) << from_key.All();
  EXPECT_EQ(from_key.out, from_cert.out);
  // One file, key first: what ZooKeeper's PEM key store reads.
  const std::string pem = KeyStorePem(server);
  EXPECT_LT(pem.find("BEGIN PRIVATE KEY"), pem.find("BEGIN CERTIFICATE"));
}

TEST_F(PkiTest, ReadCertificateReturnsNamesTimesAndFingerprint) {
  const KeyPair ca = MustCa();
  const auto before = system_clock::now();
  const KeyPair server = MustIssue(ca, ServerRequest());
  const auto after = system_clock::now();
  Result<CertificateInfo> info = ReadCertificate(server.cert_pem);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->subject, "CN=zk-server-1");
  EXPECT_EQ(info->issuer, "CN=zkpilot-test-ca");
  EXPECT_EQ(info->dns_names, (std::vector<std::string>{"localhost", "zk-1.zk-headless.ns.svc"}));
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_FALSE(info->is_ca);
  // not_before 5 minutes back, not_after 48h on (whole seconds, rounded down).
  EXPECT_GE(info->not_before, before - 5min - 1s);
  EXPECT_LE(info->not_before, after - 5min);
  EXPECT_GE(info->not_after, before + 48h - 1s);
  EXPECT_LE(info->not_after, after + 48h);

  ProcessResult fp = Openssl(
      {"x509", "-in", Write("s.crt", server.cert_pem), "-noout", "-fingerprint", "-sha256"});
  EXPECT_EQ(fp.out, "sha256 Fingerprint=" + info->sha256_fingerprint + "\n");

  Result<CertificateInfo> ca_info = ReadCertificate(ca.cert_pem);
  ASSERT_TRUE(ca_info.ok());
  EXPECT_TRUE(ca_info->is_ca);
  EXPECT_EQ(ca_info->subject, "CN=zkpilot-test-ca");
  EXPECT_EQ(ca_info->issuer, "CN=zkpilot-test-ca");
}

// Pinned from Java 17 (jshell: CertificateFactory.getInstance("X.509")
// .generateCertificate(...).getSubjectX500Principal().getName()) on
// certificates this library issued: the identity X509AuthenticationProvider
// gives the client, which X509AuthenticationProvider.superUser must equal.
TEST_F(PkiTest, SubjectIsWhatJavaPrints) {
  const KeyPair ca = MustCa("zkpilot-demo CA");
  for (const auto& [cn, java] : std::vector<std::pair<std::string, std::string>>{
           {"zkpilot-super", "CN=zkpilot-super"},
           {"app 1.example", "CN=app 1.example"},
       }) {
    Result<CertificateInfo> info = ReadCertificate(MustIssue(ca, ClientRequest(cn)).cert_pem);
    ASSERT_TRUE(info.ok()) << info.status().message();
    EXPECT_EQ(info->subject, java);
    EXPECT_EQ(info->issuer, "CN=zkpilot-demo CA");
  }
}

TEST_F(PkiTest, SerialsAreRandom128Bit) {
  const KeyPair ca = MustCa();
  const CertificateRequest request = ClientRequest("app1");
  const std::string a =
      Openssl({"x509", "-noout", "-serial", "-in", Write("a.crt", MustIssue(ca, request).cert_pem)})
          .out;
  const std::string b =
      Openssl({"x509", "-noout", "-serial", "-in", Write("b.crt", MustIssue(ca, request).cert_pem)})
          .out;
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), std::string("serial=").size() + 32 + 1) << a;
}

TEST_F(PkiTest, ExpiryIsDetected) {
  const KeyPair ca = MustCa("zkpilot-test-ca", 24h * 30);
  CertificateRequest request = ServerRequest();
  request.validity = 1h;
  const KeyPair server = MustIssue(ca, request);
  Result<CertificateInfo> info = ReadCertificate(server.cert_pem);
  ASSERT_TRUE(info.ok());

  EXPECT_TRUE(VerifyIssuedBy(server.cert_pem, ca.cert_pem, system_clock::now() + 59min).ok());
  Status expired = VerifyIssuedBy(server.cert_pem, ca.cert_pem, system_clock::now() + 2h);
  EXPECT_EQ(expired.code(), ErrorCode::kInvalidInput);
  const std::time_t t = system_clock::to_time_t(info->not_after);
  char when[32];
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  EXPECT_EQ(expired.message(), std::string("expired on ") + when);

  Status early = VerifyIssuedBy(server.cert_pem, ca.cert_pem, system_clock::now() - 1h);
  EXPECT_TRUE(Contains(early.message(), "not valid before ")) << early.message();

  // The CA expiring first fails the chain as well, and says so.
  const KeyPair short_ca = MustCa("short-ca", 2h);
  request.validity = 24h;
  const KeyPair outlives = MustIssue(short_ca, request);
  Status ca_expired =
      VerifyIssuedBy(outlives.cert_pem, short_ca.cert_pem, system_clock::now() + 3h);
  EXPECT_TRUE(Contains(ca_expired.message(), "the CA certificate expired on "))
      << ca_expired.message();
}

TEST_F(PkiTest, CertificateOfAnotherCaIsRefused) {
  const KeyPair ours = MustCa("cluster-a-ca");
  const KeyPair theirs = MustCa("cluster-b-ca");
  const KeyPair foreign = MustIssue(theirs, ServerRequest());
  Status refused = VerifyIssuedBy(foreign.cert_pem, ours.cert_pem);
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(refused.message(),
            "not issued by this cluster's CA (issuer CN=cluster-b-ca, CA CN=cluster-a-ca)");
  EXPECT_NE(Openssl({"verify", "-CAfile", Write("a.crt", ours.cert_pem),
                     Write("f.crt", foreign.cert_pem)})
                .exit_code,
            0);

  // Same name, different key: the name matches, the key does not.
  const KeyPair twin = MustCa("cluster-a-ca");
  Status twin_refused = VerifyIssuedBy(MustIssue(twin, ServerRequest()).cert_pem, ours.cert_pem);
  EXPECT_TRUE(Contains(twin_refused.message(), "not issued by this cluster's CA"))
      << twin_refused.message();
  // A self-signed certificate is not issued by the CA either.
  EXPECT_TRUE(Contains(VerifyIssuedBy(theirs.cert_pem, ours.cert_pem).message(),
                       "not issued by this cluster's CA"));
}

TEST_F(PkiTest, AlteredCertificateIsRefused) {
  const KeyPair ca = MustCa();
  const KeyPair server = MustIssue(ca, ServerRequest());
  // 127.0.0.1 -> 127.0.0.2 in the subjectAltName: an attacker widening a
  // certificate to another address.
  const std::string der_file = dir_.path() + "/s.der";
  ASSERT_EQ(
      Openssl({"x509", "-in", Write("s.crt", server.cert_pem), "-outform", "DER", "-out", der_file})
          .exit_code,
      0);
  std::ifstream in(der_file, std::ios::binary);
  std::string der((std::istreambuf_iterator<char>(in)), {});
  const std::string ip("\x87\x04\x7f\x00\x00\x01", 6);  // [7] IMPLICIT OCTET STRING, 4 bytes
  const size_t at = der.find(ip);
  ASSERT_NE(at, std::string::npos);
  der[at + 5] = 2;
  Write("t.der", der);
  ProcessResult pem = Openssl({"x509", "-inform", "DER", "-in", dir_.path() + "/t.der"});
  ASSERT_EQ(pem.exit_code, 0) << pem.All();
  Result<CertificateInfo> info = ReadCertificate(pem.out);
  ASSERT_TRUE(info.ok()) << info.status().message();
  ASSERT_EQ(info->ip_addresses.front(), "127.0.0.2");

  Status refused = VerifyIssuedBy(pem.out, ca.cert_pem);
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(refused.message(), "signature does not verify")) << refused.message();
  EXPECT_NE(Openssl({"verify", "-CAfile", Write("ca.crt", ca.cert_pem), Write("t.crt", pem.out)})
                .exit_code,
            0);
}

TEST_F(PkiTest, BadInputIsRefusedNamingTheField) {
  const KeyPair ca = MustCa();
  struct Case {
    std::string name;
    CertificateRequest request;
    std::string message;
  };
  auto with = [](auto change) {
    CertificateRequest r = ServerRequest();
    change(r);
    return r;
  };
  const std::vector<Case> cases = {
      {"comma", with([](auto& r) { r.common_name = "app1,O=evil"; }),
       "common name: \"app1,O=evil\" contains ','"},
      {"equals", with([](auto& r) { r.common_name = "CN=app1"; }),
       "common name: \"CN=app1\" contains '='"},
      {"control", with([](auto& r) { r.common_name = "app\n1"; }),
       "common name: contains a control or non-ASCII character"},
      {"empty", with([](auto& r) { r.common_name = ""; }), "common name: empty"},
      {"long", with([](auto& r) { r.common_name = std::string(65, 'a'); }),
       "common name: 65 characters, at most 64 allowed"},
      {"dns", with([](auto& r) {
         r.dns_names = {"localhost", "bad name"};
       }),
       "dns_names[1]: \"bad name\" is not a DNS name"},
      {"ip", with([](auto& r) { r.ip_addresses = {"127.0.0.256"}; }),
       "ip_addresses[0]: \"127.0.0.256\" is not an IP address"},
      {"no usage", with([](auto& r) { r.server = r.client = false; }),
       "certificate request: neither server nor client usage asked for"},
      {"validity", with([](auto& r) { r.validity = 0h; }), "validity: 0h, must be positive"},
  };
  for (const Case& c : cases) {
    Result<KeyPair> issued = IssueCertificate(ca, c.request);
    ASSERT_FALSE(issued.ok()) << c.name;
    EXPECT_EQ(issued.status().code(), ErrorCode::kInvalidInput) << c.name;
    EXPECT_EQ(issued.status().message(), c.message) << c.name;
  }
  EXPECT_EQ(CreateCertificateAuthority("a=b", 24h).status().message(),
            "CA common name: \"a=b\" contains '='");
}

TEST_F(PkiTest, BadCaOrPemIsRefusedWithoutQuotingKeys) {
  const KeyPair ca = MustCa();
  const KeyPair leaf = MustIssue(ca, ServerRequest());
  auto issue_with = [](const KeyPair& pair) {
    return IssueCertificate(pair, ServerRequest()).status();
  };

  Status not_ca = issue_with(leaf);
  EXPECT_EQ(not_ca.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(not_ca.message(), "CA certificate: not a CA (no basicConstraints CA:TRUE)");

  Status wrong_key = issue_with(KeyPair{ca.cert_pem, leaf.key_pem});
  EXPECT_EQ(wrong_key.message(), "CA key: does not belong to the CA certificate");

  std::string broken_key = ca.key_pem;
  broken_key[40] = broken_key[40] == 'A' ? 'B' : 'A';
  broken_key.insert(60, "!!");
  Status bad_key = issue_with(KeyPair{ca.cert_pem, broken_key});
  EXPECT_EQ(bad_key.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(bad_key.message(), "CA key: malformed or encrypted PEM private key");

  Status no_pem = issue_with(KeyPair{"hello", ca.key_pem});
  EXPECT_EQ(no_pem.message(), "CA certificate: no PEM certificate (\"BEGIN CERTIFICATE\")");

  std::string broken_cert = ca.cert_pem;
  broken_cert.replace(100, 8, "********");
  Status bad_cert = ReadCertificate(broken_cert).status();
  EXPECT_EQ(bad_cert.code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(bad_cert.message(), "certificate: malformed PEM certificate"))
      << bad_cert.message();

  EXPECT_EQ(VerifyIssuedBy(leaf.cert_pem, leaf.cert_pem).message(),
            "CA certificate: not a CA (no basicConstraints CA:TRUE)");

  // No message carries key text.
  for (const Status& s : {not_ca, wrong_key, bad_key, no_pem, bad_cert}) {
    EXPECT_FALSE(Contains(s.message(), "PRIVATE KEY-----")) << s.message();
    EXPECT_FALSE(Contains(s.message(), ca.key_pem.substr(28, 20))) << s.message();
  }
}

TEST_F(PkiTest, ExpiredCaIssuesNothing) {
  // The test's CA, re-signed by its own key with a validity that ended.
  const KeyPair ca = MustCa("old-ca");
  BIO* cert_bio = BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size()));
  BIO* key_bio = BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(key, nullptr);
  ASSERT_TRUE(ASN1_TIME_set_string(X509_getm_notBefore(cert), "20200101000000Z"));
  ASSERT_TRUE(ASN1_TIME_set_string(X509_getm_notAfter(cert), "20210101000000Z"));
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(out, &data);
  const std::string expired_pem(data, static_cast<size_t>(len));
  BIO_free(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cert_bio);
  BIO_free(key_bio);

  Status refused = IssueCertificate(KeyPair{expired_pem, ca.key_pem}, ServerRequest()).status();
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(refused.message(), "CA certificate: expired on 2021-01-01T00:00:00Z");
}

}  // namespace
}  // namespace zkpilot
