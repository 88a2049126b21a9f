#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro that casts -1 to a function pointer; Swift cannot import it.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

// sqlite3_db_config is variadic; Swift cannot call it. Leaves the write-ahead log in place when
// this connection is the last to close, instead of checkpointing it (and waiting for the disk).
static inline int csqlite_skip_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}

static inline int csqlite_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, (int *)0);
}

// SQLite's own write-ahead-log hook (a passive checkpoint once the log holds 1,000 frames, as
// `wal_autocheckpoint` does by default), which also records the log's length after each commit.
static int csqlite_wal_hook(void *frames, sqlite3 *db, const char *name, int count) {
    *(int *)frames = count;
    if (count >= 1000) sqlite3_wal_checkpoint(db, name);
    return SQLITE_OK;
}

static inline void csqlite_track_wal(sqlite3 *db, int *frames) {
    sqlite3_wal_hook(db, csqlite_wal_hook, frames);
}
