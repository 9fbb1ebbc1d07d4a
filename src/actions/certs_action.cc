// zkpilot certs, zkpilot connect: checks and output.
#include "actions/certs_action.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace zkpilot {
namespace {

using Clock = std::chrono::system_clock;

// zkpilot's own identity (platform/local/local_pki.h kSuperUserCommonName):
// a client certificate with it would be ZooKeeper's super user.
constexpr char kReservedClient[] = "zkpilot-super";

// Whole days from `now` to `t`, rounded down (negative once past).
int64_t DaysLeft(Clock::time_point t, Clock::time_point now) {
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(t - now).count();
  return hours >= 0 ? hours / 24 : -((-hours + 23) / 24);
}

}  // namespace

std::string Rfc3339Utc(Clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(Clock::to_time_t(t)));
}

Status CheckClientName(const std::string& client) {
  const auto fail = [&](const std::string& why) {
    return Status::InvalidInput("--client \"" + client + "\": " + why);
  };
  if (client.empty()) return fail("a client name is required");
  if (client.size() > kMaxClientNameLength)
    return fail("longer than " + std::to_string(kMaxClientNameLength) + " characters");
  for (char c : client) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
    if (!plain) return fail("only letters, digits, '.', '_' and '-' (it names the files and the certificate)");
  }
  if (client == "." || client == "..") return fail("not a file name");
  if (client == kReservedClient)
    return fail("reserved: it is zkpilot's own identity, ZooKeeper's super user on this cluster");
  return Status::Ok();
}

Status RequireTls(const std::string& cluster, bool tls_enabled) {
  if (tls_enabled) return Status::Ok();
  return Status::InvalidInput("cluster " + cluster + " does not use TLS: switch it with `zkpilot configure " + cluster + " --set tls.enabled=true` (or deploy with it)");
}

std::string FormatCertificates(const std::string& cluster, const std::vector<CertificateStatus>& certificates,
                               bool json, Clock::time_point now) {
  if (json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& c : certificates) {
      nlohmann::ordered_json entry = {{"name", c.name}, {"file", c.file}};
      if (c.info) {
        entry["subject"] = c.info->subject;
        entry["issuer"] = c.info->issuer;
        entry["notAfter"] = Rfc3339Utc(c.info->not_after);
        entry["daysLeft"] = DaysLeft(c.info->not_after, now);
        entry["sha256Fingerprint"] = c.info->sha256_fingerprint;
      } else {
        entry["subject"] = entry["issuer"] = entry["notAfter"] = entry["daysLeft"] = nullptr;
        entry["sha256Fingerprint"] = nullptr;
      }
      entry["needsRenewal"] = !c.renewal.empty();
      entry["reason"] = c.renewal.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(c.renewal);
      list.push_back(std::move(entry));
    }
    nlohmann::ordered_json doc = {{"cluster", cluster}, {"certificates", std::move(list)}};
    return doc.dump(2) + "\n";
  }
  size_t name_w = 4, subject_w = 7;
  for (const auto& c : certificates) {
    name_w = std::max(name_w, c.name.size());
    if (c.info) subject_w = std::max(subject_w, c.info->subject.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:<20}  {:>9}  {}\n", "NAME", name_w, "SUBJECT", subject_w,
                                "NOT-AFTER (UTC)", "DAYS-LEFT", "RENEW");
  std::string reasons;
  for (const auto& c : certificates) {
    const std::string subject = c.info ? c.info->subject : "-";
    const std::string not_after = c.info ? Rfc3339Utc(c.info->not_after) : "-";
    const std::string days = c.info ? std::to_string(DaysLeft(c.info->not_after, now)) : "-";
    out += fmt::format("{:<{}}  {:<{}}  {:<20}  {:>9}  {}\n", c.name, name_w, subject, subject_w, not_after, days,
                       c.renewal.empty() ? "no" : "yes");
    if (!c.renewal.empty()) reasons += fmt::format("  {} ({}): {}\n", c.name, c.file, c.renewal);
  }
  if (!reasons.empty())
    out += "\nDue:\n" + reasons +
           fmt::format("zkpilot issues a server's certificate (and its own) afresh when it next starts that server: run\n"
                       "`zkpilot restart {0}` to roll every server onto new ones; it never replaces an existing CA.\n",
                       cluster);
  return out;
}

std::string ClientCertificateCommandLine(const std::string& cluster) {
  return "zkpilot certs " + cluster + " --client CLIENT -o DIR";
}

std::string FormatConnect(const ConnectInfo& info, bool json) {
  if (json) {
    nlohmann::ordered_json doc = {
        {"connectString", info.connect_string}, {"tls", info.tls}, {"plaintextAccepted", info.plaintext_accepted}};
    doc["caFile"] = info.tls ? nlohmann::ordered_json(info.ca_file) : nlohmann::ordered_json(nullptr);
    doc["clientCertificateCommand"] = info.tls ? nlohmann::ordered_json(ClientCertificateCommandLine(info.cluster))
                                               : nlohmann::ordered_json(nullptr);
    doc["credentials"] = nullptr;
    if (!info.sasl_users.empty()) {
      nlohmann::ordered_json users = nlohmann::ordered_json::array();
      for (const auto& u : info.sasl_users) users.push_back({{"user", u.user}, {"passwordFile", u.password_file}});
      doc["credentials"] = {{"mechanism", "DIGEST-MD5"}, {"required", info.auth_required}, {"users", users}};
    }
    return doc.dump(2) + "\n";
  }
  std::string sasl;
  if (!info.sasl_users.empty()) {
    sasl = fmt::format("\nSASL DIGEST-MD5 users ({}), each password in its file:\n",
                       info.auth_required ? "required: sessions that do not authenticate are refused"
                                          : "optional: anonymous sessions are served too");
    for (const auto& u : info.sasl_users) sasl += fmt::format("  {}: {}\n", u.user, u.password_file);
    sasl += "kazoo:  KazooClient(..., sasl_options={\"mechanism\": \"DIGEST-MD5\", \"username\": USER, "
            "\"password\": PASSWORD})\n";
  }
  if (!info.tls)
    return fmt::format("connect string: {}\n(plaintext endpoints: no TLS, no client certificate)\n",
                       info.connect_string) +
           sasl;
  return fmt::format(
      "connect string: {connect}\n"
      "  TLS endpoints: {plaintext}, and TLS clients must present a certificate\n"
      "CA certificate: {ca}\n"
      "client certificate: {command}\n"
      "  writes DIR/ca.crt, DIR/CLIENT.crt and DIR/CLIENT.key (CN=CLIENT, signed by the cluster's CA)\n"
      "\n"
      "kazoo:  KazooClient(hosts=\"{connect}\", use_ssl=True, ca=\"DIR/ca.crt\",\n"
      "                    certfile=\"DIR/CLIENT.crt\", keyfile=\"DIR/CLIENT.key\")\n"
      "Java:   -Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n"
      "        -Dzookeeper.ssl.keyStore.type=PEM -Dzookeeper.ssl.keyStore.location=DIR/CLIENT.pem\n"
      "        (key and certificate in one file: cat DIR/CLIENT.key DIR/CLIENT.crt > DIR/CLIENT.pem)\n"
      "        -Dzookeeper.ssl.trustStore.type=PEM -Dzookeeper.ssl.trustStore.location=DIR/ca.crt\n"
      "        (the Netty client needs netty-codec, netty-resolver and netty-transport-native-unix-common on the\n"
      "        class path, which Debian's zkCli.sh leaves out: run org.apache.zookeeper.ZooKeeperMain with them)\n",
      fmt::arg("connect", info.connect_string), fmt::arg("ca", info.ca_file),
      fmt::arg("plaintext", info.plaintext_accepted
                                ? "plaintext clients are served as well (tls.allowPlaintext, or a switch to TLS "
                                  "under way)"
                                : "plaintext clients are refused"),
      fmt::arg("command", ClientCertificateCommandLine(info.cluster))) +
         sasl;
}

}  // namespace zkpilot
