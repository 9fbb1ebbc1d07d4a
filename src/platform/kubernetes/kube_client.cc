#include "platform/kubernetes/kube_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <regex>
#include <string_view>

#include "platform/kubernetes/exec_ws.h"
#include "platform/kubernetes/kube_client_credentials.h"
#include "platform/kubernetes/kube_client_http.h"

namespace zkpilot {
namespace {

using nlohmann::json;

// Watches end at the server's timeoutSeconds; this is how much longer the
// client waits before it calls the stream dead.
constexpr auto kWatchGrace = std::chrono::seconds(30);

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// One HTTP exchange.
struct HttpCall {
  std::string method = "GET";
  std::string path;  // with its query
  std::optional<std::string> body;
  std::string content_type = "application/json";
  std::string accept = "application/json";
  std::chrono::seconds timeout{0};  // 0: none (connect timeout only)
  // Set: a 2xx body goes here chunk by chunk; returning false ends the transfer.
  std::function<bool(std::string_view)> stream;

  std::string Name() const { return method + " " + path.substr(0, path.find('?')); }
};

struct HttpAnswer {
  long status = 0;
  std::string body;  // all of it, or (streamed calls) only of a non-2xx answer
  std::optional<int> retry_after;
  bool stopped = false;  // the stream callback asked to stop
};

struct Transfer {
  CURL* handle;
  const HttpCall* call;
  HttpAnswer* answer;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  if (t->call->stream && status >= 200 && status < 300) {
    if (!t->call->stream(std::string_view(data, n))) {
      t->answer->stopped = true;
      return 0;  // ends the transfer (CURLE_WRITE_ERROR, which is no error here)
    }
    return n;
  }
  t->answer->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0)
    t->answer->retry_after.reset();  // a new response (after a 100, a proxy's 200)
  static const std::regex kRetryAfter(R"(^retry-after:\s*(\d+)\s*$)", std::regex::icase);
  std::smatch m;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (std::regex_match(line, m, kRetryAfter)) t->answer->retry_after = std::stoi(m[1]);
  return n;
}

// Splits a stream into lines; the last partial line waits for more.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<bool(const std::string&)> line) : line_(std::move(line)) {}
  bool Feed(std::string_view chunk) {
    pending_.append(chunk.data(), chunk.size());
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!line_(pending_.substr(start, nl - start))) return false;
    }
    pending_.erase(0, start);
    return true;
  }
  bool Flush() {
    if (pending_.empty()) return true;
    std::string last;
    last.swap(pending_);
    return line_(last);
  }

 private:
  std::function<bool(const std::string&)> line_;
  std::string pending_;
};

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

class CurlKubeClient final : public KubeClient {
 public:
  CurlKubeClient(KubeConnection c, ServerUrl url, CurlHandle handle)
      : KubeClient(std::move(c)),
        url_(std::move(url)),
        handle_(std::move(handle)),
        credentials_(connection_) {}

  Result<ResourceRef> Resolve(const std::string& api_version, const std::string& kind) override;
  Result<json> Request(const std::string& method, const std::string& path,
                       const std::optional<json>& body, const std::string& content_type) override;
  Result<std::optional<json>> Get(const ResourceRef& r, const std::string& ns,
                                  const std::string& name) override;
  Result<json> List(const ResourceRef& r, const std::string& ns,
                    const ListOptions& options) override;
  Result<json> Create(const ResourceRef& r, const std::string& ns, const json& object) override;
  Result<json> Apply(const ResourceRef& r, const std::string& ns, const json& object,
                     const std::string& field_manager, bool force,
                     const std::string& subresource) override;
  Result<json> MergePatch(const ResourceRef& r, const std::string& ns, const std::string& name,
                          const json& patch, const std::string& subresource) override;
  Result<json> Replace(const ResourceRef& r, const std::string& ns, const json& object,
                       const std::string& subresource) override;
  Status Delete(const ResourceRef& r, const std::string& ns, const std::string& name,
                bool ignore_missing, const std::string& propagation,
                std::optional<int64_t> grace_seconds) override;
  Status Watch(const ResourceRef& r, const std::string& ns, const std::string& resource_version,
               const ListOptions& options, std::chrono::seconds timeout,
               const std::function<bool(const WatchEvent&)>& handler) override;
  Status PodLogs(const std::string& ns, const std::string& pod, const std::string& container,
                 bool follow, std::optional<int> tail_lines,
                 const std::function<bool(const std::string&)>& sink) override;
  Result<ExecResult> Exec(const std::string& ns, const std::string& pod,
                          const std::string& container,
                          const std::vector<std::string>& command) override;

 private:
  // Sends `call` with the current credentials, once more with fresh ones
  // after a 401 when that may help. Transport failures are errors; any HTTP
  // answer is returned.
  Result<HttpAnswer> Send(const HttpCall& call);
  Result<HttpAnswer> SendOnce(CURL* handle, const HttpCall& call, const RequestCredentials& creds);
  // Send + the answer's status as a Status; the body of a 2xx.
  Result<std::string> Call(const HttpCall& call);
  Result<json> CallJson(const HttpCall& call);
  Result<json> FetchGroupVersion(const std::string& api_version);

  std::string Namespace(const ResourceRef& r, const std::string& ns,
                        const json* object = nullptr) const;
  static std::string Query(const ListOptions& options);

  ServerUrl url_;
  CurlHandle handle_;  // plain requests; streams use their own
  CredentialSource credentials_;
  std::map<std::string, json> discovery_;  // groupVersion → APIResourceList
};

Result<HttpAnswer> CurlKubeClient::SendOnce(CURL* h, const HttpCall& call,
                                            const RequestCredentials& creds) {
  curl_easy_reset(h);  // keeps the connection, the TLS session and DNS caches
  HttpAnswer answer;
  Transfer transfer{h, &call, &answer};
  char error[CURL_ERROR_SIZE] = "";

  std::string url;
  std::string connect_to;
  if (connection_.tls_server_name.empty()) {
    url = connection_.server + call.path;
  } else {
    // Verify the certificate for tls-server-name while connecting to the server's address.
    url = url_.scheme + "://" + connection_.tls_server_name + ":" + url_.port + url_.prefix +
          call.path;
    connect_to = connection_.tls_server_name + ":" + url_.port + ":" +
                 (url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host) +
                 ":" + url_.port;
  }
  Slist connect_list(connect_to.empty() ? nullptr : curl_slist_append(nullptr, connect_to.c_str()));

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (connect_list) curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_list.get());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "zkpilot/" ZKPILOT_VERSION);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(connection_.connect_timeout.count() * 1000));
  if (call.timeout.count() > 0)
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count() * 1000));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!call.stream) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");

  // TLS: verification on unless the kubeconfig says insecure-skip-tls-verify.
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, connection_.insecure_skip_tls_verify ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, connection_.insecure_skip_tls_verify ? 0L : 2L);
  curl_blob ca{const_cast<char*>(connection_.ca_pem.data()), connection_.ca_pem.size(),
               CURL_BLOB_COPY};
  if (!connection_.ca_pem.empty()) curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  curl_blob cert{const_cast<char*>(creds.cert_pem.data()), creds.cert_pem.size(), CURL_BLOB_COPY};
  curl_blob key{const_cast<char*>(creds.key_pem.data()), creds.key_pem.size(), CURL_BLOB_COPY};
  if (!creds.cert_pem.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  // The kubeconfig's proxy-url is used for every request (as client-go does);
  // otherwise libcurl reads *_proxy and no_proxy/NO_PROXY itself.
  if (!connection_.proxy_url.empty()) {
    curl_easy_setopt(h, CURLOPT_PROXY, connection_.proxy_url.c_str());
    curl_easy_setopt(h, CURLOPT_NOPROXY, "");
  }

  Slist headers;
  auto add_header = [&](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  add_header("Accept: " + call.accept);
  if (!creds.token.empty()) add_header("Authorization: Bearer " + creds.token);
  if (call.body) add_header("Content-Type: " + call.content_type);
  add_header("Expect:");  // no 100-continue round trip for large bodies
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  if (call.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  if (call.body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body->size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);

  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_WRITE_ERROR && answer.stopped) rc = CURLE_OK;
  if (rc != CURLE_OK) {
    std::string detail = error[0] ? error : curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT: {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 0) {
          // No answer at all: a connect timeout is "unreachable", anything later a timeout.
          double connect_time = 0;
          curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &connect_time);
          if (connect_time == 0) return UnreachableError(connection_, detail);
        }
        return TimeoutError(connection_, call.Name(), call.timeout);
      }
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_CRL_BADFILE:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return TlsError(connection_, detail);
      default:
        if (answer.status == 0) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
        if (answer.status != 0) {
          return Status::Unavailable("kubernetes API " + connection_.server + ": " + call.Name() +
                                     ": the answer broke off: " + detail);
        }
        return UnreachableError(connection_, detail);
    }
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

Result<HttpAnswer> CurlKubeClient::Send(const HttpCall& call) {
  // Streams get their own connection, so that a handler may call this client.
  CurlHandle stream_handle;
  CURL* h = handle_.get();
  if (call.stream) {
    stream_handle.reset(curl_easy_init());
    if (!stream_handle) return Status::Internal("curl_easy_init failed");
    h = stream_handle.get();
  }
  for (int attempt = 0;; ++attempt) {
    ZK_ASSIGN_OR_RETURN(RequestCredentials creds, credentials_.Current());
    ZK_ASSIGN_OR_RETURN(HttpAnswer answer, SendOnce(h, call, creds));
    if (answer.status == 401 && attempt == 0 && credentials_.Refresh()) continue;
    return answer;
  }
}

Result<std::string> CurlKubeClient::Call(const HttpCall& call) {
  ZK_ASSIGN_OR_RETURN(HttpAnswer answer, Send(call));
  if (answer.status < 200 || answer.status >= 300) {
    return ErrorFromAnswer(connection_, call.Name(), answer.status, answer.body,
                           answer.retry_after);
  }
  return std::move(answer.body);
}

Result<json> CurlKubeClient::CallJson(const HttpCall& call) {
  ZK_ASSIGN_OR_RETURN(std::string body, Call(call));
  if (body.empty()) return json();
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Status::Internal("kubernetes API: " + call.Name() +
                            ": the answer is not JSON: " + body.substr(0, 200));
  }
  return parsed;
}

Result<json> CurlKubeClient::Request(const std::string& method, const std::string& path,
                                     const std::optional<json>& body,
                                     const std::string& content_type) {
  HttpCall call;
  call.method = method;
  call.path = path;
  if (body) call.body = body->dump();
  call.content_type = content_type;
  call.timeout = connection_.request_timeout;
  return CallJson(call);
}

std::string CurlKubeClient::Namespace(const ResourceRef& r, const std::string& ns,
                                      const json* object) const {
  if (!r.namespaced) return "";
  if (!ns.empty()) return ns;
  if (object && object->contains("metadata") && (*object)["metadata"].is_object()) {
    std::string from_object = (*object)["metadata"].value("namespace", "");
    if (!from_object.empty()) return from_object;
  }
  return connection_.default_namespace;
}

std::string CurlKubeClient::Query(const ListOptions& options) {
  std::string q;
  if (!options.label_selector.empty()) q += "&labelSelector=" + QueryEscape(options.label_selector);
  if (!options.field_selector.empty()) q += "&fieldSelector=" + QueryEscape(options.field_selector);
  return q;
}

Result<json> CurlKubeClient::FetchGroupVersion(const std::string& api_version) {
  std::string path =
      api_version.find('/') == std::string::npos ? "/api/" + api_version : "/apis/" + api_version;
  auto list = Request("GET", path, std::nullopt, "application/json");
  if (!list.ok() && list.status().code() == ErrorCode::kNotFound) {
    return Status::NotFound("kubernetes API: no API group version \"" + api_version +
                            "\" on the server (is its CustomResourceDefinition installed?)");
  }
  return list;
}

Result<ResourceRef> CurlKubeClient::Resolve(const std::string& api_version,
                                            const std::string& kind) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto cached = discovery_.find(api_version);
    if (cached == discovery_.end() || attempt > 0) {
      ZK_ASSIGN_OR_RETURN(json list, FetchGroupVersion(api_version));
      cached = discovery_.insert_or_assign(api_version, std::move(list)).first;
    }
    const json& resources = cached->second.value("resources", json::array());
    for (const auto& res : resources) {
      std::string name = res.value("name", "");
      if (res.value("kind", "") != kind || name.find('/') != std::string::npos) continue;
      ResourceRef ref;
      auto slash = api_version.find('/');
      ref.group = slash == std::string::npos ? "" : api_version.substr(0, slash);
      ref.version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
      ref.resource = name;
      ref.namespaced = res.value("namespaced", true);
      ref.kind = kind;
      return ref;
    }
  }
  return Status::NotFound("kubernetes API: no kind \"" + kind + "\" in apiVersion \"" +
                          api_version + "\" (is its CustomResourceDefinition installed?)");
}

Result<std::optional<json>> CurlKubeClient::Get(const ResourceRef& r, const std::string& ns,
                                                const std::string& name) {
  auto object =
      Request("GET", ResourcePath(r, Namespace(r, ns), name), std::nullopt, "application/json");
  if (!object.ok() && object.status().code() == ErrorCode::kNotFound) return std::optional<json>();
  if (!object.ok()) return object.status();
  return std::optional<json>(std::move(*object));
}

Result<json> CurlKubeClient::List(const ResourceRef& r, const std::string& ns,
                                  const ListOptions& options) {
  std::string query = Query(options);
  if (!query.empty()) query[0] = '?';
  return Request("GET", ResourcePath(r, ns) + query, std::nullopt, "application/json");
}

Result<json> CurlKubeClient::Create(const ResourceRef& r, const std::string& ns,
                                    const json& object) {
  return Request("POST", ResourcePath(r, Namespace(r, ns, &object)), object, "application/json");
}

Result<json> CurlKubeClient::Apply(const ResourceRef& r, const std::string& ns, const json& object,
                                   const std::string& field_manager, bool force,
                                   const std::string& subresource) {
  json body = object;
  if (!body.contains("apiVersion")) body["apiVersion"] = r.ApiVersion();
  if (!body.contains("kind")) body["kind"] = r.kind;
  std::string name = object.contains("metadata") ? object["metadata"].value("name", "") : "";
  if (name.empty())
    return Status::InvalidInput("apply " + r.kind + ": the object has no metadata.name");
  std::string path = ResourcePath(r, Namespace(r, ns, &object), name, subresource) +
                     "?fieldManager=" + QueryEscape(field_manager) + (force ? "&force=true" : "");
  // JSON is YAML: the apply patch is sent as the object's JSON.
  return Request("PATCH", path, body, "application/apply-patch+yaml");
}

Result<json> CurlKubeClient::MergePatch(const ResourceRef& r, const std::string& ns,
                                        const std::string& name, const json& patch,
                                        const std::string& subresource) {
  return Request("PATCH", ResourcePath(r, Namespace(r, ns), name, subresource), patch,
                 "application/merge-patch+json");
}

Result<json> CurlKubeClient::Replace(const ResourceRef& r, const std::string& ns,
                                     const json& object, const std::string& subresource) {
  std::string name = object.contains("metadata") ? object["metadata"].value("name", "") : "";
  if (name.empty())
    return Status::InvalidInput("replace " + r.kind + ": the object has no metadata.name");
  return Request("PUT", ResourcePath(r, Namespace(r, ns, &object), name, subresource), object,
                 "application/json");
}

Status CurlKubeClient::Delete(const ResourceRef& r, const std::string& ns, const std::string& name,
                              bool ignore_missing, const std::string& propagation,
                              std::optional<int64_t> grace_seconds) {
  json options = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!propagation.empty()) options["propagationPolicy"] = propagation;
  if (grace_seconds) options["gracePeriodSeconds"] = *grace_seconds;
  auto answer =
      Request("DELETE", ResourcePath(r, Namespace(r, ns), name), options, "application/json");
  if (!answer.ok() && ignore_missing && answer.status().code() == ErrorCode::kNotFound)
    return Status::Ok();
  return answer.status();
}

Status CurlKubeClient::Watch(const ResourceRef& r, const std::string& ns,
                             const std::string& resource_version, const ListOptions& options,
                             std::chrono::seconds timeout,
                             const std::function<bool(const WatchEvent&)>& handler) {
  if (timeout.count() <= 0) timeout = std::chrono::seconds(300);
  HttpCall call;
  call.path = ResourcePath(r, ns) + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" +
              std::to_string(timeout.count()) + Query(options);
  if (!resource_version.empty()) call.path += "&resourceVersion=" + QueryEscape(resource_version);
  call.timeout = timeout + kWatchGrace;
  Status decode_error;
  LineSplitter lines([&](const std::string& line) {
    if (line.find_first_not_of(" \r\t") == std::string::npos) return true;
    json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || !parsed.contains("type")) {
      decode_error = Status::Internal("kubernetes API: watch " + call.Name() +
                                      ": undecodable event: " + line.substr(0, 200));
      return false;
    }
    WatchEvent event{parsed.value("type", ""), parsed.value("object", json())};
    return handler(event);
  });
  call.stream = [&](std::string_view chunk) { return lines.Feed(chunk); };
  ZK_ASSIGN_OR_RETURN(HttpAnswer answer, Send(call));
  if (answer.status == 410) {
    json status = json::parse(answer.body, nullptr, false);
    if (!status.is_object()) status = {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}};
    handler(WatchEvent{"ERROR", status});
    return Status::Ok();
  }
  if (answer.status < 200 || answer.status >= 300) {
    return ErrorFromAnswer(connection_, call.Name(), answer.status, answer.body,
                           answer.retry_after);
  }
  if (!decode_error.ok()) return decode_error;
  if (!answer.stopped) {
    (void)lines.Flush();
    if (!decode_error.ok()) return decode_error;
  }
  return Status::Ok();
}

Status CurlKubeClient::PodLogs(const std::string& ns, const std::string& pod,
                               const std::string& container, bool follow,
                               std::optional<int> tail_lines,
                               const std::function<bool(const std::string&)>& sink) {
  HttpCall call;
  call.path = "/api/v1/namespaces/" + (ns.empty() ? connection_.default_namespace : ns) + "/pods/" +
              pod + "/log";
  std::string query;
  if (!container.empty()) query += "&container=" + QueryEscape(container);
  if (follow) query += "&follow=true";
  if (tail_lines) query += "&tailLines=" + std::to_string(*tail_lines);
  if (!query.empty()) call.path += "?" + query.substr(1);
  call.accept = "*/*";
  call.timeout = follow ? std::chrono::seconds(0) : connection_.request_timeout;
  LineSplitter lines([&](const std::string& line) {
    return sink(!line.empty() && line.back() == '\r' ? line.substr(0, line.size() - 1) : line);
  });
  call.stream = [&](std::string_view chunk) { return lines.Feed(chunk); };
  ZK_ASSIGN_OR_RETURN(HttpAnswer answer, Send(call));
  if (answer.status < 200 || answer.status >= 300) {
    return ErrorFromAnswer(connection_, call.Name(), answer.status, answer.body,
                           answer.retry_after);
  }
  if (!answer.stopped) (void)lines.Flush();
  return Status::Ok();
}

Result<KubeClient::ExecResult> CurlKubeClient::Exec(const std::string& ns, const std::string& pod,
                                                    const std::string& container,
                                                    const std::vector<std::string>& command) {
  if (command.empty()) return Status::InvalidInput("exec in pod " + pod + ": no command");
  std::string path = url_.prefix + "/api/v1/namespaces/" +
                     (ns.empty() ? connection_.default_namespace : ns) + "/pods/" + pod +
                     "/exec?stdout=true&stderr=true";
  for (const auto& arg : command) path += "&command=" + QueryEscape(arg);
  if (!container.empty()) path += "&container=" + QueryEscape(container);
  std::string name = "exec in pod " + pod + (container.empty() ? "" : " container " + container);
  for (int attempt = 0;; ++attempt) {
    ZK_ASSIGN_OR_RETURN(RequestCredentials creds, credentials_.Current());
    ZK_ASSIGN_OR_RETURN(WsExecOutcome outcome, ExecOverWebSocket(connection_, url_, creds, path));
    if (outcome.http_status == 101) return outcome.result;
    if (outcome.http_status == 401 && attempt == 0 && credentials_.Refresh()) continue;
    return ErrorFromAnswer(connection_, name, outcome.http_status, outcome.body,
                           outcome.retry_after)
        .WithContext(name);
  }
}

}  // namespace

std::string ResourcePath(const ResourceRef& r, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string path = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) path += "/namespaces/" + ns;
  path += "/" + r.resource;
  if (!name.empty()) {
    path += "/" + name;
    if (!subresource.empty()) path += "/" + subresource;
  }
  return path;
}

Result<std::unique_ptr<KubeClient>> KubeClient::Create(const KubeConnection& connection) {
  InitCurlOnce();
  ZK_ASSIGN_OR_RETURN(ServerUrl url, ParseServerUrl(connection.server));
  if (url.scheme != "https" && url.scheme != "http") {
    return Status::InvalidInput("kubernetes API server \"" + connection.server +
                                "\" must be an https:// URL");
  }
  CurlHandle handle(curl_easy_init());
  if (!handle) return Status::Internal("curl_easy_init failed");
  return std::unique_ptr<KubeClient>(
      new CurlKubeClient(connection, std::move(url), std::move(handle)));
}

std::optional<std::chrono::milliseconds> RetryAfterHint(const Status& status) {
  if (status.code() != ErrorCode::kUnavailable) return std::nullopt;
  static const std::regex kHint(R"(\(retry after (\d+) s\))");
  std::smatch m;
  if (!std::regex_search(status.message(), m, kHint)) return std::nullopt;
  return std::chrono::seconds(std::stoi(m[1]));
}

std::chrono::milliseconds RetryBackoff(int attempt, const Status& last) {
  if (auto hint = RetryAfterHint(last))
    return std::min<std::chrono::milliseconds>(*hint, std::chrono::seconds(60));
  std::chrono::milliseconds wait(200);
  for (int i = 0; i < attempt && wait < std::chrono::seconds(5); ++i) wait *= 2;
  return std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(5));
}

Status Retrying(std::chrono::steady_clock::time_point deadline,
                const std::function<Status()>& call) {
  auto result = Retrying<bool>(deadline, [&]() -> Result<bool> {
    Status s = call();
    if (!s.ok()) return s;
    return true;
  });
  return result.status();
}

}  // namespace zkpilot
