/*
 * evbill ops: the rules of every write.
 *
 * Each op is a small payload struct whose first member is evb_op_t (and
 * its first member the store's evb_wop_t), made by its init function,
 * which sets the run function the store's batch executor calls inside
 * the op's own nested transaction.  A run function returns EVB_OK or the
 * op's problem: a refusal is evb_refuse() (detail and problem, one
 * return), a store error evb_op_store_error().  Anything but EVB_OK
 * aborts the op's transaction, so a refused op never writes.
 *
 * The caller fills the inputs (memory stays valid until the op
 * completes) and an arena for the outputs; the writer thread fills the
 * outputs using only that arena.
 *
 * Families: evb_ops_charger.c (chargers and keys), evb_ops_session.c
 * (start, readings, stop, idle sweep, void, billing glue),
 * evb_ops_tariff.c.
 */

#ifndef EVB_OPS_H
#define EVB_OPS_H

#include "../core/evb_core.h"
#include "../core/evb_model.h"
#include "../core/evb_problem.h"
#include "../core/evb_bill.h"
#include "../core/evb_party.h"
#include "../core/evb_invoice_make.h"
#include "../core/evb_invoice_month.h"
#include "../core/evb_payment.h"
#include "../../lmdb/evb_store.h"


typedef enum {
    EVB_OP_PUT_CHARGER = 1,
    EVB_OP_RETIRE_CHARGER,
    EVB_OP_PUT_KEY,
    EVB_OP_RETIRE_KEY,
    EVB_OP_START,
    EVB_OP_READINGS,
    EVB_OP_STOP,
    EVB_OP_SWEEP_IDLE,
    EVB_OP_VOID,
    EVB_OP_PUT_TARIFF,
    EVB_OP_PUT_CUSTOMER,
    EVB_OP_RETIRE_CUSTOMER,
    EVB_OP_PUT_TOKEN,
    EVB_OP_DELETE_TOKEN,
    EVB_OP_CREDIT,
    EVB_OP_BILLING_RUN,
    EVB_OP_PAY_CREATE,
    EVB_OP_PAY_RESULT,
    EVB_OP_PAY_EVENT
} evb_op_kind_e;


/* What every op has. */
typedef struct {
    evb_wop_t            w;              /* first: run, problem, detail */
    evb_op_kind_e        kind;           /* for the caller's answer */
    evb_msec_t           now;            /* the caller's clock */
    evb_arena_t         *arena;          /* outputs */
} evb_op_t;


/* The one refusal path: sets the op's detail, returns p. */
evb_problem_e evb_refuse(evb_op_t *op, evb_problem_e p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A store error rc (not EVB_ST_NOTFOUND) as the op's answer. */
evb_problem_e evb_op_store_error(evb_op_t *op, int rc);

/* The problem an op got, EVB_OK when it was stored. */
#define evb_op_problem(o)   ((o)->w.problem)
#define evb_op_detail(o)    ((o)->w.detail)


/* chargers and keys (evb_ops_charger.c) */

/*
 * PUT and PUT key: a key id that exists already is accepted again only
 * with the same secret; sealing is randomised, so the writer opens the
 * stored one with master_key to compare.  A PUT of a retired charger
 * revives it; its keys keep their own retired flags.
 */
typedef struct {
    evb_op_t             op;
    evb_str_t            charger_id;     /* len 0: charger->charger_id */
    evb_charger_t       *charger;
    evb_str_t           *sealed_keys;    /* one per charger->keys[i] */
    const unsigned char *master_key;
    unsigned             has_hold:1;     /* "payment_hold" given */
    evb_pay_hold_t       hold;
    unsigned             created:1;      /* out */
} evb_op_put_charger_t;

typedef struct {
    evb_op_t             op;
    evb_str_t            charger_id;
} evb_op_retire_charger_t;

typedef struct {
    evb_op_t             op;
    evb_str_t            charger_id;
    evb_str_t            key_id;         /* len 0: key->key_id */
    evb_key_t           *key;
    evb_str_t            sealed;
    const unsigned char *master_key;
    unsigned             created:1;      /* out */
} evb_op_put_key_t;

typedef struct {
    evb_op_t             op;
    evb_str_t            charger_id;
    evb_str_t            key_id;
} evb_op_retire_key_t;

void evb_op_put_charger_init(evb_op_put_charger_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_retire_charger_init(evb_op_retire_charger_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_put_key_init(evb_op_put_key_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_retire_key_init(evb_op_retire_key_t *o, evb_msec_t now,
    evb_arena_t *a);


/* sessions (evb_ops_session.c) */

/*
 * What bounds the writes of a charger: with check_time, a new timestamp
 * must lie in [now - max_age, now + max_ahead] (too-old, in-the-future);
 * what is stored already is a duplicate whatever its age.  bill: rating
 * settings; NULL: sessions are stored but not rated.  Its policy's
 * max_duration and max_periods bound every session: a reading or stop
 * beyond them is refused (session-limit).
 */
typedef struct {
    const evb_bill_conf_t  *bill;
    unsigned             check_time:1;
    evb_msec_t           max_age;
    evb_msec_t           max_ahead;
} evb_op_limits_t;

typedef struct {
    evb_op_t             op;
    evb_op_limits_t      limits;
    evb_str_t            charger_id;
    evb_str_t            session_id;     /* len 0: start->session_id */
    evb_start_t         *start;
    unsigned             payments:1;     /* AD_HOC_USER: a payment id */
    unsigned             created:1;      /* out */
    evb_session_t        session;        /* out */
} evb_op_start_t;

/* A charger's batch of readings: all or nothing. */
typedef struct {
    evb_op_t             op;
    evb_op_limits_t      limits;
    evb_str_t            charger_id;
    evb_str_t            session_id;
    evb_reading_t       *readings;
    size_t               nreadings;
    evb_session_t        session;        /* out */
    uint64_t             accepted;       /* out */
    uint64_t             duplicates;     /* out */
    unsigned             pay_stop:2;     /* out: evb_pay_stop_due() */
} evb_op_readings_t;

typedef struct {
    evb_op_t             op;
    evb_op_limits_t      limits;
    evb_str_t            charger_id;
    evb_str_t            session_id;
    evb_stop_t          *stop;
    evb_session_t        session;        /* out */
} evb_op_stop_t;

/*
 * The idle sweep closes active sessions whose updated_at (the last write
 * to them) is at least idle_timeout old, at their last reading, with
 * reason "timeout".  Each session closes in a transaction of its own: a
 * session that cannot be closed keeps its failure (sweep_error) and is
 * skipped until it changes or is voided; the others close.  One op reads
 * at most EVB_SWEEP_CHUNK sessions (the oldest, from the activity
 * index); when more is set, the caller queues another op with the same
 * after, until more is 0.
 */
#define EVB_SWEEP_CHUNK      64      /* sessions read per sweep op */

typedef struct {
    evb_op_t             op;
    const evb_bill_conf_t  *bill;
    evb_msec_t           idle_timeout;
    /* in and out: where the next chunk starts (set by each run) */
    evb_activity_t       after;
    unsigned             has_after;
    uint64_t             swept;          /* out */
    uint64_t             failed;         /* out: not closed now (marked),
                                            or not readable */
    uint64_t             examined;       /* out: index entries read */
    uint64_t             moved;          /* out: entries behind their
                                            session's updated_at, moved
                                            there (it stays open) */
    unsigned             more;           /* out: run another op (with
                                            after) for the next chunk */
    uint64_t             run_us;         /* out: time of the run */
} evb_op_sweep_t;

/* An operator closes an active session (a stuck one, say) without a
 * price or a CDR, with a reason: 1..EVB_VOID_REASON_MAX characters of
 * UTF-8, no control characters. */
#define EVB_VOID_REASON_MAX  200

int evb_void_reason_ok(evb_str_t reason);

typedef struct {
    evb_op_t             op;
    evb_str_t            charger_id;
    evb_str_t            session_id;
    evb_str_t            reason;
    evb_session_t        session;        /* out */
} evb_op_void_t;

void evb_op_start_init(evb_op_start_t *o, evb_msec_t now, evb_arena_t *a);
void evb_op_readings_init(evb_op_readings_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_stop_init(evb_op_stop_t *o, evb_msec_t now, evb_arena_t *a);
void evb_op_sweep_init(evb_op_sweep_t *o, evb_msec_t now, evb_arena_t *a);
void evb_op_void_init(evb_op_void_t *o, evb_msec_t now, evb_arena_t *a);


/* tariffs (evb_ops_tariff.c) */

/* A replayed PUT is not a new version. */
typedef struct {
    evb_op_t             op;
    evb_str_t            tariff_id;
    evb_str_t            tariff_json;    /* validated */
    uint32_t             version;        /* out */
    unsigned             created:1;      /* out */
} evb_op_put_tariff_t;

void evb_op_put_tariff_init(evb_op_put_tariff_t *o, evb_msec_t now,
    evb_arena_t *a);


/* who is billed (evb_ops_party.c) */

/*
 * PUT customers/{id}: creates, replaces (created_at kept) or revives a
 * retired customer; a replay of what is stored writes nothing.  DELETE
 * retires (the record stays for the invoices made; later sessions of its
 * tokens get no customer).  PUT tokens/{uid} needs a customer that
 * exists and is not retired; DELETE removes the token (sessions started
 * keep what they took at their start).
 */
typedef struct {
    evb_op_t             op;
    evb_customer_t      *customer;
    unsigned             created:1;      /* out */
} evb_op_put_customer_t;

typedef struct {
    evb_op_t             op;
    evb_str_t            customer_id;
} evb_op_retire_customer_t;

typedef struct {
    evb_op_t             op;
    evb_token_rec_t     *token;
    unsigned             created:1;      /* out */
} evb_op_put_token_t;

typedef struct {
    evb_op_t             op;
    evb_str_t            uid;
} evb_op_delete_token_t;

void evb_op_put_customer_init(evb_op_put_customer_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_retire_customer_init(evb_op_retire_customer_t *o,
    evb_msec_t now, evb_arena_t *a);
void evb_op_put_token_init(evb_op_put_token_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_delete_token_init(evb_op_delete_token_t *o, evb_msec_t now,
    evb_arena_t *a);

/*
 * Inside the session ops: the start record of a new session s (its
 * token resolved to a token record and customer, its charger c and
 * tariff as now), written once; and the charger as the session started
 * (from that record; a session stored before schema 3 has none: the
 * charger record now).  *st_out may be NULL; *found says whether a start
 * record exists.  Return 0 or a store error.
 */
int evb_party_session_start(evb_op_t *op, evb_wtxn_t *tx,
    const evb_session_t *s, const evb_charger_t *c);
int evb_party_charger_at_start(evb_op_t *op, evb_wtxn_t *tx,
    const evb_session_t *s, evb_charger_t *c, evb_session_start_t *st,
    int *found);

/* invoices (evb_ops_invoice.c) */

/*
 * At a session's close, after its CDR is stored, in the same
 * transaction: the invoice (its number from the series' counter), the
 * CDR's invoice_reference_id, the session's link to it; or why none.
 * out: the rounded bill of evb_bill_final; start: the session's start
 * record (its customer), NULL for a session stored before them.  EVB_OK
 * or a store error.
 */
evb_problem_e evb_invoice_at_close(evb_op_t *op, evb_wtxn_t *tx,
    const evb_bill_conf_t *conf, const evb_session_t *s,
    const evb_session_start_t *start, const evb_charger_t *c, evb_str_t cdr,
    const evb_bill_out_t *out);

/*
 * PUT invoices/{number}/credits/{credit_id}: a credit note, a credit
 * CDR and, when lines are left, a corrected CDR.  A retry with the same
 * request answers the same credit note (created 0); another request
 * under the same credit_id is credit-conflict.
 */
typedef struct {
    evb_op_t             op;
    const evb_invoice_conf_t  *conf;
    evb_str_t            invoice_number;
    evb_str_t            credit_id;
    evb_credit_req_t     req;
    unsigned             created:1;      /* out */
    evb_str_t            number;         /* out: the credit note's */
} evb_op_credit_t;

void evb_op_credit_init(evb_op_credit_t *o, evb_msec_t now, evb_arena_t *a);


/* monthly invoices (evb_ops_runs.c) */

/*
 * At the close of a monthly customer's rated session with a total above
 * zero (inside evb_invoice_at_close): its pending record for the billing
 * run of its end's month, and the session's "invoiced monthly" note.
 */
evb_problem_e evb_month_at_close(evb_op_t *op, evb_wtxn_t *tx,
    const evb_invoice_conf_t *ic, const evb_session_t *s,
    const evb_invoice_customer_t *customer, const evb_bill_out_t *out);

/*
 * POST billing-runs: at most limit customers of the run of period
 * ("YYYY-MM", checked) in one transaction; run is the run's record after
 * it (all its numbers, done), made how many invoices this op made.  A
 * month not ended in the seller's zone is period-not-ended.
 */
typedef struct {
    evb_op_t             op;
    const evb_invoice_conf_t  *conf;
    evb_str_t            period;
    size_t               limit;
    evb_month_run_t      run;            /* out */
    uint64_t             made;           /* out */
} evb_op_billing_run_t;

void evb_op_billing_run_init(evb_op_billing_run_t *o, evb_msec_t now,
    evb_arena_t *a);


/* Room for any op, for callers that queue one of several kinds. */
/* payments (evb_ops_payment.c) */

/*
 * POST payments: a new payment under the app's Idempotency-Key, its
 * create call stored in the outbox in the same transaction; the same key
 * again answers the payment it made (another charger_id: 409
 * idempotency-conflict).  The hold is the charger's own ("payment_hold"),
 * else the one of the currency of the charger's tariff.
 */
typedef struct {
    evb_op_t             op;
    evb_str_t            idem_key;
    evb_str_t            charger_id;
    const evb_pay_hold_t *holds;
    size_t               nholds;
    unsigned             created:1;      /* out */
    evb_pay_t            pay;            /* out */
} evb_op_pay_create_t;

typedef enum {
    EVB_GW_APPLIED = 0,                  /* 2xx: pi holds the intent */
    EVB_GW_REFUSED,                      /* 4xx: not applied */
    EVB_GW_RETRY,                        /* 429: not applied, try later */
    EVB_GW_UNKNOWN,                      /* timeout, 5xx, reset */
    EVB_GW_EXPIRED                       /* the key is older than 24 h */
} evb_gw_outcome_e;

/* what a gateway call (action; EVB_CALL_RETRIEVE too) came to */
typedef struct {
    evb_op_t             op;
    evb_str_t            payment_id;
    evb_call_action_e    action;
    evb_gw_outcome_e     outcome;
    evb_pay_gw_t         pi;
    unsigned             status;         /* the HTTP status, 0: none */
    evb_pay_t            pay;            /* out */
} evb_op_pay_result_t;

/* a verified webhook event: applied once, never backwards */
typedef struct {
    evb_op_t             op;
    evb_pay_gw_event_t   event;
    unsigned             duplicate:1;    /* out */
    unsigned             applied:1;      /* out */
} evb_op_pay_event_t;

void evb_op_pay_create_init(evb_op_pay_create_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_pay_result_init(evb_op_pay_result_t *o, evb_msec_t now,
    evb_arena_t *a);
void evb_op_pay_event_init(evb_op_pay_event_t *o, evb_msec_t now,
    evb_arena_t *a);

/* in an op of sessions: an AD_HOC_USER start takes its payment (409
 * payment-not-authorized, payment-in-use) */
evb_problem_e evb_pay_claim(evb_op_t *op, evb_wtxn_t *tx,
    const evb_session_t *s);
/* in the invoice of a session's close: the capture (or cancel) of its
 * payment goes to the outbox; 0 or a store error.  currency NULL: the
 * session got no invoice (invoice is why): the hold is canceled */
int evb_pay_at_close(evb_op_t *op, evb_wtxn_t *tx, uint64_t sid,
    evb_str_t invoice, int64_t payable, const char *currency);
/* an ad hoc session's live cost reached its hold (1) or its span the
 * 6 days of an authorisation (2): the charger is told to stop; 0: no */
int evb_pay_stop_due(evb_op_t *op, evb_wtxn_t *tx, const evb_session_t *s);
/* a charger's own hold (PUT chargers "payment_hold"), NULL: none */
int evb_pay_charger_hold(evb_op_t *op, evb_wtxn_t *tx, evb_str_t charger_id,
    const evb_pay_hold_t *hold);
/* the payment of a session, for the hold check; 0, EVB_ST_NOTFOUND */
int evb_pay_of_session(evb_op_t *op, evb_wtxn_t *tx, uint64_t sid,
    evb_pay_t *p);


typedef union {
    evb_op_t                 op;
    evb_op_put_charger_t     put_charger;
    evb_op_retire_charger_t  retire_charger;
    evb_op_put_key_t         put_key;
    evb_op_retire_key_t      retire_key;
    evb_op_start_t           start;
    evb_op_readings_t        readings;
    evb_op_stop_t            stop;
    evb_op_sweep_t           sweep;
    evb_op_void_t            void_;
    evb_op_put_tariff_t      put_tariff;
    evb_op_put_customer_t    put_customer;
    evb_op_retire_customer_t retire_customer;
    evb_op_put_token_t       put_token;
    evb_op_delete_token_t    delete_token;
    evb_op_credit_t          credit;
    evb_op_billing_run_t     billing_run;
    evb_op_pay_create_t      pay_create;
    evb_op_pay_result_t      pay_result;
    evb_op_pay_event_t       pay_event;
} evb_op_any_t;


/* Tests only: stops and sweep closes priced by replaying the session's
 * readings (no complete rating state kept with it). */
extern unsigned long  evb_ops_final_replays;


/* internal to src/ops/ */
void evb_op_base_init(evb_op_t *op, evb_op_kind_e kind, evb_wop_run_pt run,
    evb_wop_clear_pt clear, evb_msec_t now, evb_arena_t *a);
void evb_span_text(char *buf, size_t len, evb_msec_t ms);


#endif /* EVB_OPS_H */
