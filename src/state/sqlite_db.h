// Small RAII helpers over the SQLite C API, used only by the state store:
// a prepared Statement with positional binding, a Transaction that rolls back
// unless committed, and Transact() to run a body as one transaction.
//
// Every error is an IOError "state database <path>: <what>: <sqlite message>",
// built at the moment of failure (a later ROLLBACK would replace sqlite's
// message). Objects here belong to one connection and one thread.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace zkpilot::sqlite_db {

// The file the connection's main database lives in.
std::string DbPath(sqlite3* db);
// IOError naming the database, `what` was being done, and sqlite's last error.
Status DbError(sqlite3* db, const std::string& what);
// Runs `sql` (one or more statements, no parameters).
Status Exec(sqlite3* db, const std::string& what, const std::string& sql);

// A prepared statement with positional binding. The first failure (prepare,
// bind or step) is kept and reported by Step(), so call sites chain Bind()
// calls without checking each one.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& what, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds the next parameter (the first call binds parameter 1).
  Statement& Bind(int64_t v);
  Statement& Bind(int v) { return Bind(static_cast<int64_t>(v)); }
  Statement& Bind(const std::string& v);
  Statement& Bind(const char* v) { return Bind(std::string(v)); }
  // Binds the next parameters, in order.
  template <typename A, typename B, typename... Rest>
  Statement& Bind(const A& a, const B& b, const Rest&... rest) {
    Bind(a);
    Bind(b);
    (Bind(rest), ...);
    return *this;
  }

  // Advances: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Run();
  // Makes the statement ready to be bound and run again.
  void Reset();

  // Columns of the current row. REQUIRES: the last Step() returned true.
  int64_t Int(int col) const;
  std::string Text(int col) const;

 private:
  void Fail();

  sqlite3* db_;
  std::string what_;
  sqlite3_stmt* stmt_ = nullptr;
  int bound_ = 0;
  Status status_;
};

// Steps through every row of `st`, calling `on_row` (returning Status) for each.
template <typename F>
Status ForEachRow(Statement& st, F&& on_row) {
  for (;;) {
    ZK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    ZK_RETURN_IF_ERROR(on_row());
  }
}

enum class TxKind { kRead, kWrite };

// One transaction, rolled back on destruction unless committed. kWrite uses
// BEGIN IMMEDIATE: taking the write lock up front lets the busy timeout wait
// for another process's transaction, whereas a deferred transaction that
// later upgrades to writing fails at once with SQLITE_BUSY. kRead is a plain
// BEGIN, so the reads inside it see one snapshot.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& what) : db_(db), what_(what) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin(TxKind kind);
  Status Commit();

 private:
  sqlite3* db_;
  std::string what_;
  bool open_ = false;
};

// Runs `body` (returning Status) as one transaction: committed when it
// returns OK, rolled back otherwise.
template <typename F>
Status Transact(sqlite3* db, const std::string& what, TxKind kind, F&& body) {
  Transaction tx(db, what);
  ZK_RETURN_IF_ERROR(tx.Begin(kind));
  ZK_RETURN_IF_ERROR(body());
  return tx.Commit();
}

}  // namespace zkpilot::sqlite_db
