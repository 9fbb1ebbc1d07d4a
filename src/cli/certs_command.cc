#include "cli/certs_command.h"

#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/numbers.h"

namespace zkpilot::cli {
namespace {

constexpr int64_t kMaxValidityDays = 3650;  // as tls.certificateValidityDays

int Fail(const Status& status) {
  spdlog::error("{}", status.message());
  return ExitCodeFor(status);
}

int Print(const Result<std::string>& text) {
  if (!text.ok()) return Fail(text.status());
  std::fputs(text->c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

CLI::Validator CertificateValidityFlag() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool days = !text.empty() && text.back() == 'd';
        const bool hours = !text.empty() && text.back() == 'h';
        if (!days && !hours)
          return "\"" + text + "\" is not a validity: write whole days (90d) or hours (36h), from 1h to " +
                 std::to_string(kMaxValidityDays) + "d";
        auto n = ParseWholeNumber(std::string_view(text).substr(0, text.size() - 1), 1,
                                  days ? kMaxValidityDays : kMaxValidityDays * 24);
        if (!n.ok()) return n.status().message();
        text = std::to_string(days ? *n * 24 : *n);
        return std::string();
      },
      "DURATION in [1h - " + std::to_string(kMaxValidityDays) + "d]");
}

CLI::App* AddCertsCommand(CLI::App& app, CertsFlags& flags) {
  auto* cmd = app.add_subcommand(
      "certs",
      "A TLS cluster's certificates. With --client, issue a client certificate signed by the cluster's CA\n"
      "and write DIR/ca.crt, DIR/CLIENT.crt and DIR/CLIENT.key (0600), PEM, as clients expect them.\n"
      "Without it, list the CA's, zkpilot's and each server's certificate: subject, expiry, days left and\n"
      "whether it is renewed at the next deploy or change.");
  cmd->add_option("name", flags.request.name, "Cluster name")->required();
  cmd->add_option("--client", flags.request.client,
                  "Issue a certificate for this client: its subject is CN=CLIENT, which ZooKeeper's x509\n"
                  "authentication makes the client's id (letters, digits, '.', '_', '-'; at most 64)")
      ->type_name("CLIENT");
  cmd->add_option("-o,--output", flags.output,
                  "With --client: the directory to write (created 0700 if missing). Without: table or json")
      ->type_name("DIR|FORMAT");
  cmd->add_option("--validity", flags.validity_hours, "With --client: how long the certificate is valid (90d, 36h)")
      ->type_name("DURATION")
      ->transform(CertificateValidityFlag())
      ->default_str("90d");
  cmd->add_flag("--force", flags.request.force, "With --client: replace an existing DIR/CLIENT.key");
  cmd->footer(
      "Examples:\n"
      "  zkpilot certs demo --client app1 -o ./app1-tls\n"
      "  zkpilot certs demo                 (the cluster's certificates and their expiry)\n"
      "  zkpilot certs demo -o json\n"
      "The cluster must use TLS (deploy with --set tls.enabled=true, or switch it with `zkpilot configure NAME --set tls.enabled=true`); `zkpilot connect NAME` says how to connect.");
  return cmd;
}

int RunCertsCommand(const std::string& home, CertsFlags& flags) {
  if (!flags.request.client.empty()) {
    if (flags.output.empty()) {
      spdlog::error("certs {}: --client needs -o DIR (where to write ca.crt, {}.crt and {}.key)", flags.request.name,
                    flags.request.client, flags.request.client);
      return 2;
    }
    flags.request.output_dir = flags.output;
    flags.request.validity = std::chrono::hours(flags.validity_hours);
    return Print(LocalClientCertificate(home, flags.request));
  }
  if (flags.request.force) {
    spdlog::error("certs {}: --force goes with --client", flags.request.name);
    return 2;
  }
  if (!flags.output.empty() && flags.output != "table" && flags.output != "json") {
    spdlog::error("certs {}: -o \"{}\": table or json (a directory only with --client)", flags.request.name,
                  flags.output);
    return 2;
  }
  return Print(LocalCertificates(home, flags.request.name, flags.output == "json"));
}

CLI::App* AddConnectCommand(CLI::App& app, ConnectFlags& flags) {
  auto* cmd = app.add_subcommand(
      "connect",
      "What a client needs to connect to a cluster: the connect string, and for a TLS cluster that its\n"
      "endpoints are TLS, the CA file to trust and how to get a client certificate.");
  cmd->add_option("name", flags.name, "Cluster name")->required();
  cmd->add_option("-o,--output", flags.output,
                  "Output format; json gives connectString, tls, caFile, clientCertificateCommand, credentials")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  zkpilot connect demo\n"
      "  zkpilot connect demo -o json | jq -r .connectString");
  return cmd;
}

int RunConnectCommand(const std::string& home, const ConnectFlags& flags) {
  return Print(LocalConnect(home, flags.name, flags.output == "json"));
}

}  // namespace zkpilot::cli
