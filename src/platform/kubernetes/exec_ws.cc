#include "platform/kubernetes/exec_ws.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "platform/kubernetes/kubeconfig.h"

namespace zkpilot {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

constexpr char kProtocols[] = "v5.channel.k8s.io, v4.channel.k8s.io";

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string HostHeader(const std::string& host, const std::string& port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

// Shuts the socket down at the deadline, which ends any blocking read or
// write on it; Disarm() before the socket is closed.
class Watchdog {
 public:
  Watchdog(int fd, std::chrono::steady_clock::time_point deadline)
      : thread_([this, fd, deadline] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_until(lock, deadline, [this] { return disarmed_; })) {
            fired_ = true;
            ::shutdown(fd, SHUT_RDWR);
          }
        }) {}
  ~Watchdog() { Disarm(); }
  void Disarm() {
    {
      std::lock_guard lock(mu_);
      disarmed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool Fired() {
    std::lock_guard lock(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool disarmed_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// Connects `socket` to host:port within `timeout`.
Status ConnectTcp(net::io_context& ioc, tcp::socket& socket, const std::string& host,
                  const std::string& port, std::chrono::seconds timeout,
                  const KubeConnection& connection) {
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return UnreachableError(connection, "cannot resolve " + host + ": " + ec.message());
  bool done = false;
  net::async_connect(socket, endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  ioc.restart();
  ioc.run_for(timeout);
  if (!done) {
    socket.close();
    ioc.restart();
    ioc.run();
    return UnreachableError(connection, "no connection to " + HostHeader(host, port) + " within " +
                                            std::to_string(timeout.count()) + " s");
  }
  if (ec)
    return UnreachableError(connection,
                            "connect to " + HostHeader(host, port) + ": " + ec.message());
  return Status::Ok();
}

// Asks an HTTP proxy on `socket` for a tunnel to host:port.
Status ProxyConnect(tcp::socket& socket, const ProxyUrl& proxy, const std::string& authority,
                    const KubeConnection& connection) {
  http::request<http::empty_body> req{http::verb::connect, authority, 11};
  req.set(http::field::host, authority);
  if (!proxy.user_info.empty()) {
    req.set(http::field::proxy_authorization, "Basic " + EncodeBase64(proxy.user_info));
  }
  beast::error_code ec;
  http::write(socket, req, ec);
  if (ec)
    return UnreachableError(connection,
                            "proxy " + HostHeader(proxy.host, proxy.port) + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a CONNECT answer has no body
  http::read_header(socket, buffer, parser, ec);
  if (ec)
    return UnreachableError(connection,
                            "proxy " + HostHeader(proxy.host, proxy.port) + ": " + ec.message());
  if (parser.get().result_int() != 200) {
    return UnreachableError(
        connection, "proxy " + HostHeader(proxy.host, proxy.port) +
                        " refused the tunnel: " + std::to_string(parser.get().result_int()) + " " +
                        std::string(parser.get().reason()));
  }
  return Status::Ok();
}

Status SetUpTls(ssl::context& ctx, const KubeConnection& connection,
                const RequestCredentials& creds) {
  beast::error_code ec;
  if (connection.insecure_skip_tls_verify) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    ctx.set_verify_mode(ssl::verify_peer);
    if (connection.ca_pem.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.add_certificate_authority(net::buffer(connection.ca_pem), ec);
    }
    if (ec) return TlsError(connection, "certificate-authority: " + ec.message());
  }
  if (!creds.cert_pem.empty()) {
    ctx.use_certificate_chain(net::buffer(creds.cert_pem), ec);
    if (!ec) ctx.use_private_key(net::buffer(creds.key_pem), ssl::context::pem, ec);
    if (ec) return TlsError(connection, "client certificate: " + ec.message());
  }
  return Status::Ok();
}

// Verification of the server's name (or address) and SNI.
void SetPeerName(SSL* ssl, const std::string& name) {
  if (IsIpAddress(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  }
}

}  // namespace

Result<int> ExitCodeFromStatus(const std::string& status_json) {
  json status = json::parse(status_json, nullptr, /*allow_exceptions=*/false);
  if (!status.is_object())
    return Status::IOError("the exec status is not JSON: " + status_json.substr(0, 200));
  if (status.value("status", "") == "Success") return 0;
  if (status.value("reason", "") == "NonZeroExitCode" && status.contains("details")) {
    for (const auto& cause : status["details"].value("causes", json::array())) {
      if (cause.value("reason", "") != "ExitCode") continue;
      try {
        return std::stoi(cause.value("message", ""));
      } catch (const std::exception&) {
        break;
      }
    }
  }
  return Status::IOError(status.value("message", "the command failed without an exit code"));
}

Result<WsExecOutcome> ExecOverWebSocket(const KubeConnection& connection, const ServerUrl& url,
                                        const RequestCredentials& credentials,
                                        const std::string& target) {
  if (url.scheme != "https")
    return Status::InvalidInput("exec needs an https:// server, not " + connection.server);
  auto deadline = std::chrono::steady_clock::now() + connection.exec_timeout;
  std::string request_name = "exec " + target.substr(0, target.find('?'));
  std::string tls_name = connection.tls_server_name.empty() ? url.host : connection.tls_server_name;

  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ZK_RETURN_IF_ERROR(SetUpTls(ctx, connection, credentials));
  websocket::stream<ssl::stream<tcp::socket>> ws(ioc, ctx);
  tcp::socket& socket = beast::get_lowest_layer(ws);

  std::string proxy_text = ProxyFor(connection, url.host);
  if (proxy_text.empty()) {
    ZK_RETURN_IF_ERROR(
        ConnectTcp(ioc, socket, url.host, url.port, connection.connect_timeout, connection));
  } else {
    ZK_ASSIGN_OR_RETURN(ProxyUrl proxy, ParseProxyUrl(proxy_text));
    if (proxy.scheme != "http") {
      return Status::InvalidInput("exec through proxy " + proxy_text +
                                  ": only http:// proxies are supported");
    }
    ZK_RETURN_IF_ERROR(
        ConnectTcp(ioc, socket, proxy.host, proxy.port, connection.connect_timeout, connection));
  }
  Watchdog watchdog(socket.native_handle(), deadline);
  auto failed = [&](const Status& status) {
    return watchdog.Fired() ? TimeoutError(connection, request_name, connection.exec_timeout)
                            : status;
  };
  if (!proxy_text.empty()) {
    ZK_ASSIGN_OR_RETURN(ProxyUrl proxy, ParseProxyUrl(proxy_text));
    Status tunnel = ProxyConnect(socket, proxy, HostHeader(url.host, url.port), connection);
    if (!tunnel.ok()) return failed(tunnel);
  }

  beast::error_code ec;
  auto& tls = ws.next_layer();
  if (!connection.insecure_skip_tls_verify)
    SetPeerName(tls.native_handle(), tls_name);
  else if (!IsIpAddress(tls_name))
    SSL_set_tlsext_host_name(tls.native_handle(), tls_name.c_str());
  tls.handshake(ssl::stream_base::client, ec);
  if (ec) {
    std::string detail = ec.message();
    long verify = SSL_get_verify_result(tls.native_handle());
    if (verify != X509_V_OK)
      detail += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    return failed(TlsError(connection, detail));
  }

  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    req.set(http::field::sec_websocket_protocol, kProtocols);
    req.set(http::field::user_agent, "zkpilot/" ZKPILOT_VERSION);
    if (!credentials.token.empty())
      req.set(http::field::authorization, "Bearer " + credentials.token);
  }));
  ws.read_message_max(64 << 20);
  websocket::response_type res;
  // The asynchronous handshake, run to completion here, because only it
  // hands back a refused upgrade's answer (status and Status body).
  ws.async_handshake(res, HostHeader(tls_name, url.port), target,
                     [&](const beast::error_code& e) { ec = e; });
  ioc.restart();
  ioc.run();
  WsExecOutcome outcome;
  if (ec) {
    if (res.result_int() != 0 && res.result_int() != 101) {
      outcome.http_status = res.result_int();
      outcome.body = res.body();
      auto retry = res.find(http::field::retry_after);
      if (retry != res.end()) {
        try {
          outcome.retry_after = std::stoi(std::string(retry->value()));
        } catch (const std::exception&) {
        }
      }
      return outcome;
    }
    return failed(UnreachableError(connection, "WebSocket handshake: " + ec.message()));
  }
  std::string protocol(res[http::field::sec_websocket_protocol]);
  if (protocol != "v5.channel.k8s.io" && protocol != "v4.channel.k8s.io") {
    return Status::IOError("kubernetes API " + connection.server + ": " + request_name +
                           ": the server chose the channel protocol \"" + protocol +
                           "\" (v5 or v4 needed)");
  }

  outcome.http_status = 101;
  std::optional<std::string> end_status;
  for (;;) {
    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    if (ec == websocket::error::closed) break;
    if (ec) {
      // A server that drops the connection after the status is done as well.
      if (end_status) break;
      return failed(Status::Unavailable("kubernetes API " + connection.server + ": " +
                                        request_name + ": the stream broke off: " + ec.message()));
    }
    std::string message = beast::buffers_to_string(buffer.data());
    if (message.empty()) continue;
    unsigned char channel = static_cast<unsigned char>(message[0]);
    std::string data = message.substr(1);
    if (channel == 1)
      outcome.result.out += data;
    else if (channel == 2)
      outcome.result.err += data;
    else if (channel == 3)
      end_status = end_status.value_or("") + data;
  }
  watchdog.Disarm();
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  if (!end_status) {
    return Status::IOError("kubernetes API " + connection.server + ": " + request_name +
                           ": the stream ended without the command's exit status");
  }
  auto code = ExitCodeFromStatus(*end_status);
  if (!code.ok()) return code.status().WithContext(request_name);
  outcome.result.exit_code = *code;
  return outcome;
}

}  // namespace zkpilot
