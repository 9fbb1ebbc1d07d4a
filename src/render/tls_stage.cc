// The TLS and quorum SASL stages of renderer.h: what the values ask for, and
// what one server's rendering asks for (ServerRender).
#include "render/renderer.h"

namespace zkpilot {
namespace {

bool On(const Values& values, const char* name) { return values.Has(name) && values.Get(name) == true; }

}  // namespace

TlsStage TargetTlsStage(const Values& values) {
  if (!On(values, "tls.enabled")) return TlsStage::kPlaintext;
  return On(values, "tls.allowPlaintext") ? TlsStage::kQuorumTls : TlsStage::kTls;
}

int TargetQuorumAuthStage(const Values& values) { return On(values, "auth.quorum") ? 3 : 0; }

TlsStage TlsStageOf(const ServerRender& render, const Values& values) {
  return render.tls_stage.value_or(TargetTlsStage(values));
}

bool ClientAddressesOf(const ServerRender& render, const Values& values) {
  return render.client_addresses.value_or(TlsStageOf(render, values) != TlsStage::kTls);
}

int QuorumAuthStageOf(const ServerRender& render, const Values& values) {
  return render.quorum_auth_stage.value_or(TargetQuorumAuthStage(values));
}

nlohmann::json TlsTemplateContext(const ServerRender& render, const Values& values) {
  const int stage = static_cast<int>(TlsStageOf(render, values));
  // Schemes that satisfy auth.enforce (AuthenticationHelper): zkpilot is
  // x509 over TLS and the super digest over plaintext (its C client has no
  // SASL); while both are served (stages 1, 2) both must count, or clients
  // not yet moved would be locked out.
  const char* schemes = stage == 0 ? "sasl,digest" : stage == 3 ? "sasl,x509" : "sasl,digest,x509";
  return {{"stage", stage},
          {"files", stage >= 1},
          {"clientUnified", stage == 1 || stage == 2},
          {"quorumUnified", stage == 1 || stage == 2},
          {"clientOnly", stage == 3},
          {"sslQuorum", stage >= 2},
          {"lineClient", ClientAddressesOf(render, values)},
          {"enforceSchemes", schemes}};
}

}  // namespace zkpilot
