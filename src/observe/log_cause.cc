#include "observe/log_cause.h"

#include <array>
#include <vector>

namespace zkpilot {
namespace {

constexpr size_t kMaxPart = 300;

bool Has(std::string_view line, std::string_view part) {
  return line.find(part) != std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Closing words after any failure: they say that it failed, not why (the
// lines before them do). The JVM's after a start-up error; ZooKeeper's
// ServiceUtils.requestSystemExit logs its exit code at ERROR.
bool Generic(std::string_view line) {
  return Has(line, "Error: Could not create the Java Virtual Machine") ||
         Has(line, "Error: A fatal exception has occurred") || Has(line, "Exiting JVM with code");
}

// A stack frame or its elision: part of an error block, never its cause.
bool Frame(std::string_view line) {
  std::string_view t = Trim(line);
  return t.rfind("at ", 0) == 0 || (t.rfind("... ", 0) == 0 && Has(t, " more"));
}

// A line that continues the log line before it: a stack frame, a cause,
// or the exception a log line was written with ("java.io.IOException: ...":
// a dotted class name ending in Exception or Error, then ':' or nothing).
bool Continuation(std::string_view line) {
  if (Frame(line) || line.rfind("Caused by:", 0) == 0 || Trim(line).rfind("Suppressed:", 0) == 0)
    return true;
  const std::string_view name = line.substr(0, line.find_first_of(": "));
  if (name.find('.') == std::string_view::npos || name.find('/') != std::string_view::npos)
    return false;
  return name.ends_with("Exception") || name.ends_with("Error") || name.ends_with("Throwable");
}

// ZooKeeper's log lines: "2026-01-01 10:00:00,000 [myid:1] - LEVEL [...".
std::string_view Level(std::string_view line) {
  if (line.empty() || line.front() < '0' || line.front() > '9') return "";
  const auto dash = line.find("] - ");
  if (dash == std::string_view::npos || dash > 60) return "";
  std::string_view rest = line.substr(dash + 4);
  return rest.substr(0, rest.find(' '));
}

// The first line of a block that reports a failure: a log line at ERROR or
// FATAL, or a line of the JVM's (or any program's) own that reads like one.
bool FailureHead(std::string_view line) {
  if (Generic(line)) return false;
  const std::string_view level = Level(line);
  if (!level.empty()) return level == "ERROR" || level == "FATAL";
  static constexpr std::array<std::string_view, 8> kSigns = {
      "Exception",         "Error",
      "Unrecognized",      "No space left on device",
      "Permission denied", "Address already in use",
      "Invalid",           "Could not"};
  for (auto sign : kSigns)
    if (Has(line, sign)) return true;
  return false;
}

// ZooKeeper's log lines start with a timestamp and "[myid:N] - ": people
// want the level and the message.
std::string Message(std::string_view line) {
  line = Trim(line);
  if (const std::string_view level = Level(line); !level.empty())
    line.remove_prefix(line.find("] - ") + 4);
  std::string out(line.substr(0, kMaxPart));
  if (line.size() > kMaxPart) out += "...";
  return out;
}

}  // namespace

std::string FailureCause(std::string_view log_tail) {
  std::vector<std::string_view> lines;
  while (!log_tail.empty()) {
    const auto nl = log_tail.find('\n');
    lines.push_back(log_tail.substr(0, nl));
    if (nl == std::string_view::npos) break;
    log_tail.remove_prefix(nl + 1);
  }
  // Blocks: a line and the continuations after it. The head of the block
  // before `i`'s, or -1.
  auto previous_head = [&](int i) {
    for (--i; i >= 0; --i)
      if (!Continuation(lines[i]) && !Trim(lines[i]).empty()) return i;
    return -1;
  };
  // The last failure's block: [first, end).
  int end = static_cast<int>(lines.size());
  int first = previous_head(end);
  while (first >= 0 && !FailureHead(lines[first])) end = first, first = previous_head(first);
  if (first < 0) return "";
  // QuorumPeerMain.main logs an error with its exception, then prints the
  // same words alone to stderr: the logged block is the one that says why.
  if (Level(lines[first]).empty()) {
    const int logged = previous_head(first);
    if (logged >= 0 && FailureHead(lines[logged]) && !Level(lines[logged]).empty() &&
        Has(lines[logged], Trim(lines[first])))
      end = first, first = logged;
  }
  // Its deepest cause: the last "Caused by:", else the exception it was
  // logged with.
  int cause = first;
  for (int i = first + 1; i < end; ++i) {
    if (lines[i].rfind("Caused by:", 0) == 0)
      cause = i;
    else if (cause == first && Continuation(lines[i]) && !Frame(lines[i]))
      cause = i;
  }
  std::string out = Message(lines[first]);
  if (cause != first) out += " — " + Message(lines[cause]);
  return out;
}

}  // namespace zkpilot
