// The local front of `zkpilot certs` and `zkpilot connect`
// (actions/certs_action.h): $ZKPILOT_HOME's clusters, their PKI files
// (local_pki.h).
#include <algorithm>
#include <filesystem>

#include "actions/certs_action.h"
#include "actions/cluster_actions.h"
#include "package/package_loader.h"
#include "platform/local/local_auth.h"
#include "platform/local/local_files.h"
#include "platform/local/local_pki.h"
#include "platform/local/local_platform.h"
#include "platform/local/local_tls.h"
#include "platform/local/paths.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

// What the commands read of a cluster: its current values and servers.
struct ClusterView {
  Values values;
  std::vector<NodeEndpoint> servers;
  // The TLS stage each server runs (render/renderer.h TlsStage), as the
  // supervisor classified it at its start; a server not classified (started
  // by an older zkpilot, or not yet) counts at the current values' stage.
  std::vector<int> stages;

  // Every server serves TLS (stage >= 1) / takes plaintext clients (<= 2).
  bool AllTls() const {
    return std::all_of(stages.begin(), stages.end(), [](int s) { return s >= 1; });
  }
  bool AllPlaintext() const {
    return std::all_of(stages.begin(), stages.end(), [](int s) { return s <= 2; });
  }
  bool AnyTls() const {
    return std::any_of(stages.begin(), stages.end(), [](int s) { return s >= 1; });
  }
};

// The cluster's record, package and current values; the servers as the
// platform places them (Topology: pure, starts nothing). Errors carry `context`.
Result<ClusterView> ViewCluster(const std::string& home, const std::string& name, const std::string& context) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenExistingState(home));
  auto record = FindCluster(*store, name);
  if (!record.ok()) return record.status().WithContext(context);
  auto package = LoadPackage(record->package_dir);
  if (!package.ok()) return package.status().WithContext(context);
  auto values = RevisionValues(*store, name, *package);
  if (!values.ok()) return values.status().WithContext(context);
  auto platform = LocalPlatform::Create(*store, home, name, *package, *values);
  if (!platform.ok()) return platform.status().WithContext(context);
  auto servers = (*platform)->Topology();
  if (!servers.ok()) return servers.status().WithContext(context);
  ClusterView view{*values, *servers, {}};
  // The nodes table as it is (Servers() would also see to the supervisor).
  auto nodes = store->ListNodes(name);
  if (!nodes.ok()) return nodes.status().WithContext(context);
  const int resting = static_cast<int>(TargetTlsStage(*values));
  for (const NodeRecord& n : *nodes) view.stages.push_back(n.tls_stage >= 0 ? n.tls_stage : resting);
  if (view.stages.empty()) view.stages.push_back(resting);
  return view;
}

// tls.renewBeforeDays, as EnsureClusterPki (local_tls.h) reads it: the
// listing judges with the renewal window the next deploy or change uses.
std::chrono::hours RenewBefore(const Values& values) {
  constexpr char kRenewBeforeDays[] = "tls.renewBeforeDays";
  const int days = values.Has(kRenewBeforeDays) && values.Get(kRenewBeforeDays).is_number_integer()
                       ? values.Get(kRenewBeforeDays).get<int>()
                       : 30;  // the package's default
  return std::chrono::hours(24 * days);
}

}  // namespace

Result<std::string> LocalClientCertificate(const std::string& home, const ClientCertificateRequest& request) {
  const std::string context = "certs " + request.name;
  ZK_RETURN_IF_ERROR(CheckClientName(request.client).WithContext(context));
  if (request.output_dir.empty()) return Status::InvalidInput(context + ": -o DIR: a directory is required");
  ZK_ASSIGN_OR_RETURN(ClusterView cluster, ViewCluster(home, request.name, context));
  // A switch to TLS under way: clients move while it runs.
  ZK_RETURN_IF_ERROR(RequireTls(request.name, TlsEnabled(cluster.values) || cluster.AnyTls()).WithContext(context));

  const std::string dir = request.output_dir;
  const std::string ca_out = dir + "/ca.crt", cert_out = dir + "/" + request.client + ".crt",
                    key_out = dir + "/" + request.client + ".key";
  std::error_code ec;
  if (fs::exists(key_out, ec) && !request.force)
    return Status::InvalidInput(context + ": " + key_out + " exists: --force replaces it (a new key and certificate)");
  const LocalPki pki = LocalPkiAt(ClusterHome(home, request.name));
  auto pair = IssueLocalClientCertificate(pki, request.client, request.validity);
  if (!pair.ok()) return pair.status().WithContext(context);
  auto ca_pem = ReadFile(pki.ca_cert);
  if (!ca_pem.ok()) return ca_pem.status().WithContext(context);

  // The directory holds a private key: owner only when it is made here.
  ZK_RETURN_IF_ERROR(MakeWritableDir(dir, "-o").WithContext(context));
  // Certificates are public (0644: a client running as another user may
  // read them); the key is the owner's only. Key before certificate: an
  // interrupted run leaves no certificate without its key.
  ZK_RETURN_IF_ERROR(WriteFileAtomically(ca_out, *ca_pem, 0644).WithContext(context));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(key_out, pair->key_pem, 0600).WithContext(context));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(cert_out, pair->cert_pem, 0644).WithContext(context));
  auto info = ReadCertificate(pair->cert_pem);
  if (!info.ok()) return info.status().WithContext(context);
  return "wrote " + ca_out + ", " + cert_out + ", " + key_out + "\n" + "client certificate " + info->subject +
         " of cluster " + request.name + ", valid until " + Rfc3339Utc(info->not_after) + "\n";
}

Result<std::string> LocalCertificates(const std::string& home, const std::string& name, bool json) {
  const std::string context = "certs " + name;
  ZK_ASSIGN_OR_RETURN(ClusterView cluster, ViewCluster(home, name, context));
  ZK_RETURN_IF_ERROR(RequireTls(name, TlsEnabled(cluster.values) || cluster.AnyTls()).WithContext(context));
  std::vector<int> ids;
  for (const NodeEndpoint& server : cluster.servers) ids.push_back(server.id);
  const LocalPki pki = LocalPkiAt(ClusterHome(home, name));
  std::vector<CertificateStatus> list;
  for (const LocalCertificate& c : InspectLocalPki(pki, ids, RenewBefore(cluster.values))) {
    CertificateStatus status{c.name, c.file, std::nullopt, c.renewal};
    if (auto info = ReadCertificate(c.cert_pem); info.ok()) status.info = *info;
    list.push_back(std::move(status));
  }
  return FormatCertificates(name, list, json);
}

Result<std::string> LocalConnect(const std::string& home, const std::string& name, bool json) {
  ZK_ASSIGN_OR_RETURN(ClusterView cluster, ViewCluster(home, name, "connect " + name));
  ConnectInfo info;
  info.cluster = name;
  for (const NodeEndpoint& server : cluster.servers) {
    if (!info.connect_string.empty()) info.connect_string += ",";
    info.connect_string += server.host + ":" + std::to_string(server.client_port);
  }
  info.tls = cluster.AllTls();
  info.plaintext_accepted = cluster.AllPlaintext();
  if (info.tls) info.ca_file = LocalPkiAt(ClusterHome(home, name)).ca_cert;
  ZK_ASSIGN_OR_RETURN(AuthSettings auth, AuthSettingsOf(cluster.values));
  if (auth.clients) {
    const LocalAuth files = LocalAuthAt(ClusterHome(home, name));
    for (const std::string& user : auth.users) info.sasl_users.push_back({user, files.PasswordPath(user)});
    info.auth_required = auth.enforce;
  }
  return FormatConnect(info, json);
}

}  // namespace zkpilot
