#include "state/sqlite_db.h"

#include <sqlite3.h>

namespace zkpilot::sqlite_db {

std::string DbPath(sqlite3* db) {
  const char* f = sqlite3_db_filename(db, "main");
  return f ? f : "";
}

Status DbError(sqlite3* db, const std::string& what) {
  return Status::IOError("state database " + DbPath(db) + ": " + what + ": " + sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const std::string& what, const std::string& sql) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return DbError(db, what);
  return Status::Ok();
}

Statement::Statement(sqlite3* db, const std::string& what, const std::string& sql)
    : db_(db), what_(what) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) Fail();
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int64_t v) {
  if (stmt_ && sqlite3_bind_int64(stmt_, ++bound_, v) != SQLITE_OK) Fail();
  return *this;
}

Statement& Statement::Bind(const std::string& v) {
  if (stmt_ && sqlite3_bind_text(stmt_, ++bound_, v.data(), static_cast<int>(v.size()),
                                 SQLITE_TRANSIENT) != SQLITE_OK)
    Fail();
  return *this;
}

Result<bool> Statement::Step() {
  if (!status_.ok()) return status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail();
  return status_;
}

Status Statement::Run() {
  auto r = Step();
  return r.ok() ? Status::Ok() : r.status();
}

void Statement::Reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bound_ = 0;
}

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
}

void Statement::Fail() {
  if (status_.ok()) status_ = DbError(db_, what_);
}

Transaction::~Transaction() {
  // A failed statement may already have rolled the transaction back.
  if (open_ && !sqlite3_get_autocommit(db_))
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::Begin(TxKind kind) {
  const char* sql = kind == TxKind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN";
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return DbError(db_, what_ + ": begin");
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    return DbError(db_, what_ + ": commit");
  open_ = false;
  return Status::Ok();
}

}  // namespace zkpilot::sqlite_db
