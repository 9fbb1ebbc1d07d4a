// Runs the zkpilot binary the way a user does, for end-to-end CLI tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace zkpilot::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
  std::string stdout_only;
};

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string Slurp(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// Runs `zkpilot args...` from the source directory, stdin closed.
inline CliResult RunZkpilot(const std::vector<std::string>& args) {
  std::string cmd = "cd " + ShellQuote(ZKPILOT_SOURCE_DIR) + " && " + ShellQuote(ZKPILOT_BINARY);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  CliResult r;
  int code2 = -1;
  r.output = Slurp(cmd + " </dev/null 2>&1", &r.exit_code);
  r.stdout_only = Slurp(cmd + " </dev/null 2>/dev/null", &code2);
  return r;
}

// A fresh temporary directory removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zkpilot-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace zkpilot::testing
