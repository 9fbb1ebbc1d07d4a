#include "zk/zk_client.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "zk/ensemble_config.h"

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<ClientLogging> g_logging{ClientLogging::kQuiet};

void LogToSpdlog(const char* message) {
  std::string_view text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (g_logging.load() == ClientLogging::kVerbose) {
    spdlog::info("zookeeper client: {}", text);
  } else {
    spdlog::debug("zookeeper client: {}", text);
  }
}

// Applies the process-wide C client log settings. Messages logged without a
// handle go to the library's stream, which is /dev/null unless verbose.
void ApplyClientLogging() {
  static FILE* dev_null = std::fopen("/dev/null", "w");
  bool verbose = g_logging.load() == ClientLogging::kVerbose;
  zoo_set_debug_level(verbose ? ZOO_LOG_LEVEL_INFO : ZOO_LOG_LEVEL_ERROR);
  zoo_set_log_stream(verbose || dev_null == nullptr ? stderr : dev_null);
}

const char* RcName(int rc) {
  switch (rc) {
    case ZOK:
      return "ZOK";
    case ZSYSTEMERROR:
      return "ZSYSTEMERROR";
    case ZRUNTIMEINCONSISTENCY:
      return "ZRUNTIMEINCONSISTENCY";
    case ZDATAINCONSISTENCY:
      return "ZDATAINCONSISTENCY";
    case ZCONNECTIONLOSS:
      return "ZCONNECTIONLOSS";
    case ZMARSHALLINGERROR:
      return "ZMARSHALLINGERROR";
    case ZUNIMPLEMENTED:
      return "ZUNIMPLEMENTED";
    case ZOPERATIONTIMEOUT:
      return "ZOPERATIONTIMEOUT";
    case ZBADARGUMENTS:
      return "ZBADARGUMENTS";
    case ZINVALIDSTATE:
      return "ZINVALIDSTATE";
    case ZNEWCONFIGNOQUORUM:
      return "ZNEWCONFIGNOQUORUM";
    case ZRECONFIGINPROGRESS:
      return "ZRECONFIGINPROGRESS";
    case ZRECONFIGDISABLED:
      return "ZRECONFIGDISABLED";
    case ZSSLCONNECTIONERROR:
      return "ZSSLCONNECTIONERROR";
    case ZAPIERROR:
      return "ZAPIERROR";
    case ZNONODE:
      return "ZNONODE";
    case ZNOAUTH:
      return "ZNOAUTH";
    case ZBADVERSION:
      return "ZBADVERSION";
    case ZNOCHILDRENFOREPHEMERALS:
      return "ZNOCHILDRENFOREPHEMERALS";
    case ZNODEEXISTS:
      return "ZNODEEXISTS";
    case ZNOTEMPTY:
      return "ZNOTEMPTY";
    case ZSESSIONEXPIRED:
      return "ZSESSIONEXPIRED";
    case ZINVALIDCALLBACK:
      return "ZINVALIDCALLBACK";
    case ZINVALIDACL:
      return "ZINVALIDACL";
    case ZAUTHFAILED:
      return "ZAUTHFAILED";
    case ZCLOSING:
      return "ZCLOSING";
    case ZNOTHING:
      return "ZNOTHING";
    case ZSESSIONMOVED:
      return "ZSESSIONMOVED";
    case ZNOTREADONLY:
      return "ZNOTREADONLY";
    case ZEPHEMERALONLOCALSESSION:
      return "ZEPHEMERALONLOCALSESSION";
    default:
      return "unknown";
  }
}

// "create /a/b: node does not exist (ZNONODE)"
Status ZkError(int rc, std::string_view op, std::string_view path) {
  std::string target = path.empty() ? std::string(op) : fmt::format("{} {}", op, path);
  std::string msg = fmt::format("{}: {} ({})", target, zerror(rc), RcName(rc));
  switch (rc) {
    case ZNONODE:
      return Status::NotFound(std::move(msg));
    case ZBADARGUMENTS:
    case ZINVALIDACL:
      return Status::InvalidInput(std::move(msg));
    default:
      return Status::IOError(std::move(msg));
  }
}

const char* StateName(int state) {
  if (state == 0) return "not started";
  if (state == ZOO_CONNECTING_STATE) return "connecting";
  if (state == ZOO_ASSOCIATING_STATE) return "associating";
  if (state == ZOO_CONNECTED_STATE) return "connected";
  if (state == ZOO_READONLY_STATE) return "read-only";
  if (state == ZOO_EXPIRED_SESSION_STATE) return "session expired";
  if (state == ZOO_AUTH_FAILED_STATE) return "authentication failed";
  if (state == ZOO_NOTCONNECTED_STATE) return "not connected";
  return "unknown";
}

Status ValidatePath(std::string_view op, const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status::InvalidInput(fmt::format("{} '{}': a path must start with '/'", op, path));
  }
  if (path.size() > 1 && path.back() == '/') {
    return Status::InvalidInput(fmt::format("{} '{}': a path must not end with '/'", op, path));
  }
  if (path.find("//") != std::string::npos) {
    return Status::InvalidInput(fmt::format("{} '{}': empty path component", op, path));
  }
  return Status::Ok();
}

// An ACL list in the C client's form, owning its strings.
class AclList {
 public:
  static Result<AclList> Parse(const std::string& text) {
    AclList list;
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      std::string entry =
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      size_t first = entry.find(':');
      size_t last = entry.rfind(':');
      if (first == std::string::npos || first == last) {
        return Status::InvalidInput(fmt::format("acl '{}': expected scheme:id:perms", entry));
      }
      int32_t perms = 0;
      for (char c : entry.substr(last + 1)) {
        switch (c) {
          case 'c':
            perms |= ZOO_PERM_CREATE;
            break;
          case 'd':
            perms |= ZOO_PERM_DELETE;
            break;
          case 'r':
            perms |= ZOO_PERM_READ;
            break;
          case 'w':
            perms |= ZOO_PERM_WRITE;
            break;
          case 'a':
            perms |= ZOO_PERM_ADMIN;
            break;
          default:
            return Status::InvalidInput(
                fmt::format("acl '{}': unknown permission '{}' (use crwda)", entry, c));
        }
      }
      list.entries_.push_back(
          {entry.substr(0, first), entry.substr(first + 1, last - first - 1), perms});
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return list;
  }

  // Valid while this list lives and is not modified.
  ACL_vector* Get() {
    acls_.clear();
    for (Entry& e : entries_) acls_.push_back(ACL{e.perms, Id{e.scheme.data(), e.id.data()}});
    vector_ = ACL_vector{static_cast<int32_t>(acls_.size()), acls_.data()};
    return &vector_;
  }

 private:
  struct Entry {
    std::string scheme;
    std::string id;
    int32_t perms;
  };
  std::vector<Entry> entries_;
  std::vector<ACL> acls_;
  ACL_vector vector_{};
};

int CreateFlags(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent:
      return ZOO_PERSISTENT;
    case CreateMode::kEphemeral:
      return ZOO_EPHEMERAL;
    case CreateMode::kPersistentSequential:
      return ZOO_PERSISTENT_SEQUENTIAL;
    case CreateMode::kEphemeralSequential:
      return ZOO_EPHEMERAL_SEQUENTIAL;
  }
  return ZOO_PERSISTENT;
}

// The result of one asynchronous C call, shared between the caller and the
// completion: the caller may give up waiting before the completion runs.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;

  // The completion's `data`: a heap-held reference that the completion frees.
  static void* NewRef(const std::shared_ptr<Pending>& p) { return new std::shared_ptr<Pending>(p); }
  static void FreeRef(const void* data) {
    delete static_cast<std::shared_ptr<Pending>*>(const_cast<void*>(data));
  }
  static void Complete(int rc, const void* data) {
    std::shared_ptr<Pending> p = *static_cast<const std::shared_ptr<Pending>*>(data);
    FreeRef(data);
    std::lock_guard<std::mutex> lock(p->mu);
    p->done = true;
    p->rc = rc;
    p->cv.notify_all();
  }
  static void CompleteString(int rc, const char* /*value*/, const void* data) {
    Complete(rc, data);
  }
  static void CompleteData(int rc, const char* /*value*/, int /*len*/, const struct Stat* /*stat*/,
                           const void* data) {
    Complete(rc, data);
  }

  // The completion's rc, or nullopt while it has not run.
  std::optional<int> Peek() {
    std::lock_guard<std::mutex> lock(mu);
    if (!done) return std::nullopt;
    return rc;
  }

  // The completion's rc, or nullopt at the deadline.
  std::optional<int> Wait(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return done; })) return std::nullopt;
    return rc;
  }
};

constexpr int kInitialBuffer = 64 * 1024;

// The non-empty items of a comma-separated list, trimmed.
std::vector<std::string_view> SplitList(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace

struct ZkClient::Impl {
  // Declared first, so destroyed last: after ~Impl has closed the session.
  std::unique_ptr<TlsTunnel> tunnel;
  zhandle_t* zh = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  int state = 0;  // the last session state reported to the watcher
  std::string own_acl_id;  // see OwnAclId; set at Connect (TLS) or by AddAuth

  ~Impl() {
    if (zh != nullptr) zookeeper_close(zh);  // joins the client's threads
  }

  static void Watcher(zhandle_t* /*zh*/, int type, int state, const char* /*path*/, void* context) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* impl = static_cast<Impl*>(context);
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->state = state;
    impl->cv.notify_all();
  }

  // How long an asynchronous call may take: the C client reports connection
  // loss within the session timeout, so this is only a backstop.
  Clock::time_point AsyncDeadline() const {
    return Clock::now() + std::chrono::milliseconds(std::max(zoo_recv_timeout(zh), 1000) * 2);
  }
};

// The subject of a PEM certificate as Java's X500Principal.getName() prints
// it (RFC 2253), which X509AuthenticationProvider.getClientId uses as the id;
// "" when it cannot be read (the tunnel then fails with the reason). The
// certificate is the in-memory PEM when there is one, else the file.
static std::string CertificateSubject(const TlsClientFiles& tls) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      !tls.cert_pem.empty() ? BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()))
                            : BIO_new_file(tls.cert_file.c_str(), "r"),
      &BIO_free);
  if (!in) return "";
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return "";
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253) < 0)
    return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : "";
}

std::string DigestId(const std::string& user, const std::string& password) {
  std::string input = user + ":" + password;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr);
  std::string encoded(4 * ((digest_len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest,
                          static_cast<int>(digest_len));
  encoded.resize(static_cast<size_t>(n));
  return user + ":" + encoded;
}

ZkClient::ZkClient(std::string connect_string, std::unique_ptr<Impl> impl)
    : connect_string_(std::move(connect_string)), impl_(std::move(impl)) {}

ZkClient::~ZkClient() = default;

void ZkClient::SetClientLogging(ClientLogging logging) {
  g_logging.store(logging);
  ApplyClientLogging();
}

Result<std::unique_ptr<ZkClient>> ZkClient::Connect(const std::string& connect_string,
                                                    std::chrono::milliseconds timeout,
                                                    int session_timeout_ms) {
  ZkConnectOptions options;
  options.session_timeout_ms = session_timeout_ms;
  return Connect(connect_string, timeout, options);
}

Result<std::unique_ptr<ZkClient>> ZkClient::Connect(const std::string& connect_string,
                                                    std::chrono::milliseconds timeout,
                                                    const ZkConnectOptions& options) {
  if (!options.tls) return ConnectVia(connect_string, connect_string, nullptr, timeout, options);
  // "h1:p1,h2:p2/chroot": the tunnel gets the servers, the chroot stays.
  const size_t slash = connect_string.find('/');
  std::vector<Endpoint> servers;
  for (std::string_view item : SplitList(std::string_view(connect_string).substr(0, slash))) {
    Result<Endpoint> server = ParseEndpoint(item);
    if (!server.ok()) return server.status().WithContext("connect " + connect_string);
    servers.push_back(*server);
  }
  return ConnectTunneled(servers, slash == std::string::npos ? "" : connect_string.substr(slash),
                         connect_string, timeout, options);
}

Result<std::unique_ptr<ZkClient>> ZkClient::Connect(const std::vector<Endpoint>& servers,
                                                    std::chrono::milliseconds timeout,
                                                    const ZkConnectOptions& options) {
  std::string connect_string;
  for (const Endpoint& server : servers)
    connect_string += (connect_string.empty() ? "" : ",") + server.ToString();
  if (!options.tls) return ConnectVia(connect_string, connect_string, nullptr, timeout, options);
  return ConnectTunneled(servers, "", connect_string, timeout, options);
}

Result<std::unique_ptr<ZkClient>> ZkClient::ConnectTunneled(const std::vector<Endpoint>& servers,
                                                            const std::string& chroot,
                                                            const std::string& connect_string,
                                                            std::chrono::milliseconds timeout,
                                                            const ZkConnectOptions& options) {
  if (servers.empty()) return Status::InvalidInput("connect '" + connect_string + "': no servers");
  Result<std::unique_ptr<TlsTunnel>> tunnel = TlsTunnel::Start(servers, *options.tls);
  if (!tunnel.ok()) return tunnel.status().WithContext("connect " + connect_string);
  const std::string c_connect = (*tunnel)->ConnectString() + chroot;
  return ConnectVia(connect_string, c_connect, std::move(tunnel).value(), timeout, options);
}

Result<std::unique_ptr<ZkClient>> ZkClient::ConnectVia(const std::string& connect_string,
                                                       const std::string& c_connect,
                                                       std::unique_ptr<TlsTunnel> tunnel,
                                                       std::chrono::milliseconds timeout,
                                                       const ZkConnectOptions& options) {
  ApplyClientLogging();
  auto impl = std::make_unique<Impl>();
  impl->tunnel = std::move(tunnel);
  if (options.tls) {
    const std::string subject = CertificateSubject(*options.tls);
    if (!subject.empty()) impl->own_acl_id = "x509:" + subject;
  }
  errno = 0;
  impl->zh = zookeeper_init2(c_connect.c_str(), &Impl::Watcher, options.session_timeout_ms, nullptr,
                             impl.get(), 0, &LogToSpdlog);
  if (impl->zh == nullptr) {
    int err = errno;
    return Status::IOError(
        fmt::format("connect {}: {}", connect_string,
                    err != 0 ? std::strerror(err) : "cannot create a client handle"));
  }
  std::unique_lock<std::mutex> lock(impl->mu);
  bool settled = impl->cv.wait_for(lock, timeout, [&] {
    return impl->state == ZOO_CONNECTED_STATE || impl->state == ZOO_EXPIRED_SESSION_STATE ||
           impl->state == ZOO_AUTH_FAILED_STATE;
  });
  int state = impl->state;
  lock.unlock();
  if (!settled) {
    const std::string tls_error = impl->tunnel ? impl->tunnel->LastError() : "";
    return Status::IOError(fmt::format(
        "connect {}: no session within {}ms (state: {}; {})", connect_string, timeout.count(),
        StateName(state),
        tls_error.empty() ? "no server reachable, or no quorum" : "over TLS: " + tls_error));
  }
  if (state != ZOO_CONNECTED_STATE) {
    return Status::IOError(fmt::format("connect {}: {}", connect_string, StateName(state)));
  }
  return std::unique_ptr<ZkClient>(new ZkClient(connect_string, std::move(impl)));
}

Status ZkClient::AddAuth(const std::string& scheme, const std::string& credentials) {
  auto pending = std::make_shared<Pending>();
  void* ref = Pending::NewRef(pending);
  int rc = zoo_add_auth(impl_->zh, scheme.c_str(), credentials.data(),
                        static_cast<int>(credentials.size()), &Pending::Complete, ref);
  if (rc != ZOK) {
    Pending::FreeRef(ref);
    return ZkError(rc, "add auth", scheme);
  }
  std::optional<int> done = pending->Wait(impl_->AsyncDeadline());
  if (!done) return Status::IOError(fmt::format("add auth {}: no answer from the server", scheme));
  if (*done != ZOK) return ZkError(*done, "add auth", scheme);
  const size_t colon = credentials.find(':');
  if (scheme == "digest" && colon != std::string::npos && impl_->own_acl_id.empty())
    impl_->own_acl_id =
        "digest:" + DigestId(credentials.substr(0, colon), credentials.substr(colon + 1));
  return Status::Ok();
}

std::string ZkClient::OwnAclId() const { return impl_->own_acl_id; }

Status ZkClient::Create(const std::string& path, const std::string& data,
                        const CreateOptions& options) {
  return CreateNode(path, data, options).status();
}

Result<CreatedNode> ZkClient::CreateNode(const std::string& path, const std::string& data,
                                         const CreateOptions& options) {
  ZK_RETURN_IF_ERROR(ValidatePath("create", path));
  if (path == "/") return Status::InvalidInput("create /: the root always exists");
  Result<AclList> parsed_acl = AclList::Parse(options.acl);
  if (!parsed_acl.ok()) return parsed_acl.status().WithContext(fmt::format("create {}", path));
  AclList acl = std::move(parsed_acl).value();
  if (options.make_parents) {
    for (size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string parent = path.substr(0, slash);
      int rc = zoo_create(impl_->zh, parent.c_str(), "", 0, acl.Get(), ZOO_PERSISTENT, nullptr, 0);
      if (rc != ZOK && rc != ZNODEEXISTS) {
        return ZkError(rc, "create", path).WithContext(fmt::format("create parent {}", parent));
      }
    }
  }
  std::string created(path.size() + 64, '\0');
  int rc =
      zoo_create(impl_->zh, path.c_str(), data.data(), static_cast<int>(data.size()), acl.Get(),
                 CreateFlags(options.mode), created.data(), static_cast<int>(created.size()));
  CreatedNode node;
  if (rc == ZNODEEXISTS && options.ignore_existing) {
    if (options.enforce_acl) {
      rc = zoo_set_acl(impl_->zh, path.c_str(), -1, acl.Get());
      if (rc != ZOK) return ZkError(rc, "setAcl", path);
    }
    node.outcome = CreatedNode::Outcome::kAlreadyExisted;
    node.path = path;
    return node;
  }
  if (rc != ZOK) return ZkError(rc, "create", path);
  created.resize(std::strlen(created.c_str()));
  node.path = created;
  return node;
}

Result<bool> ZkClient::Exists(const std::string& path) {
  ZK_RETURN_IF_ERROR(ValidatePath("exists", path));
  Stat stat{};
  int rc = zoo_exists(impl_->zh, path.c_str(), 0, &stat);
  if (rc == ZOK) return true;
  if (rc == ZNONODE) return false;
  return ZkError(rc, "exists", path);
}

Result<std::string> ZkClient::Get(const std::string& path) {
  ZK_RETURN_IF_ERROR(ValidatePath("get", path));
  std::string buffer(kInitialBuffer, '\0');
  for (int attempt = 0; attempt < 5; ++attempt) {
    int len = static_cast<int>(buffer.size());
    Stat stat{};
    int rc = zoo_get(impl_->zh, path.c_str(), 0, buffer.data(), &len, &stat);
    if (rc != ZOK) return ZkError(rc, "get", path);
    if (stat.dataLength > static_cast<int>(buffer.size())) {  // truncated: the node is larger
      buffer.resize(static_cast<size_t>(stat.dataLength));
      continue;
    }
    buffer.resize(len < 0 ? 0 : static_cast<size_t>(len));  // len -1: null data
    return buffer;
  }
  return Status::IOError(fmt::format("get {}: the data kept growing while reading it", path));
}

Status ZkClient::Set(const std::string& path, const std::string& data) {
  ZK_RETURN_IF_ERROR(ValidatePath("set", path));
  int rc = zoo_set(impl_->zh, path.c_str(), data.data(), static_cast<int>(data.size()), -1);
  if (rc != ZOK) return ZkError(rc, "set", path);
  return Status::Ok();
}

Status ZkClient::Delete(const std::string& path, DeleteMode mode) {
  ZK_RETURN_IF_ERROR(ValidatePath("delete", path));
  if (path == "/") return Status::InvalidInput("delete /: refusing to delete the root");
  if (mode == DeleteMode::kRecursive) return DeleteRecursive(path);
  int rc = zoo_delete(impl_->zh, path.c_str(), -1);
  if (rc != ZOK) return ZkError(rc, "delete", path);
  return Status::Ok();
}

Status ZkClient::DeleteRecursive(const std::string& path) {
  // Children may appear concurrently; a few rounds settle ordinary races.
  for (int attempt = 0;; ++attempt) {
    ZK_ASSIGN_OR_RETURN(std::vector<std::string> children, Children(path));
    for (const std::string& child : children) {
      Status s = DeleteRecursive(path + "/" + child);
      if (!s.ok() && s.code() != ErrorCode::kNotFound) return s;
    }
    int rc = zoo_delete(impl_->zh, path.c_str(), -1);
    if (rc == ZOK) return Status::Ok();
    if (rc != ZNOTEMPTY || attempt == 3) return ZkError(rc, "delete", path);
  }
}

Result<std::vector<std::string>> ZkClient::Children(const std::string& path) {
  ZK_RETURN_IF_ERROR(ValidatePath("children", path));
  String_vector strings{};
  int rc = zoo_get_children(impl_->zh, path.c_str(), 0, &strings);
  if (rc != ZOK) return ZkError(rc, "children", path);
  std::vector<std::string> names(strings.data, strings.data + strings.count);
  deallocate_String_vector(&strings);
  std::sort(names.begin(), names.end());
  return names;
}

Status ZkClient::Sync(const std::string& path) {
  ZK_RETURN_IF_ERROR(ValidatePath("sync", path));
  auto pending = std::make_shared<Pending>();
  void* ref = Pending::NewRef(pending);
  int rc = zoo_async(impl_->zh, path.c_str(), &Pending::CompleteString, ref);
  if (rc != ZOK) {
    Pending::FreeRef(ref);
    return ZkError(rc, "sync", path);
  }
  std::optional<int> done = pending->Wait(impl_->AsyncDeadline());
  if (!done) return Status::IOError(fmt::format("sync {}: no answer from the server", path));
  if (*done != ZOK) return ZkError(*done, "sync", path);
  return Status::Ok();
}

Result<std::string> ZkClient::GetConfig() {
  std::string buffer(kInitialBuffer, '\0');
  for (int attempt = 0; attempt < 5; ++attempt) {
    int len = static_cast<int>(buffer.size());
    Stat stat{};
    int rc = zoo_getconfig(impl_->zh, 0, buffer.data(), &len, &stat);
    if (rc != ZOK) return ZkError(rc, "get config", "");
    if (stat.dataLength > static_cast<int>(buffer.size())) {
      buffer.resize(static_cast<size_t>(stat.dataLength));
      continue;
    }
    buffer.resize(len < 0 ? 0 : static_cast<size_t>(len));
    return buffer;
  }
  return Status::IOError("get config: the config kept growing while reading it");
}

Result<std::string> ZkClient::Reconfig(const std::string& joining, const std::string& leaving,
                                       int64_t from_config) {
  std::string what = fmt::format("reconfig (joining '{}', leaving '{}')", joining, leaving);
  if (joining.empty() && leaving.empty()) return Status::InvalidInput(what + ": nothing to change");
  std::string buffer(kInitialBuffer, '\0');
  int len = static_cast<int>(buffer.size());
  Stat stat{};
  int rc = zoo_reconfig(impl_->zh, joining.empty() ? nullptr : joining.c_str(),
                        leaving.empty() ? nullptr : leaving.c_str(), nullptr, from_config,
                        buffer.data(), &len, &stat);
  if (rc == ZCONNECTIONLOSS) {
    // Expected when the leader itself leaves: it commits the change, steps
    // down, and the followers drop their clients during the new election.
    // Whether the change took effect is read back once the session is back.
    Result<std::string> config = AwaitReconfigResult(joining, leaving);
    if (config.ok()) return config;
    return Status::IOError(ZkError(rc, what, "").message() + "; " + config.status().message());
  }
  if (rc != ZOK) return ZkError(rc, what, "");
  if (stat.dataLength > static_cast<int>(buffer.size())) {
    return GetConfig();  // too large for the buffer
  }
  buffer.resize(len < 0 ? 0 : static_cast<size_t>(len));
  return buffer;
}

Result<std::string> ZkClient::SetMembers(const std::string& members, int64_t from_config) {
  std::string what = fmt::format("reconfig (members '{}')", members);
  if (members.empty()) return Status::InvalidInput(what + ": no members");
  std::string buffer(kInitialBuffer, '\0');
  int len = static_cast<int>(buffer.size());
  Stat stat{};
  int rc = zoo_reconfig(impl_->zh, nullptr, nullptr, members.c_str(), from_config, buffer.data(), &len, &stat);
  if (rc != ZOK) return ZkError(rc, what, "");
  if (stat.dataLength > static_cast<int>(buffer.size())) return GetConfig();
  buffer.resize(len < 0 ? 0 : static_cast<size_t>(len));
  return buffer;
}

Result<std::function<std::optional<Status>()>> ZkClient::StartSetMembers(const std::string& members,
                                                                          int64_t from_config) {
  std::string what = fmt::format("reconfig (members '{}')", members);
  if (members.empty()) return Status::InvalidInput(what + ": no members");
  auto pending = std::make_shared<Pending>();
  void* ref = Pending::NewRef(pending);
  int rc = zoo_areconfig(impl_->zh, nullptr, nullptr, members.c_str(), from_config, &Pending::CompleteData, ref);
  if (rc != ZOK) {
    Pending::FreeRef(ref);
    return ZkError(rc, what, "");
  }
  return std::function<std::optional<Status>()>([pending, what]() -> std::optional<Status> {
    std::optional<int> done = pending->Peek();
    if (!done) return std::nullopt;
    return *done == ZOK ? Status::Ok() : ZkError(*done, what, "");
  });
}

Result<std::function<std::optional<Status>()>> ZkClient::StartReconfig(const std::string& joining,
                                                                        const std::string& leaving) {
  std::string what = fmt::format("reconfig (joining '{}', leaving '{}')", joining, leaving);
  if (joining.empty() && leaving.empty()) return Status::InvalidInput(what + ": nothing to change");
  auto pending = std::make_shared<Pending>();
  void* ref = Pending::NewRef(pending);
  int rc = zoo_areconfig(impl_->zh, joining.empty() ? nullptr : joining.c_str(),
                         leaving.empty() ? nullptr : leaving.c_str(), nullptr, -1, &Pending::CompleteData, ref);
  if (rc != ZOK) {
    Pending::FreeRef(ref);
    return ZkError(rc, what, "");
  }
  return std::function<std::optional<Status>()>([pending, what]() -> std::optional<Status> {
    std::optional<int> done = pending->Peek();
    if (!done) return std::nullopt;
    return *done == ZOK ? Status::Ok() : ZkError(*done, what, "");
  });
}

Result<std::string> ZkClient::AwaitReconfigResult(const std::string& joining,
                                                  const std::string& leaving) {
  std::vector<ServerEntry> joined;
  for (std::string_view line : SplitList(joining)) {
    ZK_ASSIGN_OR_RETURN(ServerEntry entry, ParseServerLine(line));
    joined.push_back(entry);
  }
  std::vector<int> left;
  for (std::string_view id : SplitList(leaving)) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    if (ec != std::errc() || ptr != id.data() + id.size()) {
      return Status::InvalidInput(fmt::format("leaving: bad server id '{}'", id));
    }
    left.push_back(value);
  }
  const Clock::time_point deadline = impl_->AsyncDeadline();
  Status last = Status::IOError("the change is not in effect");
  while (Clock::now() < deadline) {
    Result<std::string> text = GetConfig();
    if (text.ok()) {
      ZK_ASSIGN_OR_RETURN(EnsembleConfig config, ParseEnsembleConfig(*text));
      bool in_effect = true;
      for (int id : left) in_effect = in_effect && config.servers.count(id) == 0;
      for (const ServerEntry& entry : joined) {
        auto it = config.servers.find(entry.id);
        in_effect = in_effect && it != config.servers.end() && it->second == entry;
      }
      if (in_effect) return text;
      return Status::IOError("after reconnecting, the config does not show the change");
    }
    last = text.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last.WithContext("reading the config back");
}

Status ZkClient::SetQuota(const std::string& path, int64_t bytes, int64_t count) {
  ZK_RETURN_IF_ERROR(ValidatePath("set quota", path));
  if (path == "/" || path == "/zookeeper" || path.starts_with("/zookeeper/")) {
    return Status::InvalidInput(
        fmt::format("set quota {}: not allowed on the root or /zookeeper", path));
  }
  const std::string context = fmt::format("set quota {}", path);
  const std::string quota_dir = "/zookeeper/quota" + path;
  const std::string limits = fmt::format("count={},bytes={}", count, bytes);
  ZK_RETURN_IF_ERROR(
      Create(quota_dir, "", {.make_parents = true, .ignore_existing = true}).WithContext(context));
  // The limits node first: the server starts tracking when the stats node appears.
  ZK_ASSIGN_OR_RETURN(CreatedNode node, CreateNode(quota_dir + "/zookeeper_limits", limits,
                                                   {.ignore_existing = true}));
  if (node.outcome == CreatedNode::Outcome::kAlreadyExisted) {
    ZK_RETURN_IF_ERROR(Set(quota_dir + "/zookeeper_limits", limits).WithContext(context));
  }
  ZK_RETURN_IF_ERROR(
      Create(quota_dir + "/zookeeper_stats", "count=0,bytes=0", {.ignore_existing = true})
          .WithContext(context));
  return Status::Ok();
}

}  // namespace zkpilot
