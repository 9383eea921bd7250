/*
 * The evbill store: one LMDB environment, named databases, fixed
 * big-endian key layouts, a schema version.
 *
 * Threading: one evb_store_t per process (an nginx worker), opened after
 * fork.  Read functions are called from the event loop; evb_store_apply()
 * is called from one writer thread at a time and runs the whole batch in
 * one write transaction (each op in a nested transaction so one failing
 * op leaves the others intact) with one fsync.  lmdb/ is storage only:
 * the rules of every write live in src/ops/.
 */

#ifndef EVB_STORE_H
#define EVB_STORE_H

#include "../src/core/evb_core.h"
#include "../src/core/evb_model.h"
#include "../src/core/evb_problem.h"
#include "../src/core/evb_party.h"


/* 2: the activity index (the idle sweep's); 3: customers, tokens and
 * session starts (who is billed); 4: invoices and credit notes; 5: the
 * reading log, live records, closed periods; 6: sessions by customer
 * (driver API); 7: the feed for downstream systems; 8: monthly billing
 * runs; 9: payments; see evb_store_upgrade() */
#define EVB_SCHEMA_VERSION   10
#define EVB_CURSOR_LEN       32      /* hex of a 16-byte index key */


typedef struct evb_store_s  evb_store_t;


/*
 * Create the directory's environment if new (writing the schema
 * version), or open it and refuse a different schema version with a
 * clear sentence in err.  Clears stale reader slots.  0 or -1.
 */
int evb_store_open(evb_store_t **store, const char *path, size_t map_size,
    unsigned max_readers, char *err, size_t errlen);
void evb_store_close(evb_store_t *store);

/* nginx -t: 0 when the directory holds no store yet or one of this
 * schema version; -1 with a sentence in err otherwise.  Read-only. */
int evb_store_check(const char *path, char *err, size_t errlen);

/* mdb_reader_check: number of stale slots cleared, or -1. */
int evb_store_reader_check(evb_store_t *store);


/*
 * Writes.  The store knows no business rule: an op is a run function
 * (src/ops/) over a write transaction of its own, nested in the batch's.
 * Whatever the run function returns other than EVB_OK aborts that nested
 * transaction only (the op's refusal, a record that does not decode,
 * MDB_MAP_FULL on its own writes) and becomes the op's answer; the
 * other ops of the batch are committed.
 */

typedef struct evb_wtxn_s  evb_wtxn_t;
typedef struct evb_wop_s   evb_wop_t;

typedef evb_problem_e (*evb_wop_run_pt)(evb_wop_t *op, evb_wtxn_t *tx);
typedef void (*evb_wop_clear_pt)(evb_wop_t *op);

struct evb_wop_s {
    evb_wop_run_pt       run;
    evb_wop_clear_pt     clear;          /* forget outputs; may be NULL */
    /* outputs of the executor: EVB_OK or why this op failed */
    evb_problem_e        problem;
    char                 detail[192];
};


/*
 * Apply a batch and commit it durably.  Each op runs in its own nested
 * transaction.  When the commit itself fails with no op to blame
 * (MDB_MAP_FULL while writing the batch's pages, say), the ops run again
 * in smaller transactions (halves, down to one op each), so each op gets
 * its own true answer.  Returns EVB_OK when every op got an answer of
 * its own (EVB_OK or its problem); otherwise the problem of the batch
 * (lock, begin or flush failures) with err set; every op then carries a
 * problem and a detail meant for the client.
 */
evb_problem_e evb_store_apply(evb_store_t *store, evb_wop_t **ops,
    size_t n, char *err, size_t errlen);

/*
 * One exception: when the flush after a committed transaction fails, the
 * data may be on disk or not.  Every op then gets EVB_P_STORE_UNAVAILABLE
 * with a detail saying so (retrying is safe: every write is idempotent).
 */

/* Tests only: when set, called instead of mdb_env_sync() after a commit
 * (to make the flush fail). */
extern int (*evb_store_sync_hook)(evb_store_t *store);

/* Tests only: when set, called before each batch commit; a non-zero
 * return fails that commit with it (an LMDB code: MDB_MAP_FULL). */
extern int (*evb_store_commit_hook)(evb_store_t *store, size_t nops);


/*
 * The same, with the ops taken from take() only after the write
 * transaction has begun (the group-commit queue drains late, so requests
 * that arrive while another process holds the write lock join this
 * batch).  take() returns the number of ops and points *ops at them; it
 * runs in the caller's thread, exactly once.
 */
typedef size_t (*evb_ops_take_pt)(void *data, evb_wop_t ***ops);

evb_problem_e evb_store_apply_take(evb_store_t *store, evb_ops_take_pt take,
    void *data, char *err, size_t errlen);


/*
 * Typed record access inside an op's transaction (src/ops/ only).
 * Each returns 0, EVB_ST_NOTFOUND, or another store error that the op
 * passes to evb_tx_error().  Strings read are copied into the arena.
 */

#define EVB_ST_NOTFOUND      (-30798)    /* MDB_NOTFOUND */

/* The op's answer for a store error rc (detail set): store-full (507)
 * for MDB_MAP_FULL, internal for ENOMEM, else store-unavailable. */
evb_problem_e evb_tx_error(evb_wop_t *op, int rc);

/* A transaction nested in tx, for a part of an op that may fail alone
 * (the idle sweep closes each session in one).  Commit or abort frees
 * it; a failed commit aborts it. */
int evb_tx_nest(evb_wtxn_t *tx, evb_wtxn_t **child);
int evb_tx_commit(evb_wtxn_t *child);
void evb_tx_abort(evb_wtxn_t *child);

/* A slot that lives as long as the store, for the writer's caches
 * (src/ops keeps parsed tariffs there); freed with free_fn at close. */
void *evb_tx_cache(evb_wtxn_t *tx);
void evb_tx_set_cache(evb_wtxn_t *tx, void *cache, void (*free_fn)(void *));

int evb_tx_get_charger(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_charger_t *c);
int evb_tx_put_charger(evb_wtxn_t *tx, evb_str_t id, const evb_charger_t *c);

int evb_tx_get_key(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_key_record_t *k);
int evb_tx_put_key(evb_wtxn_t *tx, evb_str_t id, const evb_key_record_t *k);
/* index the key under its charger */
int evb_tx_link_key(evb_wtxn_t *tx, evb_str_t charger_id, evb_str_t key_id);

int evb_tx_get_session(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t charger_id,
    evb_str_t session_id, evb_session_t *s);
int evb_tx_get_session_sid(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    evb_session_t *s);
/* Store s; with out, also decode the stored record into out (arena a),
 * so nothing of it points into the request. */
int evb_tx_put_session(evb_wtxn_t *tx, const evb_session_t *s,
    evb_arena_t *a, evb_session_t *out);
/* Store only what a commit of readings changes in an open session s
 * (last_*, nreadings, updated_at, log_last, activity_at, cost,
 * cost_error, meter): one small record.  The other fields must be as
 * stored. */
int evb_tx_put_session_live(evb_wtxn_t *tx, const evb_session_t *s);
/* A new session's number. */
int evb_tx_next_sid(evb_wtxn_t *tx, uint64_t *sid);
/* A new session's indexes: by name, by time, by charger and time, and
 * the active set. */
int evb_tx_index_session(evb_wtxn_t *tx, const evb_session_t *s);
/* Leave the active set (the open sessions). */
int evb_tx_unmark_active(evb_wtxn_t *tx, uint64_t sid);

/*
 * The activity index: an active session without a sweep_error mark,
 * under its activity_at, a time at or before its updated_at.  The
 * caller keeps it in step with the session record in the same
 * transaction: put at start (and at a write that clears a mark), del
 * when it stops or gets a mark; the sweep moves an entry it finds
 * behind updated_at.  del of an absent entry is 0.
 */
typedef struct {
    uint64_t             sid;
    evb_msec_t           at;             /* updated_at as indexed */
} evb_activity_t;

int evb_tx_activity_put(evb_wtxn_t *tx, uint64_t sid, evb_msec_t at);
int evb_tx_activity_del(evb_wtxn_t *tx, uint64_t sid, evb_msec_t at);
/* Up to max entries with at <= cutoff, oldest first, after the entry
 * *after (NULL: from the start); *more when the range holds more. */
int evb_tx_activity_scan(evb_wtxn_t *tx, evb_msec_t cutoff,
    const evb_activity_t *after, evb_activity_t *out, size_t max,
    size_t *n, int *more);

/* Tests only: session records read by evb_tx_get_session_sid() (the
 * writer's; the idle sweep reads through it). */
extern unsigned long  evb_store_session_reads;

/* A stored reading of s as a view into the store (valid until the next
 * write of this transaction); reads at most 2 * EVB_LOG_SKIP entries. */
int evb_tx_get_reading_view(evb_wtxn_t *tx, const evb_session_t *s,
    uint64_t seq, evb_reading_t *r);
/* Append r to s's readings and set s->log_last; s->nreadings counts
 * the readings before r (the caller counts r after). */
int evb_tx_put_reading(evb_wtxn_t *tx, evb_session_t *s,
    const evb_reading_t *r);
int evb_tx_get_readings(evb_wtxn_t *tx, evb_arena_t *a,
    const evb_session_t *s, evb_reading_t **readings, size_t *n);

int evb_tx_put_cdr(evb_wtxn_t *tx, uint64_t sid, evb_str_t cdr);

/* The charging periods rating closed in an open session, as bytes the
 * caller encodes, numbered from 0 without gaps; get returns them in
 * order (E2BIG beyond max). */
int evb_tx_put_period(evb_wtxn_t *tx, uint64_t sid, uint32_t idx,
    evb_str_t period);
int evb_tx_get_periods(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    size_t max, evb_str_t **periods, size_t *n);

/* version 0: the latest; found, created_at may be NULL. */
int evb_tx_get_tariff(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    uint32_t version, evb_str_t *json, uint32_t *found,
    evb_msec_t *created_at);
/* a new version, which becomes the latest */
int evb_tx_put_tariff(evb_wtxn_t *tx, evb_str_t id, uint32_t version,
    evb_msec_t created_at, evb_str_t json);


/* Reads: each runs in its own read-only transaction in the caller's
 * thread.  Strings in the results are copied into the arena. */

/* An active key of a charger that is not retired; EVB_P_UNKNOWN_KEY
 * otherwise. */
evb_problem_e evb_store_find_key(evb_store_t *store, evb_arena_t *a,
    evb_str_t key_id, evb_key_record_t *out);

evb_problem_e evb_store_get_charger(evb_store_t *store, evb_arena_t *a,
    evb_str_t charger_id, evb_charger_t *out, evb_key_record_t **keys,
    size_t *nkeys);

/* readings may be NULL to skip them. */
evb_problem_e evb_store_get_session(evb_store_t *store, evb_arena_t *a,
    evb_str_t charger_id, evb_str_t session_id, evb_session_t *out,
    evb_reading_t **readings, size_t *nreadings);

typedef struct {
    evb_str_t            charger_id;     /* len 0: any */
    int                  state;          /* 0: any, or evb_session_state_e */
    evb_str_t            after;          /* cursor, len 0: from newest */
    size_t               limit;
} evb_session_query_t;

/* Newest first (by started_at, then creation order).  next gets the
 * cursor of the last item when more may follow, or "" at the end. */
evb_problem_e evb_store_list_sessions(evb_store_t *store, evb_arena_t *a,
    const evb_session_query_t *q, evb_session_t **items, size_t *n,
    char next[EVB_CURSOR_LEN + 1]);


/* A tariff version (0: the latest), verbatim as PUT. */
evb_problem_e evb_store_get_tariff(evb_store_t *store, evb_arena_t *a,
    evb_str_t tariff_id, uint32_t version, evb_str_t *json,
    uint32_t *version_out, evb_msec_t *created_at);

/* The OCPI CDR of a stopped session. */
evb_problem_e evb_store_get_cdr(evb_store_t *store, evb_arena_t *a,
    evb_str_t charger_id, evb_str_t session_id, evb_str_t *json);


/*
 * Who is billed (evb_store_parties.c): customers, tokens (by uid without
 * case), and what each session kept of its start (written once, by sid).
 */
#define EVB_CUSTOMER_CURSOR_LEN  (2 * EVB_ID_MAX)   /* hex of an id */

int evb_tx_get_customer(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_customer_t *out);
int evb_tx_put_customer(evb_wtxn_t *tx, const evb_customer_t *c);
int evb_tx_get_token(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t uid,
    evb_token_rec_t *out);
int evb_tx_put_token(evb_wtxn_t *tx, const evb_token_rec_t *t);
int evb_tx_del_token(evb_wtxn_t *tx, evb_str_t uid);
int evb_tx_get_session_start(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    evb_session_start_t *out);
int evb_tx_put_session_start(evb_wtxn_t *tx, const evb_session_start_t *st);

evb_problem_e evb_store_get_customer(evb_store_t *store, evb_arena_t *a,
    evb_str_t id, evb_customer_t *out);
/* In id order, after the cursor after (len 0: from the first); next
 * gets the cursor of the last item when more follow, or "". */
evb_problem_e evb_store_list_customers(evb_store_t *store, evb_arena_t *a,
    evb_str_t after, size_t limit, evb_customer_t **items, size_t *n,
    char next[EVB_CUSTOMER_CURSOR_LEN + 1]);
evb_problem_e evb_store_get_token(evb_store_t *store, evb_arena_t *a,
    evb_str_t uid, evb_token_rec_t *out);
/* *found 0: the session has no start record (stored before schema 3) */
evb_problem_e evb_store_get_session_start(evb_store_t *store, evb_arena_t *a,
    uint64_t sid, evb_session_start_t *out, int *found);


typedef struct {
    uint64_t             txn_id;         /* last committed transaction */
    uint64_t             map_size;
    uint64_t             map_used;       /* bytes in use (last page) */
    uint64_t             chargers;
    uint64_t             keys;
    uint64_t             sessions;
    uint64_t             readings;
    uint64_t             tariff_versions;
    uint64_t             cdrs;
    unsigned             schema_version;
    unsigned             readers_used;
    unsigned             max_readers;
} evb_store_stat_t;

evb_problem_e evb_store_stat(evb_store_t *store, evb_store_stat_t *st);

const char *evb_store_strerror(int rc);


/*
 * Offline maintenance (build/evbill-store), never inside nginx.
 *
 * evb_store_version: the schema version of the store in path (0 when it
 * has none yet); 0 or -1 with err.
 *
 * evb_store_upgrade: migrate the store in place to EVB_SCHEMA_VERSION,
 * one step at a time, each step and its version bump one write
 * transaction, synced; step() is told each step done.  Refuses (-1) a
 * store that is in use (a live process has it open: see
 * docs/operations.md) or of a newer schema.
 *
 * evb_store_verify: decode every record and check the indexes against
 * the sessions; the number of problems (each told to problem()), or -1
 * with err when the store cannot be read.
 */
int evb_store_version(const char *path, unsigned *version, char *err,
    size_t errlen);
int evb_store_upgrade(const char *path,
    void (*step)(void *data, unsigned from, unsigned to, const char *what,
                 unsigned long items),
    void *data, char *err, size_t errlen);
long evb_store_verify(const char *path,
    void (*problem)(void *data, const char *what), void *data, char *err,
    size_t errlen);


#endif /* EVB_STORE_H */
