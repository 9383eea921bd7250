/*
 * The evbill store: one LMDB environment, named databases, fixed
 * big-endian key layouts, a schema version.
 *
 * Threading: one evb_store_t per process (an nginx worker), opened after
 * fork.  Read functions are called from the event loop; evb_store_apply()
 * is called from one writer thread at a time and runs the whole batch in
 * one write transaction (each op in a nested transaction so one failing
 * op leaves the others intact) with one fsync.
 */

#ifndef EVB_STORE_H
#define EVB_STORE_H

#include "../src/core/evb_core.h"
#include "../src/core/evb_model.h"
#include "../src/core/evb_problem.h"
#include "../src/core/evb_bill.h"


#define EVB_SCHEMA_VERSION   1
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


typedef enum {
    EVB_OP_PUT_CHARGER = 1,
    EVB_OP_RETIRE_CHARGER,
    EVB_OP_PUT_KEY,
    EVB_OP_RETIRE_KEY,
    EVB_OP_START,
    EVB_OP_READINGS,
    EVB_OP_STOP,
    EVB_OP_SWEEP_IDLE,
    EVB_OP_PUT_TARIFF
} evb_op_kind_e;


/*
 * One write.  The caller fills the inputs (memory stays valid until the
 * op completes) and an arena for the outputs; the writer thread fills the
 * outputs using only that arena.
 */
typedef struct {
    evb_op_kind_e        kind;
    evb_msec_t           now;

    /* inputs */
    evb_str_t            charger_id;
    evb_str_t            session_id;
    evb_str_t            key_id;
    evb_charger_t       *charger;        /* PUT_CHARGER */
    evb_str_t           *sealed_keys;    /* PUT_CHARGER: one per
                                            charger->keys[i] */
    evb_str_t            sealed;         /* PUT_KEY */
    /* PUT_CHARGER / PUT_KEY: a key id that exists already is accepted
     * again only with the same secret; sealing is randomised, so the
     * writer opens the stored one with this key (evb_open) to compare */
    const unsigned char *master_key;
    evb_key_t           *key;            /* PUT_KEY */
    evb_start_t         *start;
    evb_reading_t       *readings;
    size_t               nreadings;
    evb_stop_t          *stop;
    evb_msec_t           idle_timeout;   /* SWEEP_IDLE */
    /* START, READINGS, STOP with check_time: a new timestamp must lie in
     * [now - max_age, now + max_ahead] (too-old, in-the-future); what is
     * stored already is a duplicate whatever its age.  now is the
     * caller's clock, taken when the request came in */
    unsigned             check_time:1;
    evb_msec_t           max_age;
    evb_msec_t           max_ahead;
    evb_str_t            tariff_id;      /* PUT_TARIFF */
    evb_str_t            tariff_json;    /* PUT_TARIFF, validated */
    /* rating settings; NULL: sessions are stored but not rated.  Its
     * policy's max_duration and max_periods bound every session: a
     * reading or stop beyond them is refused (session-limit) */
    const evb_bill_conf_t  *bill;

    /* outputs */
    evb_arena_t         *arena;
    evb_problem_e        problem;        /* EVB_OK or why this op failed */
    char                 detail[192];
    unsigned             created:1;      /* START, PUT_CHARGER: new */
    evb_session_t        session;        /* START, READINGS, STOP */
    uint64_t             accepted;       /* READINGS */
    uint64_t             duplicates;     /* READINGS */
    uint64_t             swept;          /* SWEEP_IDLE */
    uint32_t             tariff_version; /* PUT_TARIFF */
} evb_op_t;


/*
 * Apply a batch in one write transaction and commit it durably.
 * Returns EVB_OK when the transaction committed (each op then carries its
 * own problem or EVB_OK); otherwise nothing was written and the return
 * value is the problem every op gets (EVB_P_STORE_FULL on MDB_MAP_FULL,
 * EVB_P_STORE_UNAVAILABLE on other LMDB errors) with err set.
 */
evb_problem_e evb_store_apply(evb_store_t *store, evb_op_t **ops, size_t n,
    char *err, size_t errlen);

/*
 * One exception: when the flush after a committed transaction fails, the
 * data may be on disk or not.  Every op then gets EVB_P_STORE_UNAVAILABLE
 * with a detail saying so (retrying is safe: every write is idempotent).
 * The ops' details on a failure are meant for the client as they are.
 */

/* Tests only: when set, called instead of mdb_env_sync() after a commit
 * (to make the flush fail). */
extern int (*evb_store_sync_hook)(evb_store_t *store);


/*
 * The same, with the ops taken from take() only after the write
 * transaction has begun (the group-commit queue drains late, so requests
 * that arrive while another process holds the write lock join this
 * batch).  take() returns the number of ops and points *ops at them; it
 * runs in the caller's thread, exactly once.
 */
typedef size_t (*evb_ops_take_pt)(void *data, evb_op_t ***ops);

evb_problem_e evb_store_apply_take(evb_store_t *store, evb_ops_take_pt take,
    void *data, char *err, size_t errlen);


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


#endif /* EVB_STORE_H */
