// End-to-end tests of SASL authentication on the local platform
// (platform/local/local_auth.h, docs/security.md): the real zkpilot binary
// against real ZooKeeper 3.8.0 servers, with real clients — kazoo (Debian's
// python3-kazoo with python3-pure-sasl), ZooKeeper's own Java client and the
// C client zkpilot links. Like the other local suites: a fresh ZKPILOT_HOME
// and free 127.0.0.1 ports per test, polls with deadlines, cleanup by PID.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/local_files.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "state/state_store.h"
#include "util/files.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr int kPortSpan = 60;  // 4 servers use base..base+34
// Debian's Python, where python3-kazoo and python3-pure-sasl are installed
// (another python3 may come first in PATH).
constexpr const char* kPython = "/usr/bin/python3";

// kazoo as an application uses it. argv: mode, host:port, path, password.
// Every wait is bounded: kazoo 2.8 does not know ZooKeeper's error -124
// (SESSIONCLOSEDREQUIRESASLAUTH), its I/O thread dies on it and a plain
// get() would wait forever.
constexpr const char* kKazoo = R"PY(
import sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
mode, host, path, password = sys.argv[1:5]
sasl = None if mode == 'anonymous' else {'mechanism': 'DIGEST-MD5', 'username': 'app', 'password': password}
zk = KazooClient(hosts=host, sasl_options=sasl, timeout=10)
try:
    zk.start(timeout=20)
    if mode == 'create':
        zk.create_async(path, b'hello', acl=[make_acl('sasl', 'app', all=True)]).get(timeout=20)
    data, stat = zk.get_async(path).get(timeout=20)
    acl, _ = zk.get_acls_async(path).get(timeout=20)
    print('read ' + data.decode() + ' acl ' + ','.join('%s:%s:%d' % (a.id.scheme, a.id.id, a.perms) for a in acl))
except Exception as e:
    print('refused ' + type(e).__name__)
finally:
    try:
        zk.stop()
    except Exception:
        pass
)PY";

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-auth", kPortSpan, &error)) << error;
    ZkClient::SetClientLogging(ClientLogging::kQuiet);
  }
  void TearDown() override {
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << world_.home() << " survived SIGKILL";
  }

  ProcessResult Run(const std::vector<std::string>& argv) {
    return testing::RunProcess(argv, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 3min});
  }
  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return Run(args);
  }
  ProcessResult Deploy(const std::string& name, const std::vector<std::string>& sets) {
    std::vector<std::string> args = {"deploy", name, kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--timeout", "90", "--set",
                                     "clientPort=" + std::to_string(world_.base_port())};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    return Zk(args);
  }
  // kazoo's answer: "read <data> acl <scheme:id:perms,...>" or "refused <exception>".
  std::string Kazoo(const std::string& mode, int id, const std::string& path, const std::string& password = "") {
    ProcessResult r = Run({kPython, "-c", kKazoo, mode, ConnectString(id), path, password});
    EXPECT_EQ(r.exit_code, 0) << r.All();
    return r.out;
  }

  // ZooKeeper's own Java client (ZooKeeperMain, on the servers' classpath)
  // logged in as `user` through a JAAS Client section, running `command`.
  ProcessResult JavaClient(const std::string& name, const std::string& user, const std::string& password, int id,
                           const std::vector<std::string>& command) {
    auto launch = ReadFile(NodeDir(ClusterDir(name), 1) + "/conf/launch.json");
    EXPECT_TRUE(launch.ok()) << launch.status().message();
    if (!launch.ok()) return {};
    const auto argv = json::parse(*launch).at("argv").get<std::vector<std::string>>();
    const auto cp = std::find(argv.begin(), argv.end(), "-cp");
    EXPECT_TRUE(cp != argv.end() && cp + 1 != argv.end());
    if (cp == argv.end() || cp + 1 == argv.end()) return {};
    const std::string jaas = world_.root() + "/" + user + ".jaas";
    EXPECT_TRUE(WriteFileAtomically(jaas, "Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
                                          "  username=\"" + user + "\"\n  password=\"" + password + "\";\n};\n")
                    .ok());
    std::vector<std::string> java = {argv.front(), "-Djava.security.auth.login.config=" + jaas, "-cp", *(cp + 1),
                                     "org.apache.zookeeper.ZooKeeperMain", "-server", ConnectString(id)};
    java.insert(java.end(), command.begin(), command.end());
    return Run(java);
  }

  std::string ConnectString(int id) const { return "127.0.0.1:" + std::to_string(world_.base_port() + (id - 1) * 10); }
  std::string ClusterDir(const std::string& name) const { return ClusterHome(world_.home(), name); }
  std::string AuthDir(const std::string& name) const { return ClusterDir(name) + "/auth"; }
  std::string Password(const std::string& name, const std::string& user) {
    auto pw = ReadFile(AuthDir(name) + "/" + user + ".password");
    EXPECT_TRUE(pw.ok()) << pw.status().message();
    std::string s = pw.ok() ? *pw : "";
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  std::string Log(const std::string& name, int id) {
    auto log = ReadFile(NodeDir(ClusterDir(name), id) + "/zookeeper.log");
    return log.ok() ? *log : "";
  }
  // Whether server `id`'s log has `text`; a failure shows the log's end, not all of it.
  ::testing::AssertionResult LogHas(const std::string& name, int id, const std::string& text) {
    if (Log(name, id).find(text) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "\"" << text << "\" not in server " << id << "'s log, which ends:\n"
                                         << TailFile(NodeDir(ClusterDir(name), id) + "/zookeeper.log", 15);
  }
  std::vector<NodeRecord> Nodes(const std::string& name) {
    auto store = StateStore::Open(StateDbPath(world_.home()));
    auto nodes = store.ok() ? (*store)->ListNodes(name) : Result<std::vector<NodeRecord>>(store.status());
    EXPECT_TRUE(nodes.ok()) << nodes.status().message();
    return nodes.ok() ? *nodes : std::vector<NodeRecord>{};
  }
  testing::TestHome world_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST_F(AuthTest, DeployWithClientAndQuorumSaslIsHealthyWithSecretsOnlyInOwnerFiles) {
  ProcessResult d = Deploy("sasl", {"auth.enabled=true", "auth.quorum=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  EXPECT_TRUE(Contains(d.out, "3/3 servers in sync"));
  EXPECT_TRUE(Contains(d.All(), "deploy.init: 3 steps ran"));  // the hooks ran through the super digest

  // Quorum SASL: every server authenticated to a peer as a learner and
  // authenticated a learner as a server (SaslQuorumAuthLearner /
  // SaslQuorumAuthServer, DIGEST-MD5 from the JAAS Quorum* sections).
  for (int id = 1; id <= 3; ++id) {
    EXPECT_TRUE(LogHas("sasl", id, "Using DIGEST-MD5 for quorum authorization"));
    EXPECT_TRUE(LogHas("sasl", id, "Successfully completed the authentication using SASL. server addr:"));
  }
  const std::string learner = "Successfully authenticated learner: authenticationID=zkquorum";
  EXPECT_TRUE(LogHas("sasl", 1, learner) || LogHas("sasl", 2, learner) || LogHas("sasl", 3, learner));

  // Credentials: the owner's only, never on a command line.
  EXPECT_EQ(ModeOf(AuthDir("sasl")), 0700u);
  for (const char* f : {"app.password", "quorum.credential", "server-1.jaas", "server-2.jaas", "server-3.jaas"})
    EXPECT_EQ(ModeOf(AuthDir("sasl") + "/" + f), 0600u) << f;
  const std::string password = Password("sasl", "app");
  ASSERT_EQ(password.size(), 64u) << "32 random bytes in hex";
  auto jaas = ReadFile(AuthDir("sasl") + "/server-2.jaas");
  ASSERT_TRUE(jaas.ok());
  EXPECT_TRUE(Contains(*jaas, "user_app=\"" + password + "\""));
  EXPECT_TRUE(Contains(*jaas, "QuorumLearner {"));
  for (const auto& n : Nodes("sasl")) {
    const std::string cmdline = testing::Cmdline(n.pid);
    EXPECT_TRUE(Contains(cmdline, "@" + n.dir + "/conf/secret.args"));
    EXPECT_EQ(cmdline.find(password), std::string::npos) << "server " << n.id << " shows the password";
    EXPECT_EQ(cmdline.find("login.config"), std::string::npos) << "the JAAS file is named in secret.args";
  }
}

TEST_F(AuthTest, KazooAndTheJavaClientAuthenticateAsAppWhileOthersAreRefused) {
  ProcessResult d = Deploy("sasl", {"auth.enabled=true", "auth.quorum=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  const std::string password = Password("sasl", "app");

  // 31 = cdrwa (kazoo's perms bits).
  EXPECT_TRUE(Contains(Kazoo("create", 1, "/secret", password), "read hello acl sasl:app:31"));
  EXPECT_TRUE(Contains(Kazoo("read", 2, "/secret", password), "read hello"));
  // A wrong password: the server closes the session (processSasl: AUTHFAILED).
  EXPECT_TRUE(Contains(Kazoo("read", 2, "/secret", "not-" + password), "refused AuthFailedError"));
  // Without authentication (not enforced here) only the ACL stops it.
  EXPECT_TRUE(Contains(Kazoo("anonymous", 3, "/secret"), "refused NoAuthError"));
  EXPECT_TRUE(Contains(Kazoo("anonymous", 3, "/apps"), "read  acl world:anyone:31"));

  // ZooKeeper's own Java client, with a JAAS Client section.
  ProcessResult java = JavaClient("sasl", "app", password, 3, {"get", "/secret"});
  EXPECT_TRUE(Contains(java.All(), "state:SaslAuthenticated"));
  EXPECT_TRUE(Contains(java.out, "\nhello\n"));
}

TEST_F(AuthTest, EnforcementRefusesAnonymousSessionsWhileStatusRestartAndScalingWork) {
  ProcessResult d = Deploy("sasl", {"auth.enabled=true", "auth.enforce=true", "auth.quorum=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();  // its hooks ran through zkpilot's super-digest session
  const std::string password = Password("sasl", "app");

  // An anonymous session may connect, but not even read /
  // (AuthenticationHelper.enforceAuthentication closes it).
  auto anonymous = ZkClient::Connect(ConnectString(1), 20s);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().message();
  auto root = (*anonymous)->Get("/");
  EXPECT_FALSE(root.ok()) << "an anonymous session read /";
  EXPECT_TRUE(LogHas("sasl", 1, "does not match with any of the expected authentication scheme [sasl, digest]"));
  // A SASL-authenticated one may.
  EXPECT_TRUE(Contains(Kazoo("read", 2, "/apps", password), "read  acl world:anyone:31"));

  // zkpilot's own sessions (hooks, reconfig) authenticate with the super digest.
  ProcessResult status = Zk({"status", "sasl"});
  EXPECT_EQ(status.exit_code, 0) << status.All();
  EXPECT_TRUE(Contains(status.out, "healthy: leader"));
  ProcessResult restart = Zk({"restart", "sasl", "--timeout", "90"});
  ASSERT_EQ(restart.exit_code, 0) << restart.All();
  EXPECT_TRUE(Contains(restart.All(), "3/3 servers in sync"));
  ProcessResult scale = Zk({"scale", "sasl", "--replicas", "4", "--timeout", "90"});
  ASSERT_EQ(scale.exit_code, 0) << scale.All();
  EXPECT_TRUE(Contains(scale.All(), "4/4 servers in sync"));
  EXPECT_TRUE(LogHas("sasl", 4, "Successfully completed the authentication using SASL. server addr:"));
  EXPECT_TRUE(Contains(Kazoo("read", 4, "/apps", password), "read "));
  ProcessResult down = Zk({"scale", "sasl", "--replicas", "3", "--timeout", "90"});
  ASSERT_EQ(down.exit_code, 0) << down.All();
  EXPECT_TRUE(Contains(down.All(), "3/3 servers in sync"));
  EXPECT_FALSE(fs::exists(AuthDir("sasl") + "/server-4.jaas")) << "a removed server's JAAS file stays";
  EXPECT_TRUE(fs::exists(AuthDir("sasl") + "/server-3.jaas"));

  // Switching quorum authentication off takes three rolls, none asking
  // anything of clients (tests/quorum_auth_test.cc runs them).
  ProcessResult quorum_off = Zk({"configure", "sasl", "--set", "auth.quorum=false", "--dry-run"});
  EXPECT_EQ(quorum_off.exit_code, 0) << quorum_off.All();
  size_t rolls = 0;
  for (size_t at = quorum_off.out.find("Clients: nothing to do"); at != std::string::npos;
       at = quorum_off.out.find("Clients: nothing to do", at + 1))
    ++rolls;
  EXPECT_EQ(rolls, 3u) << quorum_off.out;
}

// kazoo over TLS with the certificate `zkpilot certs --client` wrote, with or
// without SASL. argv: host:port, certs dir, client, path, password or "".
constexpr const char* kKazooTls = R"PY(
import sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
host, certs, client, path, password = sys.argv[1:6]
sasl = {'mechanism': 'DIGEST-MD5', 'username': 'app', 'password': password} if password else None
zk = KazooClient(hosts=host, use_ssl=True, verify_certs=True, ca=certs + '/ca.crt',
                 certfile=certs + '/' + client + '.crt', keyfile=certs + '/' + client + '.key',
                 sasl_options=sasl, timeout=10)
try:
    zk.start(timeout=20)
    if password:
        zk.create_async(path, b'hello', acl=[make_acl('sasl', 'app', all=True)]).get(timeout=20)
    data, stat = zk.get_async(path).get(timeout=20)
    print('read ' + data.decode())
except Exception as e:
    print('refused ' + type(e).__name__)
finally:
    try:
        zk.stop()
    except Exception:
        pass
)PY";

// TLS and authentication together: enforcement then accepts sasl and x509
// (zkpilot's own sessions are x509, CN=zkpilot-super), not digest.
TEST_F(AuthTest, WithTlsEnforcementAcceptsSaslAndCertificatesAndZkpilotKeepsWorking) {
  ProcessResult d = Deploy("both", {"tls.enabled=true", "auth.enabled=true", "auth.enforce=true", "auth.quorum=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();  // its hooks ran over TLS as the x509 super user
  auto cfg = ReadFile(NodeDir(ClusterDir("both"), 1) + "/conf/zoo.cfg");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_TRUE(Contains(*cfg, "\nenforce.auth.schemes=sasl,x509\n"));
  EXPECT_TRUE(Contains(*cfg, "\nsslQuorum=true\n"));
  EXPECT_TRUE(LogHas("both", 2, "Successfully completed the authentication using SASL. server addr:"));

  const std::string certs = world_.root() + "/certs";
  ProcessResult issue = Zk({"certs", "both", "--client", "app1", "-o", certs});
  ASSERT_EQ(issue.exit_code, 0) << issue.All();
  const std::string password = Password("both", "app");
  auto kazoo = [&](int id, const std::string& path, const std::string& pw) {
    ProcessResult r = Run({kPython, "-c", kKazooTls, ConnectString(id), certs, "app1", path, pw});
    EXPECT_EQ(r.exit_code, 0) << r.All();
    return r.out;
  };
  // TLS and SASL: creates a znode only `app` may read.
  EXPECT_TRUE(Contains(kazoo(1, "/secret", password), "read hello"));
  // The cluster's certificate alone passes enforcement (x509) but not the ACL.
  EXPECT_TRUE(Contains(kazoo(2, "/apps", ""), "read "));
  EXPECT_TRUE(Contains(kazoo(2, "/secret", ""), "refused NoAuthError"));
  // No plaintext at all: the C client's plaintext session never starts.
  EXPECT_FALSE(ZkClient::Connect(ConnectString(3), 3s).ok()) << "a plaintext session on a TLS cluster";

  ProcessResult status = Zk({"status", "both"});
  EXPECT_EQ(status.exit_code, 0) << status.All();
  EXPECT_TRUE(Contains(status.out, "healthy: leader"));
  ProcessResult restart = Zk({"restart", "both", "--timeout", "90"});
  ASSERT_EQ(restart.exit_code, 0) << restart.All();
  EXPECT_TRUE(Contains(restart.All(), "3/3 servers in sync"));
  EXPECT_TRUE(Contains(kazoo(3, "/apps", ""), "read ")) << "after the roll";
}

// Passwords are made once: a credential or JAAS file changed by hand is
// refused before any server restarts (a server restarted with a quorum
// password its peers do not have could not rejoin), naming the files.
TEST_F(AuthTest, HandEditedCredentialsAreRefusedBeforeAnyServerRestarts) {
  ProcessResult d = Deploy("sasl", {"auth.enabled=true", "auth.quorum=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  std::map<int, int> pids;
  for (const auto& n : Nodes("sasl")) pids[n.id] = n.pid;
  ASSERT_EQ(pids.size(), 3u);
  const std::string credential = AuthDir("sasl") + "/quorum.credential";
  auto original = ReadFile(credential);
  ASSERT_TRUE(original.ok()) << original.status().message();

  ASSERT_TRUE(WriteFileAtomically(credential, "edited-by-hand\n", 0600).ok());
  ProcessResult restart = Zk({"restart", "sasl", "--timeout", "90"});
  EXPECT_EQ(restart.exit_code, 2) << restart.All();
  EXPECT_TRUE(Contains(restart.err, "server-1.jaas gives zkquorum another password than quorum.credential"));
  EXPECT_TRUE(Contains(restart.err, "Nothing was restarted"));
  ProcessResult configure = Zk({"configure", "sasl", "--set", "tickTime=2500", "--timeout", "90"});
  EXPECT_EQ(configure.exit_code, 2) << configure.All();
  EXPECT_TRUE(Contains(configure.err, "quorum.credential"));
  ASSERT_TRUE(WriteFileAtomically(credential, *original, 0600).ok());

  // A JAAS file edited by hand: the same.
  const std::string jaas = AuthDir("sasl") + "/server-2.jaas";
  auto text = ReadFile(jaas);
  ASSERT_TRUE(text.ok()) << text.status().message();
  const std::string password = Password("sasl", "app");
  std::string edited = *text;
  ASSERT_NE(edited.find(password), std::string::npos);
  edited.replace(edited.find(password), password.size(), "not-" + password);
  ASSERT_TRUE(WriteFileAtomically(jaas, edited, 0600).ok());
  restart = Zk({"restart", "sasl", "--timeout", "90"});
  EXPECT_EQ(restart.exit_code, 2) << restart.All();
  EXPECT_TRUE(Contains(restart.err, "server-2.jaas gives app another password than app.password"));
  for (const auto& n : Nodes("sasl")) EXPECT_EQ(n.pid, pids[n.id]) << "server " << n.id << " was restarted";

  // Put back, the roll goes through and the quorum authenticates.
  ASSERT_TRUE(WriteFileAtomically(jaas, *text, 0600).ok());
  restart = Zk({"restart", "sasl", "--timeout", "90"});
  ASSERT_EQ(restart.exit_code, 0) << restart.All();
  EXPECT_TRUE(Contains(restart.All(), "3/3 servers in sync"));
}

TEST_F(AuthTest, EnforcementCanBeSwitchedOnByARoll) {
  ProcessResult d = Deploy("sasl", {"auth.enabled=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  auto before = ZkClient::Connect(ConnectString(2), 20s);
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_TRUE((*before)->Get("/").ok()) << "not enforced yet";

  ProcessResult c = Zk({"configure", "sasl", "--set", "auth.enforce=true", "--timeout", "90"});
  ASSERT_EQ(c.exit_code, 0) << c.All();
  EXPECT_TRUE(Contains(c.All(), "auth.enforce: false -> true"));
  auto after = ZkClient::Connect(ConnectString(2), 20s);
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_FALSE((*after)->Get("/").ok()) << "an anonymous session read / after enforcement";
  EXPECT_TRUE(Contains(Kazoo("read", 1, "/apps", Password("sasl", "app")), "read "));
}

TEST_F(AuthTest, AUserAddedByConfigureGetsAPasswordAndCanAuthenticateAfterTheRoll) {
  ProcessResult d = Deploy("sasl", {"auth.enabled=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  EXPECT_FALSE(fs::exists(AuthDir("sasl") + "/reader.password"));
  // A dry run plans the roll and creates no credentials.
  ProcessResult dry = Zk({"configure", "sasl", "--set", "auth.users=[app, reader]", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.All();
  EXPECT_TRUE(Contains(dry.All(), "restart"));
  EXPECT_FALSE(fs::exists(AuthDir("sasl") + "/reader.password")) << "a dry run wrote a password";
  ProcessResult c = Zk({"configure", "sasl", "--set", "auth.users=[app, reader]", "--timeout", "90"});
  ASSERT_EQ(c.exit_code, 0) << c.All();
  EXPECT_TRUE(Contains(c.All(), "3/3 servers in sync"));
  const std::string reader = Password("sasl", "reader");
  ASSERT_EQ(reader.size(), 64u);
  EXPECT_NE(reader, Password("sasl", "app"));
  // kazoo's script authenticates as `app`: with reader's password it must fail,
  // with its own it still works; ZooKeeper's Java client logs in as reader.
  EXPECT_TRUE(Contains(Kazoo("read", 1, "/apps", reader), "refused AuthFailedError"));
  EXPECT_TRUE(Contains(Kazoo("read", 1, "/apps", Password("sasl", "app")), "read "));
  ProcessResult java = JavaClient("sasl", "reader", reader, 2, {"ls", "/"});
  EXPECT_TRUE(Contains(java.All(), "state:SaslAuthenticated"));
  EXPECT_TRUE(Contains(java.out, "zkpilot"));
}

TEST_F(AuthTest, WithAuthOffServersGetNoAuthConfigurationAndNoCredentials) {
  // The default: existing clusters' files (and so their fingerprints) stay as they were.
  ProcessResult d = Deploy("plain", {"replicas=1"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  auto cfg = ReadFile(NodeDir(ClusterDir("plain"), 1) + "/conf/zoo.cfg");
  ASSERT_TRUE(cfg.ok());
  for (const char* key : {"authProvider", "enforce.auth", "quorum.auth"})
    EXPECT_EQ(cfg->find(key), std::string::npos) << key << " in\n" << *cfg;
  auto args = ReadFile(NodeDir(ClusterDir("plain"), 1) + "/conf/secret.args");
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->rfind("-Dzookeeper.DigestAuthenticationProvider.superDigest=super:", 0), 0u) << *args;
  EXPECT_EQ(std::count(args->begin(), args->end(), '\n'), 1) << *args;
  EXPECT_FALSE(fs::exists(AuthDir("plain")));
}

// One client tries to read and to delete each znode zkpilot's hooks keep for
// zkpilot. argv: host:port, mode (anonymous; app: SASL as `app`; cert: TLS
// with the certificate `certs --client app1` wrote), `app`'s password or the
// certificates' directory. Prints "<op> <path> <outcome>" per try.
constexpr const char* kKazooHookZnodes = R"PY(
import sys
from kazoo.client import KazooClient
host, mode, secret = sys.argv[1:4]
kw = {}
if mode == 'app':
    kw['sasl_options'] = {'mechanism': 'DIGEST-MD5', 'username': 'app', 'password': secret}
if mode == 'cert':
    kw.update(use_ssl=True, verify_certs=True, ca=secret + '/ca.crt', certfile=secret + '/app1.crt',
              keyfile=secret + '/app1.key')
zk = KazooClient(hosts=host, timeout=10, **kw)
zk.start(timeout=20)
for path in ('/zkpilot', '/zkpilot/keep', '/zkpilot/upgrades'):
    for op in ('read', 'delete'):
        try:
            (zk.get_async(path) if op == 'read' else zk.delete_async(path)).get(timeout=20)
            print(op, path, 'done')
        except Exception as e:
            print(op, path, type(e).__name__)
zk.stop()
)PY";

// With client authentication (and no TLS) the hook znodes belong to zkpilot's
// own identity, the super digest: no other client, anonymous or
// authenticated, may read them or delete one; an upgrade runs the hooks again
// over the existing znodes (enforceAcl) and adds /zkpilot/upgrades alike.
TEST_F(AuthTest, HookZnodesBelongToZkpilotAloneAndTheirHooksRunAgain) {
  ProcessResult d = Deploy("own", {"replicas=1", "version=3.8.0", "auth.enabled=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  auto super_secret = ReadFile(ClusterDir("own") + "/super.secret");
  ASSERT_TRUE(super_secret.ok()) << super_secret.status().message();
  std::string super = *super_secret;
  while (!super.empty() && super.back() == '\n') super.pop_back();
  const std::string own = "digest:" + DigestId("super", super) + ":cdrwa";
  auto tries = [&](const std::string& mode, const std::string& secret) {
    ProcessResult r = Run({kPython, "-c", kKazooHookZnodes, ConnectString(1), mode, secret});
    EXPECT_EQ(r.exit_code, 0) << r.All();
    return r.out;
  };
  for (const auto& [mode, secret] :
       {std::pair<std::string, std::string>{"anonymous", ""}, {"app", Password("own", "app")}}) {
    const std::string out = tries(mode, secret);
    EXPECT_TRUE(Contains(out, "read /zkpilot NoAuthError")) << mode;
    EXPECT_TRUE(Contains(out, "read /zkpilot/keep NoAuthError")) << mode;
    EXPECT_TRUE(Contains(out, "delete /zkpilot/keep NoAuthError")) << mode;
    EXPECT_TRUE(Contains(out, "delete /zkpilot NotEmptyError")) << mode;  // kept by its child
  }
  for (const char* path : {"/zkpilot", "/zkpilot/keep"}) {
    auto acl = testing::ZnodeAcl(ConnectString(1), path, "super:" + super);
    ASSERT_TRUE(acl.ok()) << acl.status().message();
    EXPECT_EQ(*acl, own) << path;
  }

  ProcessResult up = Zk({"upgrade", "own", "--version", "3.9.3", "--timeout", "90"});
  ASSERT_EQ(up.exit_code, 0) << up.All();
  for (const char* path : {"/zkpilot", "/zkpilot/keep", "/zkpilot/upgrades"}) {
    auto acl = testing::ZnodeAcl(ConnectString(1), path, "super:" + super);
    ASSERT_TRUE(acl.ok()) << acl.status().message();
    EXPECT_EQ(*acl, own) << path;
  }
  const std::string out = tries("anonymous", "");
  EXPECT_TRUE(Contains(out, "read /zkpilot NoAuthError"));
  EXPECT_TRUE(Contains(out, "read /zkpilot/upgrades NoAuthError"));
  EXPECT_TRUE(Contains(out, "delete /zkpilot/upgrades NoAuthError"));
  EXPECT_TRUE(Contains(out, "delete /zkpilot/keep NoAuthError"));
}

// With TLS the hook znodes belong to zkpilot's certificate
// (x509:CN=zkpilot-super); a client with a certificate from the cluster's CA
// is someone else.
TEST_F(AuthTest, WithTlsHookZnodesBelongToZkpilotsCertificate) {
  ProcessResult d = Deploy("owntls", {"replicas=1", "tls.enabled=true"});
  ASSERT_EQ(d.exit_code, 0) << d.All();
  const std::string certs = world_.root() + "/certs";
  ProcessResult issue = Zk({"certs", "owntls", "--client", "app1", "-o", certs});
  ASSERT_EQ(issue.exit_code, 0) << issue.All();
  ProcessResult r = Run({kPython, "-c", kKazooHookZnodes, ConnectString(1), "cert", certs});
  EXPECT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "read /zkpilot NoAuthError"));
  EXPECT_TRUE(Contains(r.out, "read /zkpilot/keep NoAuthError"));
  EXPECT_TRUE(Contains(r.out, "delete /zkpilot/keep NoAuthError"));
  EXPECT_TRUE(Contains(r.out, "delete /zkpilot NotEmptyError"));
  // zkpilot itself still works there: a roll restarts and checks the server.
  ProcessResult restart = Zk({"restart", "owntls", "--timeout", "90"});
  EXPECT_EQ(restart.exit_code, 0) << restart.All();
}

struct BadAuth {
  const char* name;
  std::vector<std::string> sets;
  std::vector<std::string> messages;
};
void PrintTo(const BadAuth& c, std::ostream* os) { *os << c.name; }

class BadAuthTest : public AuthTest, public ::testing::WithParamInterface<BadAuth> {};

TEST_P(BadAuthTest, IsRefusedNamingTheParameterAndLeavesNothing) {
  ProcessResult r = Deploy("bad", GetParam().sets);
  EXPECT_EQ(r.exit_code, 2) << r.All();
  for (const auto& m : GetParam().messages) EXPECT_TRUE(Contains(r.err, m));
  EXPECT_FALSE(fs::exists(ClusterDir("bad"))) << "a cluster directory was made";
  EXPECT_EQ(testing::PidsWithCmdline(world_.home()), std::vector<int>{}) << "a process of this home runs";
}

INSTANTIATE_TEST_SUITE_P(
    Auth, BadAuthTest,
    ::testing::Values(BadAuth{"EnforceWithoutSasl", {"auth.enforce=true"}, {"auth.enforce", "auth.enabled"}},
                      BadAuth{"UserNameWithASpace",
                              {"auth.enabled=true", "auth.users=[app, \"bad name\"]"},
                              {"auth.users", "\"bad name\" is not a user name"}},
                      BadAuth{"UserTwice", {"auth.enabled=true", "auth.users=[app, app]"}, {"auth.users", "twice"}},
                      BadAuth{"NoUsers", {"auth.enabled=true", "auth.users=[]"}, {"auth.users", "at least one user"}}),
    [](const ::testing::TestParamInfo<BadAuth>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace zkpilot
