/*
 * Payments (issue 11): the record of one ad hoc payment with its pending
 * gateway call (the outbox entry), what the gateway answers and sends
 * (PaymentIntents and events), the webhook signature, and the rules that
 * move a payment's state, which never goes backwards.  Plain C: the
 * store keeps the record as opaque bytes (evb_pay_encode/decode), the
 * ops decide, src/http talks to the gateway.
 */

#ifndef EVB_PAYMENT_H
#define EVB_PAYMENT_H

#include "evb_core.h"


typedef enum {
    EVB_PMT_REQUIRES_AUTHORIZATION = 0,
    EVB_PMT_AUTHORIZED,
    EVB_PMT_CAPTURE_PENDING,
    EVB_PMT_CAPTURED,
    EVB_PMT_CANCELED,
    EVB_PMT_FAILED,
    EVB_PMT_UNKNOWN,
    EVB_PMT_NSTATES
} evb_pmt_state_e;

typedef enum {
    EVB_CALL_NONE = 0,
    EVB_CALL_CREATE,
    EVB_CALL_CAPTURE,
    EVB_CALL_CANCEL,
    EVB_CALL_RETRIEVE               /* only ever sent, never stored */
} evb_call_action_e;

typedef enum {
    EVB_CALL_DONE = 0,
    EVB_CALL_PENDING,               /* stored, not sent (or refused with
                                       nothing applied) */
    EVB_CALL_UNKNOWN                /* sent, outcome unknown */
} evb_call_state_e;

/* Stripe keeps an Idempotency-Key 24 hours: after that, only retrieve */
#define EVB_PAY_KEY_TTL      (24 * 3600 * 1000LL)
/* an authorisation holds 7 days: a session on it lasts at most 6 */
#define EVB_PAY_MAX_SPAN     (6 * 24 * 3600 * 1000LL)
#define EVB_PAY_HISTORY_MAX  24

typedef struct {
    evb_msec_t           at;
    evb_pmt_state_e      state;
    evb_str_t            what;
} evb_pay_event_t;

typedef struct {
    evb_str_t            payment_id;
    evb_str_t            idem_key;       /* the app's Idempotency-Key */
    evb_str_t            charger_id;
    char                 currency[4];
    int64_t              amount;         /* the hold, minor units */
    evb_pmt_state_e      state;
    evb_str_t            gw_id;          /* pi_...; len 0: not known */
    evb_str_t            client_secret;  /* for the app's retry only */
    int64_t              capturable;     /* minor units */
    int64_t              captured;       /* minor units */
    int64_t              to_capture;     /* the capture asked for */
    evb_str_t            card_brand;
    evb_str_t            card_last4;
    evb_str_t            session_charger;
    evb_str_t            session_id;
    uint64_t             sid;            /* 0: no session */
    evb_str_t            invoice;        /* number; len 0: none */
    evb_msec_t           created_at;
    evb_msec_t           paid_at;        /* 0: not captured */

    /* the outbox entry: at most one call at a time */
    evb_call_action_e    call;
    evb_call_state_e     call_state;
    evb_str_t            call_body;      /* exactly what is sent */
    evb_str_t            call_key;       /* Idempotency-Key */
    evb_msec_t           call_first_at;  /* first sent; 0: never */
    uint32_t             call_attempts;

    evb_pay_event_t      history[EVB_PAY_HISTORY_MAX];
    size_t               nhistory;
} evb_pay_t;


/* What the gateway says of a PaymentIntent (an API answer or an event's
 * data.object). */
typedef struct {
    evb_str_t            id;
    evb_str_t            status;
    evb_str_t            currency;
    evb_str_t            client_secret;
    evb_str_t            payment;        /* metadata[evbill_payment] */
    int64_t              amount;
    int64_t              capturable;
    int64_t              received;
    evb_str_t            card_brand;
    evb_str_t            card_last4;
} evb_pay_gw_t;

typedef struct {
    evb_str_t            id;
    evb_str_t            type;
    evb_pay_gw_t         pi;
} evb_pay_gw_event_t;


/* a hold: evbill_payment_hold AMOUNT CURRENCY, or a charger's
 * "payment_hold": {"amount", "currency"} */
typedef struct {
    int64_t              amount;         /* 10^-6 */
    char                 currency[4];
} evb_pay_hold_t;

/* {"amount": 50.00, "currency": "EUR"}: 0, or -1 with why in detail */
int evb_pay_hold_parse(const void *json, evb_pay_hold_t *h, char *detail,
    size_t len);


const char *evb_pmt_state_name(evb_pmt_state_e s);
const char *evb_call_name(evb_call_action_e a);

/* the record as bytes (JSON) and back; 0, or -1 (malformed, no memory) */
int evb_pay_encode(evb_buf_t *b, const evb_pay_t *p);
int evb_pay_decode(evb_arena_t *a, const char *data, size_t len,
    evb_pay_t *p);

/* note a state change (the oldest note goes when history is full) */
void evb_pay_note(evb_arena_t *a, evb_pay_t *p, evb_msec_t at,
    evb_pmt_state_e state, const char *what);

/* micro-units (10^-6) to the currency's minor units and back, exactly:
 * -1 when the amount has digits below the minor unit or overflows */
int evb_pay_to_minor(int64_t micro, int exponent, int64_t *minor);
int evb_pay_from_minor(int64_t minor, int exponent, int64_t *micro);

/* a PaymentIntent or an event, from the gateway's JSON; 0 or -1 */
int evb_pay_gw_parse(evb_arena_t *a, const char *data, size_t len,
    evb_pay_gw_t *pi);
int evb_pay_event_parse(evb_arena_t *a, const char *data, size_t len,
    evb_pay_gw_event_t *ev);

/*
 * Apply what the gateway reports (an API answer or an event of type
 * `type`, NULL for an answer) to p, never backwards: a captured or
 * canceled payment stays so, an authorised one does not return to
 * requires_authorization.  A call that the report shows applied is done.
 * Returns 1 if p changed, 0 if not.
 */
int evb_pay_apply(evb_arena_t *a, evb_pay_t *p, const evb_pay_gw_t *pi,
    const char *type, evb_msec_t now);

/*
 * Stripe-Signature over the raw body: "t=<unix>,v1=<hex>[,v1=...]";
 * HMAC-SHA256 of "t." + body under secret, compared in constant time;
 * t within tolerance seconds of now.  0: valid; -1: malformed; -2: t out
 * of tolerance; -3: no v1 matches.
 */
int evb_pay_sig_verify(const unsigned char *secret, size_t secret_len,
    const char *header, size_t header_len, const char *body,
    size_t body_len, int64_t now, int64_t tolerance);


#endif /* EVB_PAYMENT_H */
