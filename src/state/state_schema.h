// The state database's schema: the list of migrations and how they are
// applied. PRAGMA user_version holds the number of migrations applied.
#pragma once

#include "util/status.h"

struct sqlite3;

namespace zkpilot {

// The schema version this build creates and understands.
int StateSchemaVersion();

// Applies the migrations `db` has not seen yet, all in one write
// transaction with the version they reach. Fails when the database was
// written by a newer zkpilot (a higher version than StateSchemaVersion()).
Status MigrateStateSchema(sqlite3* db);

}  // namespace zkpilot
