/*
 * The problem type table (RFC 9457) and its JSON rendering.
 */

#include <stdio.h>
#include <string.h>

#include "evb_problem.h"


/* indexed by evb_problem_e; the names are a public contract */
static const evb_problem_info_t  evb_problems[EVB_P_COUNT] = {
    [EVB_OK] = { "ok", "OK", 200 },

    [EVB_P_MALFORMED_JSON] = { "malformed-json", "Malformed JSON", 400 },
    [EVB_P_INVALID_ENCODING] = { "invalid-encoding", "Invalid Encoding",
                                 400 },
    [EVB_P_DUPLICATE_KEY] = { "duplicate-key", "Duplicate Key", 400 },
    [EVB_P_NESTING_TOO_DEEP] = { "nesting-too-deep", "Nesting Too Deep",
                                 400 },
    [EVB_P_MISSING_FIELD] = { "missing-field", "Missing Field", 400 },
    [EVB_P_INVALID_TYPE] = { "invalid-type", "Invalid Type", 400 },
    [EVB_P_NOT_AN_INTEGER] = { "not-an-integer", "Not An Integer", 400 },
    [EVB_P_OUT_OF_RANGE] = { "number-out-of-range", "Number Out Of Range",
                             400 },
    [EVB_P_INVALID_VALUE] = { "invalid-value", "Invalid Value", 400 },
    [EVB_P_INVALID_QUERY] = { "invalid-query", "Invalid Query", 400 },

    [EVB_P_SIG_MISSING] = { "signature-missing", "Signature Missing", 401 },
    [EVB_P_UNAUTHENTICATED] = { "unauthenticated", "Unauthenticated", 401 },
    [EVB_P_SIG_MALFORMED] = { "signature-malformed", "Signature Malformed",
                              401 },
    [EVB_P_SIG_INCOMPLETE] = { "signature-incomplete",
                               "Signature Incomplete", 401 },
    [EVB_P_SIG_ALGORITHM] = { "signature-algorithm",
                              "Signature Algorithm Not Accepted", 401 },
    [EVB_P_SIG_COMPONENT] = { "signature-component-missing",
                              "Signature Component Missing", 401 },
    [EVB_P_SIG_TIME] = { "signature-time-window",
                         "Signature Outside Time Window", 401 },
    [EVB_P_SIG_INVALID] = { "signature-invalid", "Signature Invalid", 401 },
    [EVB_P_DIGEST_MISSING] = { "content-digest-missing",
                               "Content Digest Missing", 401 },
    [EVB_P_DIGEST_MALFORMED] = { "content-digest-malformed",
                                 "Content Digest Malformed", 401 },
    [EVB_P_DIGEST_MISMATCH] = { "content-digest-mismatch",
                                "Content Digest Mismatch", 401 },

    [EVB_P_NOT_FOUND] = { "not-found", "Not Found", 404 },
    [EVB_P_UNKNOWN_CHARGER] = { "unknown-charger", "Unknown Charger", 404 },
    [EVB_P_UNKNOWN_SESSION] = { "unknown-session", "Unknown Session", 404 },
    [EVB_P_UNKNOWN_KEY] = { "unknown-key", "Unknown Key", 404 },

    [EVB_P_METHOD_NOT_ALLOWED] = { "method-not-allowed",
                                   "Method Not Allowed", 405 },
    [EVB_P_BODY_TOO_LARGE] = { "body-too-large", "Body Too Large", 413 },
    [EVB_P_UNSUPPORTED_MEDIA] = { "unsupported-media-type",
                                  "Unsupported Media Type", 415 },

    [EVB_P_SESSION_CONFLICT] = { "session-conflict", "Session Conflict",
                                 409 },
    [EVB_P_STOP_CONFLICT] = { "stop-conflict", "Stop Conflict", 409 },
    [EVB_P_SEQ_CONFLICT] = { "seq-conflict", "Sequence Conflict", 409 },
    [EVB_P_SESSION_STOPPED] = { "session-stopped", "Session Stopped", 409 },
    [EVB_P_KEY_CONFLICT] = { "key-conflict", "Key Conflict", 409 },
    [EVB_P_CHARGER_RETIRED] = { "charger-retired", "Charger Retired", 409 },

    [EVB_P_TIME_BACKWARDS] = { "time-backwards", "Time Going Backwards",
                               422 },
    [EVB_P_REGISTER_BACKWARDS] = { "register-backwards",
                                   "Meter Register Going Backwards", 422 },
    [EVB_P_BEFORE_START] = { "reading-before-start",
                             "Reading Before Session Start", 422 },
    [EVB_P_NO_TARIFF] = { "no-tariff", "No Tariff", 422 },
    [EVB_P_TOO_OLD] = { "too-old", "Timestamp Too Old", 422 },
    [EVB_P_IN_THE_FUTURE] = { "in-the-future", "Timestamp In The Future",
                              422 },
    [EVB_P_SESSION_LIMIT] = { "session-limit", "Session Limit Reached",
                              422 },
    [EVB_P_SEQ_ORDER] = { "seq-order", "Sequence Out Of Order", 400 },

    [EVB_P_TARIFF_INVALID] = { "invalid-tariff", "Invalid Tariff", 400 },
    [EVB_P_TARIFF_DIMENSION] = { "tariff-unknown-dimension",
                                 "Unknown Tariff Dimension", 400 },
    [EVB_P_TARIFF_NEGATIVE] = { "tariff-negative-price",
                                "Negative Tariff Price", 400 },
    [EVB_P_TARIFF_MISSING] = { "tariff-missing-field",
                               "Tariff Field Missing", 400 },
    [EVB_P_TARIFF_TIME_FORMAT] = { "tariff-bad-time-format",
                                   "Bad Time Format In Tariff", 400 },
    [EVB_P_TARIFF_END_BEFORE] = { "tariff-end-before-start",
                                  "Tariff End Before Start", 400 },
    [EVB_P_TARIFF_CURRENCY] = { "tariff-unknown-currency",
                                "Unknown Tariff Currency", 400 },
    [EVB_P_TARIFF_ID_MISMATCH] = { "tariff-id-mismatch",
                                   "Tariff Id Mismatch", 400 },
    [EVB_P_UNKNOWN_TIME_ZONE] = { "unknown-time-zone", "Unknown Time Zone",
                                  400 },
    [EVB_P_UNKNOWN_TARIFF] = { "unknown-tariff", "Unknown Tariff", 404 },
    [EVB_P_UNKNOWN_CDR] = { "unknown-cdr", "Unknown CDR", 404 },
    [EVB_P_UNKNOWN_INVOICE] = { "unknown-invoice", "Unknown Invoice", 404 },
    [EVB_P_UNKNOWN_CREDIT_NOTE] = { "unknown-credit-note",
                                    "Unknown Credit Note", 404 },
    [EVB_P_NOT_ACCEPTABLE] = { "not-acceptable", "Not Acceptable", 406 },
    [EVB_P_CREDIT_CONFLICT] = { "credit-conflict", "Credit Conflict", 409 },
    [EVB_P_CREDIT_EXCEEDED] = { "credit-exceeded", "Credit Exceeded", 422 },
    [EVB_P_UNKNOWN_LINE] = { "unknown-invoice-line",
                             "Unknown Invoice Line", 422 },
    [EVB_P_CARD_DATA] = { "card-data-refused", "Card Data Refused", 422 },
    [EVB_P_PERIOD_NOT_ENDED] = { "period-not-ended", "Period Not Ended",
                                 422 },
    [EVB_P_UNKNOWN_RUN] = { "unknown-billing-run", "Unknown Billing Run",
                            404 },
    [EVB_P_UNKNOWN_PAYMENT] = { "unknown-payment", "Unknown Payment", 404 },
    [EVB_P_IDEM_KEY_MISSING] = { "idempotency-key-missing",
                                 "Idempotency-Key Missing", 400 },
    [EVB_P_IDEM_CONFLICT] = { "idempotency-conflict",
                              "Idempotency-Key Reused", 409 },
    [EVB_P_PAY_NOT_AUTHORIZED] = { "payment-not-authorized",
                                   "Payment Not Authorized", 409 },
    [EVB_P_PAY_IN_USE] = { "payment-in-use", "Payment In Use", 409 },
    [EVB_P_NO_PAYMENT_HOLD] = { "no-payment-hold", "No Payment Hold", 422 },
    [EVB_P_PAY_UNAVAILABLE] = { "payments-unavailable",
                                "Payments Unavailable", 503 },
    [EVB_P_GATEWAY_ERROR] = { "gateway-error", "Gateway Error", 502 },
    [EVB_P_GATEWAY_TIMEOUT] = { "gateway-timeout", "Gateway Timeout", 504 },
    [EVB_P_WEBHOOK_SIGNATURE] = { "webhook-signature",
                                  "Webhook Signature Invalid", 400 },
    [EVB_P_NO_ACTIVE_TARIFF] = { "no-active-tariff", "No Active Tariff",
                                 422 },

    [EVB_P_UNKNOWN_CUSTOMER] = { "unknown-customer", "Unknown Customer",
                                 404 },
    [EVB_P_UNKNOWN_TOKEN] = { "unknown-token", "Unknown Token", 404 },
    [EVB_P_CUSTOMER_RETIRED] = { "customer-retired", "Customer Retired",
                                 409 },

    [EVB_P_FORBIDDEN] = { "forbidden", "Forbidden", 403 },
    [EVB_P_TOO_MANY_REQUESTS] = { "too-many-requests", "Too Many Requests",
                                  429 },
    [EVB_P_SERVICE_UNAVAILABLE] = { "service-unavailable",
                                    "Service Unavailable", 503 },
    [EVB_P_BAD_REQUEST] = { "bad-request", "Bad Request", 400 },

    [EVB_P_INTERNAL] = { "internal-error", "Internal Error", 500 },
    [EVB_P_QUEUE_FULL] = { "write-queue-full", "Write Queue Full", 503 },
    [EVB_P_STORE_UNAVAILABLE] = { "store-unavailable", "Store Unavailable",
                                  503 },
    [EVB_P_STORE_FULL] = { "store-full", "Store Full", 507 },
};


const evb_problem_info_t *
evb_problem_info(evb_problem_e p)
{
    /* an out-of-range code is our bug: answer it as an internal error */
    if ((unsigned) p >= EVB_P_COUNT || evb_problems[p].name == NULL) {
        return &evb_problems[EVB_P_INTERNAL];
    }

    return &evb_problems[p];
}


void
evb_problem_render(evb_buf_t *b, evb_problem_e p, const char *detail)
{
    const evb_problem_info_t  *pi;

    pi = evb_problem_info(p);

    evb_buf_appends(b, "{\"type\":\"urn:evbill:problem:");
    evb_buf_appends(b, pi->name);
    evb_buf_appends(b, "\",\"title\":");
    evb_buf_append_json_str(b, pi->title, strlen(pi->title));
    evb_buf_appends(b, ",\"status\":");
    evb_buf_append_u64(b, pi->status);

    if (detail != NULL) {
        evb_buf_appends(b, ",\"detail\":");
        evb_buf_append_json_str(b, detail, strlen(detail));
    }

    evb_buf_appends(b, "}");
}


void
evb_field_error_add(evb_field_error_t *errors, size_t *nerrors,
    evb_problem_e p, const char *pointer, const char *detail)
{
    evb_field_error_t  *e;

    if (errors == NULL || nerrors == NULL
        || *nerrors >= EVB_FIELD_ERRORS_MAX)
    {
        return;
    }

    e = &errors[(*nerrors)++];
    e->problem = p;
    snprintf(e->pointer, sizeof(e->pointer), "%s", pointer);
    snprintf(e->detail, sizeof(e->detail), "%s", detail);
}


void
evb_field_errors_render(evb_buf_t *b, const evb_field_error_t *errors,
    size_t nerrors)
{
    size_t  i;

    evb_buf_appends(b, ",\"errors\":[");

    for (i = 0; i < nerrors; i++) {
        evb_buf_appends(b, i ? ",{\"pointer\":" : "{\"pointer\":");
        evb_buf_append_json_str(b, errors[i].pointer,
                                strlen(errors[i].pointer));
        evb_buf_appends(b, ",\"type\":\"urn:evbill:problem:");
        evb_buf_appends(b, evb_problem_info(errors[i].problem)->name);
        evb_buf_appends(b, "\",\"detail\":");
        evb_buf_append_json_str(b, errors[i].detail,
                                strlen(errors[i].detail));
        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "]");
}


void
evb_problem_render_errors(evb_buf_t *b, evb_problem_e p, const char *detail,
    const evb_field_error_t *errors, size_t nerrors)
{
    evb_problem_render(b, p, detail);

    /* RFC 9457 extension member: every offending field, as a pointer */
    if (!b->oom && b->len && nerrors) {
        b->len--;
        evb_field_errors_render(b, errors, nerrors);
        evb_buf_appends(b, "}");
    }
}
