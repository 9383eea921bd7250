/*
 * evbill records (chargers, keys, sessions, readings) and the mapping
 * between them and the JSON of the HTTP API.
 *
 * Parsing checks everything that can be checked without the store (types,
 * ranges, formats); what depends on stored state (seq order, session
 * state, time going backwards) is checked inside the write transaction.
 */

#ifndef EVB_MODEL_H
#define EVB_MODEL_H

#include "evb_core.h"
#include "evb_json.h"
#include "evb_problem.h"


#define EVB_ID_MAX            64
#define EVB_TOKEN_MAX         255     /* id_token */
#define EVB_REASON_MAX        64      /* stop reason */
#define EVB_OCMF_MAX          16384   /* one OCMF record, verbatim */

/*
 * The largest meter register (Wh) rating can represent: the meter works in
 * 10^-9 kWh (10^6 per Wh) in int64.  With every register in 0..this, the
 * difference of any two fits as well.
 */
#define EVB_REGISTER_MAX_WH   (INT64_MAX / 1000000)
#define EVB_BATCH_MAX         1000    /* readings in one request */
#define EVB_SECRET_MIN        32
#define EVB_SECRET_MAX        128
#define EVB_JSON_MAX_DEPTH    32

/*
 * Lists (GET sessions): items per page when the request gives no limit,
 * and the most it may ask for.  One default for the API and the store.
 */
#define EVB_LIST_LIMIT_DEFAULT  100
#define EVB_LIST_LIMIT_MAX      1000


typedef enum {
    EVB_TOKEN_RFID = 0,
    EVB_TOKEN_APP_USER,
    EVB_TOKEN_AD_HOC_USER,
    EVB_TOKEN_OTHER
} evb_token_type_e;

typedef enum {
    EVB_SESSION_ACTIVE = 1,
    EVB_SESSION_STOPPED = 2
} evb_session_state_e;

typedef enum {
    EVB_READING_CHARGING = 0,
    EVB_READING_PARKED = 1
} evb_reading_state_e;


/* POST sessions */
typedef struct {
    evb_str_t         session_id;
    uint32_t          connector_id;
    evb_str_t         id_token;
    evb_token_type_e  token_type;
    evb_msec_t        timestamp;
    int64_t           meter_start_wh;
    evb_str_t         tariff_id;        /* len 0: not given */
    evb_str_t         ocmf;             /* len 0: not given */
} evb_start_t;


/* One reading, as posted and as stored. */
typedef struct {
    uint64_t          seq;
    evb_msec_t        timestamp;
    int64_t           energy_wh;        /* the meter register */
    evb_reading_state_e  state;
    unsigned          has_power:1;
    unsigned          has_current:1;
    int64_t           power_w;
    int64_t           current_ua;       /* micro-amperes: exact decimal */
    evb_str_t         ocmf;             /* len 0: not given */
} evb_reading_t;


/* POST sessions/{id}/stop */
typedef struct {
    evb_msec_t        timestamp;
    int64_t           meter_stop_wh;
    evb_str_t         reason;           /* len 0: not given ("local") */
    evb_str_t         ocmf;
} evb_stop_t;


typedef struct {
    uint64_t          sid;              /* store-internal, never shown */
    evb_str_t         charger_id;
    evb_str_t         session_id;
    evb_session_state_e  state;
    uint32_t          connector_id;
    evb_str_t         id_token;
    evb_token_type_e  token_type;
    evb_str_t         tariff_id;
    unsigned          tariff_from_request:1;
    evb_msec_t        started_at;
    evb_msec_t        stopped_at;       /* state STOPPED only */
    evb_str_t         stop_reason;      /* state STOPPED only */
    int64_t           meter_start_wh;
    int64_t           meter_stop_wh;    /* state STOPPED only */
    evb_str_t         start_ocmf;
    evb_str_t         stop_ocmf;
    uint64_t          last_seq;         /* 0: no reading yet */
    evb_msec_t        last_ts;          /* started_at if no reading */
    int64_t           last_energy_wh;   /* meter_start_wh if none */
    uint64_t          nreadings;
    evb_msec_t        updated_at;       /* last write, for idle timeout */
    uint32_t          tariff_version;   /* 0: tariff not defined at start */
    evb_str_t         cost;             /* the live or final cost, JSON;
                                           len 0: not rated */
    evb_str_t         cost_error;       /* why it is not rated */
    evb_str_t         meter;            /* evb_meter_t bytes (rating
                                           state); len 0: none */
    evb_str_t         void_reason;      /* len > 0: voided by the
                                           operator (state STOPPED, no
                                           CDR) */
    evb_str_t         sweep_error;      /* why the idle sweep could not
                                           close it; cleared by a write */
    /* store-internal (lmdb/, schema 3), never shown */
    uint64_t          log_last;         /* its last reading's number in
                                           the reading log; 0: none */
    evb_msec_t        activity_at;      /* its activity index entry's
                                           time (<= updated_at) */
} evb_session_t;


/* A charger key as the admin API receives it (secret decoded). */
typedef struct {
    evb_str_t         key_id;
    unsigned char     secret[EVB_SECRET_MAX];
    size_t            secret_len;
} evb_key_t;

/* A key as stored: the secret sealed under the master key. */
typedef struct {
    evb_str_t         key_id;
    evb_str_t         charger_id;
    evb_str_t         sealed;           /* nonce || ciphertext || tag */
    unsigned          retired:1;
    evb_msec_t        created_at;
    evb_msec_t        retired_at;
} evb_key_record_t;


typedef struct {
    evb_str_t         charger_id;
    /* the canonical JSON object of PUT chargers/{id} without "keys":
     * location, evse_uid, evse_id, connector, tariff_id */
    evb_str_t         doc;
    evb_str_t         tariff_id;        /* len 0: none */
    evb_str_t         time_zone;        /* location.time_zone */
    unsigned          retired:1;
    evb_msec_t        created_at;
    evb_msec_t        updated_at;
    evb_key_t        *keys;             /* from the request only */
    size_t            nkeys;
} evb_charger_t;


/*
 * Request parsers.  Each returns EVB_OK, or the first refusal's problem
 * with a sentence in detail naming its field ("readings[2].seq: must be
 * an integer >= 1"), and, when errors is not NULL, every refused field
 * (at most EVB_FIELD_ERRORS_MAX) in errors[0..*nerrors) with its JSON
 * Pointer ("/readings/2/seq"); *nerrors must start at 0.  Strings in the
 * results point into the JSON tree or the arena.
 */
evb_problem_e evb_parse_start(evb_arena_t *a, const evb_json_t *root,
    evb_start_t *out, char *detail, size_t len, evb_field_error_t *errors,
    size_t *nerrors);

/* A single reading object or {"readings": [...]} (1..EVB_BATCH_MAX, seq
 * strictly increasing within the batch). */
evb_problem_e evb_parse_readings(evb_arena_t *a, const evb_json_t *root,
    evb_reading_t **out, size_t *n, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors);

evb_problem_e evb_parse_stop(evb_arena_t *a, const evb_json_t *root,
    evb_stop_t *out, char *detail, size_t len, evb_field_error_t *errors,
    size_t *nerrors);

/* PUT chargers/{id}: location (id, name, address, city, postal_code,
 * country ISO 3166 alpha-3, coordinates {latitude, longitude} as strings,
 * time_zone IANA), evse_uid, evse_id, connector {standard, format,
 * power_type, max_electric_power}, tariff_id?, keys? */
evb_problem_e evb_parse_charger(evb_arena_t *a, const evb_json_t *root,
    evb_str_t charger_id, evb_charger_t *out, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors);

/* PUT chargers/{id}/keys/{key_id}: {"secret": base64 (>= 32 bytes)} */
evb_problem_e evb_parse_key(evb_arena_t *a, const evb_json_t *root,
    evb_str_t key_id, evb_key_t *out, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors);


/* Equality as idempotency needs it. */
int evb_start_matches(const evb_start_t *req, const evb_session_t *s);
int evb_stop_matches(const evb_stop_t *req, const evb_session_t *s);
int evb_reading_equal(const evb_reading_t *a, const evb_reading_t *b);


/*
 * Who reads an answer.  The admin view shows every field (the charger
 * API's answers show the same); a driver view will follow that hides
 * key ids and store-internal fields.
 */
typedef enum {
    EVB_VIEW_ADMIN = 0
} evb_view_e;


/* JSON renderers (compact); answers built from them: evb_render.h. */
void evb_render_session(evb_buf_t *b, evb_view_e view,
    const evb_session_t *s, const evb_reading_t *readings,
    size_t nreadings, int with_readings);
void evb_render_reading(evb_buf_t *b, const evb_reading_t *r);
/* the stored doc plus charger_id, retired, created_at, updated_at, and
 * keys as [{"id", "state", "created_at", "retired_at"?}] */
void evb_render_charger(evb_buf_t *b, evb_view_e view,
    const evb_charger_t *c, const evb_key_record_t *keys, size_t nkeys);

const char *evb_token_type_name(evb_token_type_e t);


#endif /* EVB_MODEL_H */
