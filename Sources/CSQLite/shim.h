// SQLite for Swift: the C API, and the macros Swift cannot import as inline functions.
#ifndef VIGIE_CSQLITE_SHIM_H
#define VIGIE_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns.
static inline sqlite3_destructor_type vigie_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
