/*
 * Every error evbill answers, as RFC 9457 problem types.  The names are
 * a public contract ("urn:evbill:problem:<name>"), listed in docs/api.md.
 */

#ifndef EVB_PROBLEM_H
#define EVB_PROBLEM_H

#include "evb_core.h"


typedef enum {
    EVB_OK = 0,

    /* 400 */
    EVB_P_MALFORMED_JSON,       /* malformed-json */
    EVB_P_INVALID_ENCODING,     /* invalid-encoding: not UTF-8, or NUL */
    EVB_P_DUPLICATE_KEY,        /* duplicate-key */
    EVB_P_NESTING_TOO_DEEP,     /* nesting-too-deep */
    EVB_P_MISSING_FIELD,        /* missing-field */
    EVB_P_INVALID_TYPE,         /* invalid-type: wrong JSON type */
    EVB_P_NOT_AN_INTEGER,       /* not-an-integer */
    EVB_P_OUT_OF_RANGE,         /* number-out-of-range */
    EVB_P_INVALID_VALUE,        /* invalid-value: enum, id, timestamp... */
    EVB_P_INVALID_QUERY,        /* invalid-query: bad query argument */
    EVB_P_SEQ_ORDER,            /* seq-order: batch seqs not increasing */

    /* 401 */
    EVB_P_SIG_MISSING,          /* signature-missing */
    EVB_P_SIG_MALFORMED,        /* signature-malformed */
    EVB_P_SIG_INCOMPLETE,       /* signature-incomplete */
    EVB_P_SIG_ALGORITHM,        /* signature-algorithm */
    EVB_P_SIG_COMPONENT,        /* signature-component-missing */
    EVB_P_SIG_TIME,             /* signature-time-window */
    EVB_P_SIG_INVALID,          /* signature-invalid: unknown key or MAC */
    EVB_P_DIGEST_MISSING,       /* content-digest-missing */
    EVB_P_DIGEST_MALFORMED,     /* content-digest-malformed */
    EVB_P_DIGEST_MISMATCH,      /* content-digest-mismatch */
    EVB_P_UNAUTHENTICATED,      /* unauthenticated: driver API, no
                                   customer identity */

    /* 404 */
    EVB_P_NOT_FOUND,            /* not-found: no such endpoint */
    EVB_P_UNKNOWN_CHARGER,      /* unknown-charger */
    EVB_P_UNKNOWN_SESSION,      /* unknown-session */
    EVB_P_UNKNOWN_KEY,          /* unknown-key */

    /* nginx's own error pages inside evbill locations */
    EVB_P_FORBIDDEN,            /* forbidden (403): access control */
    EVB_P_TOO_MANY_REQUESTS,    /* too-many-requests (429): limit_req */
    EVB_P_SERVICE_UNAVAILABLE,  /* service-unavailable (503) */
    EVB_P_BAD_REQUEST,          /* bad-request (400): unreadable request */

    /* 405, 413, 415 */
    EVB_P_METHOD_NOT_ALLOWED,   /* method-not-allowed */
    EVB_P_BODY_TOO_LARGE,       /* body-too-large */
    EVB_P_UNSUPPORTED_MEDIA,    /* unsupported-media-type */

    /* 409 */
    EVB_P_SESSION_CONFLICT,     /* session-conflict: other start, same id */
    EVB_P_STOP_CONFLICT,        /* stop-conflict: other stop */
    EVB_P_SEQ_CONFLICT,         /* seq-conflict: same seq, other values */
    EVB_P_SESSION_STOPPED,      /* session-stopped: reading after stop */
    EVB_P_KEY_CONFLICT,         /* key-conflict: key id used elsewhere */
    EVB_P_CHARGER_RETIRED,      /* charger-retired */

    /* 422 */
    EVB_P_TIME_BACKWARDS,       /* time-backwards */
    EVB_P_REGISTER_BACKWARDS,   /* register-backwards */
    EVB_P_BEFORE_START,         /* reading-before-start */
    EVB_P_NO_TARIFF,            /* no-tariff */
    EVB_P_TOO_OLD,              /* too-old: older than max_data_age */
    EVB_P_IN_THE_FUTURE,        /* in-the-future: beyond the window */
    EVB_P_SESSION_LIMIT,        /* session-limit: max duration/periods */

    /* tariffs and rating (issue 3) */
    EVB_P_TARIFF_INVALID,       /* invalid-tariff (400): other faults */
    EVB_P_TARIFF_DIMENSION,     /* tariff-unknown-dimension (400) */
    EVB_P_TARIFF_NEGATIVE,      /* tariff-negative-price (400) */
    EVB_P_TARIFF_MISSING,       /* tariff-missing-field (400) */
    EVB_P_TARIFF_TIME_FORMAT,   /* tariff-bad-time-format (400) */
    EVB_P_TARIFF_END_BEFORE,    /* tariff-end-before-start (400) */
    EVB_P_TARIFF_CURRENCY,      /* tariff-unknown-currency (400) */
    EVB_P_TARIFF_ID_MISMATCH,   /* tariff-id-mismatch (400) */
    EVB_P_UNKNOWN_TIME_ZONE,    /* unknown-time-zone (400) */
    EVB_P_UNKNOWN_TARIFF,       /* unknown-tariff (404) */
    EVB_P_UNKNOWN_CDR,          /* unknown-cdr (404) */
    EVB_P_NO_ACTIVE_TARIFF,     /* no-active-tariff (422) */

    /* who is billed (issue 9) */
    EVB_P_UNKNOWN_CUSTOMER,     /* unknown-customer (404) */
    EVB_P_UNKNOWN_TOKEN,        /* unknown-token (404) */
    EVB_P_CUSTOMER_RETIRED,     /* customer-retired (409) */
    /* invoices (issue 9) */
    EVB_P_UNKNOWN_INVOICE,      /* unknown-invoice (404) */
    EVB_P_UNKNOWN_CREDIT_NOTE,  /* unknown-credit-note (404) */
    EVB_P_NOT_ACCEPTABLE,       /* not-acceptable (406): Accept */
    EVB_P_CREDIT_CONFLICT,      /* credit-conflict (409): credit_id
                                   reused with another body */
    EVB_P_CREDIT_EXCEEDED,      /* credit-exceeded (422): nothing (or
                                   not that line) left to credit */
    EVB_P_UNKNOWN_LINE,         /* unknown-invoice-line (422) */
    EVB_P_PERIOD_NOT_ENDED,     /* period-not-ended (422): billing run of
                                   a month not over in the seller's zone */
    EVB_P_UNKNOWN_RUN,          /* unknown-billing-run (404) */

    /* no card data (issue 11) */
    EVB_P_CARD_DATA,            /* card-data-refused (422): a card number
                                   in a free-text field */

    /* payments (issue 11) */
    EVB_P_UNKNOWN_PAYMENT,      /* unknown-payment (404) */
    EVB_P_IDEM_KEY_MISSING,     /* idempotency-key-missing (400) */
    EVB_P_IDEM_CONFLICT,        /* idempotency-conflict (409): key reused
                                   with another body */
    EVB_P_PAY_NOT_AUTHORIZED,   /* payment-not-authorized (409) */
    EVB_P_PAY_IN_USE,           /* payment-in-use (409) */
    EVB_P_NO_PAYMENT_HOLD,      /* no-payment-hold (422): none for the
                                   charger's currency */
    EVB_P_PAY_UNAVAILABLE,      /* payments-unavailable (503): not
                                   configured */
    EVB_P_GATEWAY_ERROR,        /* gateway-error (502) */
    EVB_P_GATEWAY_TIMEOUT,      /* gateway-timeout (504): outcome unknown */
    EVB_P_WEBHOOK_SIGNATURE,    /* webhook-signature (400) */

    /* 5xx */
    EVB_P_INTERNAL,             /* internal-error (500) */
    EVB_P_QUEUE_FULL,           /* write-queue-full (503) */
    EVB_P_STORE_UNAVAILABLE,    /* store-unavailable (503) */
    EVB_P_STORE_FULL,           /* store-full (507) */

    EVB_P_COUNT
} evb_problem_e;


typedef struct {
    const char   *name;        /* "malformed-json" */
    const char   *title;       /* "Malformed JSON" */
    unsigned      status;
} evb_problem_info_t;

const evb_problem_info_t *evb_problem_info(evb_problem_e p);

/* {"type":"urn:evbill:problem:<name>","title":...,"status":...,
 *  "detail":...} */
void evb_problem_render(evb_buf_t *b, evb_problem_e p, const char *detail);


/*
 * One offending field of a request body: where (an RFC 6901 JSON
 * Pointer into the body) and why.  Every body reader (charger and admin
 * bodies, tariffs, the dry run) reports its refusals as a list of these,
 * rendered as the problem's "errors" member.
 */
typedef struct {
    evb_problem_e        problem;
    char                 pointer[96];
    char                 detail[160];
} evb_field_error_t;

#define EVB_FIELD_ERRORS_MAX  16

/* Adds one error if there is room (the first ones are kept). */
void evb_field_error_add(evb_field_error_t *errors, size_t *nerrors,
    evb_problem_e p, const char *pointer, const char *detail);

/* The "errors" member: ,"errors":[{"pointer","type","detail"}...] */
void evb_field_errors_render(evb_buf_t *b, const evb_field_error_t *errors,
    size_t nerrors);

/* evb_problem_render() with the errors member when there are any */
void evb_problem_render_errors(evb_buf_t *b, evb_problem_e p,
    const char *detail, const evb_field_error_t *errors, size_t nerrors);


#endif /* EVB_PROBLEM_H */
