// The command line of `zkpilot certs` and `zkpilot connect`
// (actions/certs_action.h): flags → request → the local front → output.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "actions/certs_action.h"

namespace zkpilot::cli {

struct CertsFlags {
  ClientCertificateRequest request;  // name, client, output_dir, validity, force
  std::string output;                // -o: DIR with --client, else table|json
  int64_t validity_hours = 24 * 90;  // --validity
};
CLI::App* AddCertsCommand(CLI::App& app, CertsFlags& flags);
int RunCertsCommand(const std::string& home, CertsFlags& flags);

struct ConnectFlags {
  std::string name;
  std::string output = "text";
};
CLI::App* AddConnectCommand(CLI::App& app, ConnectFlags& flags);
int RunConnectCommand(const std::string& home, const ConnectFlags& flags);

// "--validity": whole days ("90d") or hours ("36h"), from 1h to 3650d,
// handed on as whole hours. Use with Option::transform.
CLI::Validator CertificateValidityFlag();

}  // namespace zkpilot::cli
