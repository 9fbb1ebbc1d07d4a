#include "zk_fixture/test_pki.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

// Runs `command` in `dir` (sh -c), output to dir/openssl.log; the log on failure.
Status Run(const fs::path& dir, const std::string& command) {
  const std::string log = (dir / "openssl.log").string();
  const std::string line = fmt::format("cd '{}' && ( {} ) >>'{}' 2>&1", dir.string(), command, log);
  if (std::system(line.c_str()) == 0) return Status::Ok();
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return Status::IOError(fmt::format("{}: failed:\n{}", command, text.str()));
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::Ok() : Status::IOError("write " + path.string());
}

constexpr const char* kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

// A key and a certificate `name`.{key,crt} for `subject`, issued by ca.crt
// with the extensions in `name`.ext.
Status Issue(const fs::path& dir, const std::string& name, const std::string& subject,
             const std::string& extensions, const std::string& ca = "ca") {
  ZK_RETURN_IF_ERROR(WriteText(dir / (name + ".ext"), extensions));
  ZK_RETURN_IF_ERROR(Run(dir, fmt::format("openssl req {} -keyout {}.key -out {}.csr -subj '{}'",
                                          kNewKey, name, name, subject)));
  return Run(dir, fmt::format("openssl x509 -req -in {0}.csr -CA {1}.crt -CAkey {1}.key "
                              "-CAcreateserial -days 2 -extfile {0}.ext -out {0}.crt",
                              name, ca));
}

}  // namespace

Result<TestPki> MakeTestPki(const fs::path& dir) {
  for (const char* ca : {"ca", "other-ca"}) {
    ZK_RETURN_IF_ERROR(Run(dir, fmt::format("openssl req -x509 {} -keyout {}.key -out {}.crt "
                                            "-days 2 -subj '/CN=zkpilot test {}'",
                                            kNewKey, ca, ca, ca)));
  }
  ZK_RETURN_IF_ERROR(Issue(dir, "server", "/CN=zookeeper-server",
                           "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                           "extendedKeyUsage=serverAuth,clientAuth\n"));
  ZK_RETURN_IF_ERROR(Issue(dir, "dns-only", "/CN=zookeeper-dns-only",
                           "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"));
  ZK_RETURN_IF_ERROR(
      Issue(dir, "zkpilot-super", "/CN=zkpilot-super", "extendedKeyUsage=clientAuth\n"));
  ZK_RETURN_IF_ERROR(Issue(dir, "app1", "/CN=app1", "extendedKeyUsage=clientAuth\n"));
  ZK_RETURN_IF_ERROR(Run(dir, "cat server.key server.crt > server.pem"));
  std::vector<TestPki::PodCertificate> pods;
  for (int i = 1; i <= 2; ++i) {
    TestPki::PodCertificate pod;
    pod.name = fmt::format("zk-{}.demo-headless.ns.svc.cluster.local", i);
    const std::string file = fmt::format("pod-{}", i);
    ZK_RETURN_IF_ERROR(Issue(dir, file, fmt::format("/CN=zk-{}", i),
                             fmt::format("subjectAltName=DNS:{}\nextendedKeyUsage=serverAuth\n",
                                         pod.name)));
    ZK_RETURN_IF_ERROR(Run(dir, fmt::format("cat {0}.key {0}.crt > {0}.pem", file)));
    pod.cert = (dir / (file + ".crt")).string();
    pod.key = (dir / (file + ".key")).string();
    pod.pem = (dir / (file + ".pem")).string();
    pods.push_back(pod);
  }

  TestPki pki;
  pki.dir = dir;
  auto at = [&](const std::string& name) { return (dir / name).string(); };
  pki.ca_cert = at("ca.crt");
  pki.server_cert = at("server.crt");
  pki.server_key = at("server.key");
  pki.server_pem = at("server.pem");
  pki.dns_only_cert = at("dns-only.crt");
  pki.dns_only_key = at("dns-only.key");
  pki.other_ca_cert = at("other-ca.crt");
  pki.super_user.ca_file = pki.ca_cert;
  pki.super_user.cert_file = at("zkpilot-super.crt");
  pki.super_user.key_file = at("zkpilot-super.key");
  pki.app1.ca_file = pki.ca_cert;
  pki.app1.cert_file = at("app1.crt");
  pki.app1.key_file = at("app1.key");
  pki.pods = std::move(pods);
  return pki;
}

TlsClientFiles TestPki::SuperUserInMemory() const {
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  TlsClientFiles files;
  files.ca_pem = read(super_user.ca_file);
  files.cert_pem = read(super_user.cert_file);
  files.key_pem = read(super_user.key_file);
  return files;
}

}  // namespace zkpilot
