// Why a server stopped, from the end of its log: the line a person would
// look for first ("Unrecognized VM option 'Foo'", "java.io.IOException: No
// space left on device"), so that `status` can say why a crash-looping
// server is down and not only that its port refuses connections.
//
// Pure: text in, text out. The log is what the server's process wrote to
// its stdout and stderr: the JVM's own messages, then ZooKeeper's log lines
// ("2026-01-01 10:00:00,000 [myid:1] - ERROR [main:...] - message") with
// Java stack traces ("\tat ...", "Caused by: ...", "... 3 more").
#pragma once

#include <string>
#include <string_view>

namespace zkpilot {

// The cause of the last failure in `log_tail`, "" when it shows none. A
// failure is a block — a line and what continues it: the exception it was
// logged with, stack frames, "Caused by:" — headed by a log line at ERROR or
// FATAL or by a line of the JVM's own that reads like an error ("Unrecognized
// VM option 'X'"). Exceptions logged at WARN or INFO (a peer not reachable
// yet) and closing words ("Error: Could not create the Java Virtual
// Machine.", "Exiting JVM with code 1") are not causes. Returns the head's
// message (without the timestamp) and the block's deepest cause (the last
// "Caused by:", else the exception), joined by " — "; each cut at 300
// characters.
std::string FailureCause(std::string_view log_tail);

}  // namespace zkpilot
