
/*
 * The admin API (evbill_admin_api): chargers, their keys, sessions and
 * store status.  Not signed: operators protect the location with nginx's
 * own access control (allow/deny, client certificates, auth_request).
 */


#include "ngx_evbill.h"
#include "evb_pan.h"


#define NGX_EVBILL_A_CHARGER     1    /* chargers/{id} */
#define NGX_EVBILL_A_KEY         2    /* chargers/{id}/keys/{key_id} */
#define NGX_EVBILL_A_SESSION     3    /* sessions/{charger}/{session} */
#define NGX_EVBILL_A_SESSIONS    4    /* sessions */
#define NGX_EVBILL_A_STORE       5    /* store */
#define NGX_EVBILL_A_TARIFF      6    /* tariffs/{id} */
#define NGX_EVBILL_A_TARIFF_V    7    /* tariffs/{id}/versions/{n} */
#define NGX_EVBILL_A_RATE        8    /* rate */
#define NGX_EVBILL_A_CDR         9    /* cdrs/{charger}/{session} */
#define NGX_EVBILL_A_VOID       10    /* sessions/{charger}/{session}/void */
#define NGX_EVBILL_A_CUSTOMER   11    /* customers/{id} */
#define NGX_EVBILL_A_CUSTOMERS  12    /* customers */
#define NGX_EVBILL_A_TOKEN      13    /* tokens/{uid} */
#define NGX_EVBILL_A_INVOICES   14    /* invoices */
#define NGX_EVBILL_A_INVOICE    15    /* invoices/{number} */
#define NGX_EVBILL_A_CREDIT     16    /* invoices/{number}/credits/{id} */
#define NGX_EVBILL_A_CREDIT_NOTE 17   /* credit-notes/{number} */
#define NGX_EVBILL_A_FEED       40    /* feed (issue 10) */
#define NGX_EVBILL_A_RUNS       30    /* billing-runs */
#define NGX_EVBILL_A_RUN        31    /* billing-runs/{period} */

/* the detail of a bad limit names the bound */
_Static_assert(EVB_LIST_LIMIT_MAX == 1000, "update the 1000 in the detail");


static ngx_int_t ngx_evbill_admin_charger(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_tariff(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_tariff_version(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_delete(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_process(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_write(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, ngx_evbill_wreq_t *w);
static void ngx_evbill_admin_done(ngx_evbill_wreq_t *w);
static ngx_int_t ngx_evbill_admin_get_charger(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, ngx_uint_t status, evb_str_t *key_id);
static ngx_int_t ngx_evbill_admin_get_session(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_list(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_store(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_store_problem(ngx_http_request_t *r,
    evb_problem_e p);
static ngx_int_t ngx_evbill_admin_put_tariff(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, evb_json_t *root);
static ngx_int_t ngx_evbill_admin_get_tariff(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, ngx_uint_t status, uint32_t version);
static ngx_int_t ngx_evbill_admin_rate(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, evb_json_t *root);
static ngx_int_t ngx_evbill_admin_get_cdr(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static ngx_int_t ngx_evbill_admin_void(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, evb_json_t *root);


static const ngx_evbill_route_t  ngx_evbill_admin_routes[] = {

    { "chargers/{charger_id}", NGX_HTTP_GET, NGX_EVBILL_A_CHARGER, 0,
      ngx_evbill_admin_charger },
    { "chargers/{charger_id}", NGX_HTTP_PUT, NGX_EVBILL_A_CHARGER, 1,
      ngx_evbill_admin_process },
    { "chargers/{charger_id}", NGX_HTTP_DELETE, NGX_EVBILL_A_CHARGER, 0,
      ngx_evbill_admin_delete },

    { "chargers/{charger_id}/keys/{key_id}", NGX_HTTP_PUT, NGX_EVBILL_A_KEY,
      1, ngx_evbill_admin_process },
    { "chargers/{charger_id}/keys/{key_id}", NGX_HTTP_DELETE,
      NGX_EVBILL_A_KEY, 0, ngx_evbill_admin_delete },

    { "sessions/{charger_id}/{session_id}", NGX_HTTP_GET,
      NGX_EVBILL_A_SESSION, 0, ngx_evbill_admin_get_session },
    { "sessions/{charger_id}/{session_id}/void", NGX_HTTP_POST,
      NGX_EVBILL_A_VOID, 1, ngx_evbill_admin_process },
    { "sessions", NGX_HTTP_GET, NGX_EVBILL_A_SESSIONS, 0,
      ngx_evbill_admin_list },
    { "store", NGX_HTTP_GET, NGX_EVBILL_A_STORE, 0, ngx_evbill_admin_store },

    { "tariffs/{tariff_id}", NGX_HTTP_GET, NGX_EVBILL_A_TARIFF, 0,
      ngx_evbill_admin_tariff },
    { "tariffs/{tariff_id}", NGX_HTTP_PUT, NGX_EVBILL_A_TARIFF, 1,
      ngx_evbill_admin_process },
    { "tariffs/{tariff_id}/versions/{version}", NGX_HTTP_GET,
      NGX_EVBILL_A_TARIFF_V, 0, ngx_evbill_admin_tariff_version },

    { "rate", NGX_HTTP_POST, NGX_EVBILL_A_RATE, 1, ngx_evbill_admin_process },

    { "cdrs/{charger_id}/{session_id}", NGX_HTTP_GET, NGX_EVBILL_A_CDR, 0,
      ngx_evbill_admin_get_cdr },

    /* who is billed: ngx_evbill_admin_party.c */
    { "customers", NGX_HTTP_GET, NGX_EVBILL_A_CUSTOMERS, 0,
      ngx_evbill_admin_customers },
    { "customers/{customer_id}", NGX_HTTP_GET|NGX_HTTP_DELETE,
      NGX_EVBILL_A_CUSTOMER, 0, ngx_evbill_admin_customer },
    { "customers/{customer_id}", NGX_HTTP_PUT, NGX_EVBILL_A_CUSTOMER, 1,
      ngx_evbill_admin_customer },
    { "tokens/{uid}", NGX_HTTP_GET|NGX_HTTP_DELETE, NGX_EVBILL_A_TOKEN, 0,
      ngx_evbill_admin_token },
    { "tokens/{uid}", NGX_HTTP_PUT, NGX_EVBILL_A_TOKEN, 1,
      ngx_evbill_admin_token },
    /* ngx_evbill_invoice.c */
    { "invoices", NGX_HTTP_GET, NGX_EVBILL_A_INVOICES, 0,
      ngx_evbill_admin_list_invoices },
    { "invoices/{number}", NGX_HTTP_GET, NGX_EVBILL_A_INVOICE, 0,
      ngx_evbill_admin_get_invoice },
    { "invoices/{number}/credits/{credit_id}", NGX_HTTP_PUT,
      NGX_EVBILL_A_CREDIT, 1, ngx_evbill_admin_credit },
    { "credit-notes/{number}", NGX_HTTP_GET, NGX_EVBILL_A_CREDIT_NOTE, 0,
      ngx_evbill_admin_get_credit_note },
    { "credit-notes/{number}/cdrs", NGX_HTTP_GET, NGX_EVBILL_A_CREDIT_NOTE,
      0, ngx_evbill_admin_credit_cdrs },
    /* ngx_evbill_feed.c */
    { "feed", NGX_HTTP_GET, NGX_EVBILL_A_FEED, 0, ngx_evbill_admin_feed },
    /* ngx_evbill_runs.c */
    { "billing-runs", NGX_HTTP_POST, NGX_EVBILL_A_RUNS, 1,
      ngx_evbill_admin_billing_run },
    { "billing-runs/{period}", NGX_HTTP_GET, NGX_EVBILL_A_RUN, 0,
      ngx_evbill_admin_get_run },
    /* payments: ngx_evbill_payment.c */
    { "payments/reconcile", NGX_HTTP_POST, 0, 0,
      ngx_evbill_admin_reconcile },
    { "payments/{payment_id}", NGX_HTTP_GET, 0, 0,
      ngx_evbill_admin_payment },

    { NULL, 0, 0, 0, NULL }
};


static const ngx_evbill_api_t  ngx_evbill_admin_api = {
    ngx_evbill_admin_routes,
    "no such admin endpoint; see docs/api.md",
    "ids in the path must be 1 to 64 printable ASCII characters without '/'",
    1
};


ngx_int_t
ngx_evbill_admin_handler(ngx_http_request_t *r)
{
    ngx_evbill_ctx_t  *ctx;

    ctx = ngx_evbill_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_evbill_route(r, ctx, &ngx_evbill_admin_api);
}


static ngx_int_t
ngx_evbill_admin_charger(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_admin_get_charger(r, ctx, NGX_HTTP_OK, NULL);
}


static ngx_int_t
ngx_evbill_admin_tariff(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_admin_get_tariff(r, ctx, NGX_HTTP_OK, 0);
}


static ngx_int_t
ngx_evbill_admin_tariff_version(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_admin_get_tariff(r, ctx, NGX_HTTP_OK, (uint32_t) -1);
}


static ngx_int_t
ngx_evbill_admin_delete(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    ngx_int_t           rc;
    ngx_evbill_wreq_t  *w;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->route == NGX_EVBILL_A_CHARGER) {
        evb_op_retire_charger_init(&w->op.retire_charger, ngx_evbill_now(),
                                   ctx->arena);
        w->op.retire_charger.charger_id = ctx->id1;

    } else {
        evb_op_retire_key_init(&w->op.retire_key, ngx_evbill_now(),
                               ctx->arena);
        w->op.retire_key.charger_id = ctx->id1;
        w->op.retire_key.key_id = ctx->id2;
    }

    return ngx_evbill_admin_write(r, ctx, w);
}


static ngx_int_t
ngx_evbill_admin_process(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   i, nerrors;
    evb_key_t               *key;
    evb_str_t               *sealed;
    evb_json_t              *root;
    evb_problem_e            p;
    unsigned char           *out;
    evb_charger_t           *charger;
    ngx_evbill_wreq_t       *w;
    ngx_evbill_main_conf_t  *mcf;
    evb_field_error_t        errors[EVB_FIELD_ERRORS_MAX];
    char                     detail[256];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);
    nerrors = 0;

    if (!ngx_evbill_is_json(r)) {
        return ngx_evbill_send_problem(r, EVB_P_UNSUPPORTED_MEDIA,
                                       "the body must be JSON with "
                                       "Content-Type: application/json");
    }

    p = ngx_evbill_parse_json(ctx, &root, detail, sizeof(detail));
    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, detail);
    }

    if (ctx->route == NGX_EVBILL_A_TARIFF) {
        return ngx_evbill_admin_put_tariff(r, ctx, root);
    }

    if (ctx->route == NGX_EVBILL_A_RATE) {
        return ngx_evbill_admin_rate(r, ctx, root);
    }

    if (ctx->route == NGX_EVBILL_A_VOID) {
        return ngx_evbill_admin_void(r, ctx, root);
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->route == NGX_EVBILL_A_CHARGER) {
        charger = evb_arena_alloc(ctx->arena, sizeof(evb_charger_t));
        if (charger == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = evb_parse_charger(ctx->arena, root, ctx->id1, charger, detail,
                              sizeof(detail), errors, &nerrors);
        if (p != EVB_OK) {
            return ngx_evbill_send_problem_errors(r, p, detail, errors,
                                                  nerrors);
        }

        sealed = evb_arena_alloc(ctx->arena,
                                 sizeof(evb_str_t) * (charger->nkeys + 1));
        if (sealed == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < charger->nkeys; i++) {
            key = &charger->keys[i];

            out = evb_arena_alloc(ctx->arena,
                                  key->secret_len + EVB_SEAL_OVERHEAD);
            if (out == NULL
                || evb_seal(mcf->master_key, key->secret, key->secret_len,
                            key->key_id.data, key->key_id.len, out)
                   != 0)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            sealed[i].data = (char *) out;
            sealed[i].len = key->secret_len + EVB_SEAL_OVERHEAD;
        }

        evb_op_put_charger_init(&w->op.put_charger, ngx_evbill_now(),
                                ctx->arena);
        w->op.put_charger.charger_id = ctx->id1;
        w->op.put_charger.master_key = mcf->master_key;
        w->op.put_charger.charger = charger;
        w->op.put_charger.sealed_keys = sealed;

        /* payments: the charger's own hold, overriding evbill_payment_hold */
        if (ngx_evbill_pay_charger_hold(root, &w->op.put_charger, detail,
                                        sizeof(detail))
            != NGX_OK)
        {
            return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE, detail);
        }

    } else {
        key = evb_arena_alloc(ctx->arena, sizeof(evb_key_t));
        if (key == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = evb_parse_key(ctx->arena, root, ctx->id2, key, detail,
                          sizeof(detail), errors, &nerrors);
        if (p != EVB_OK) {
            return ngx_evbill_send_problem_errors(r, p, detail, errors,
                                                  nerrors);
        }

        out = evb_arena_alloc(ctx->arena, key->secret_len + EVB_SEAL_OVERHEAD);
        if (out == NULL
            || evb_seal(mcf->master_key, key->secret, key->secret_len,
                        key->key_id.data, key->key_id.len, out)
               != 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        evb_op_put_key_init(&w->op.put_key, ngx_evbill_now(), ctx->arena);
        w->op.put_key.charger_id = ctx->id1;
        w->op.put_key.master_key = mcf->master_key;
        w->op.put_key.key = key;
        w->op.put_key.key_id = ctx->id2;
        w->op.put_key.sealed.data = (char *) out;
        w->op.put_key.sealed.len = key->secret_len + EVB_SEAL_OVERHEAD;
    }

    return ngx_evbill_admin_write(r, ctx, w);
}


static ngx_int_t
ngx_evbill_admin_write(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_evbill_wreq_t *w)
{
    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_admin_done);
}


static void
ngx_evbill_admin_done(ngx_evbill_wreq_t *w)
{
    ngx_int_t            rc;
    evb_buf_t            b;
    evb_problem_e        p;
    ngx_evbill_ctx_t    *ctx;
    ngx_http_request_t  *r;

    r = w->request;
    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);

    p = evb_op_problem(&w->op.op);

    if (p != EVB_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "evbill: admin request refused (%s): %s",
                      evb_problem_info(p)->name, evb_op_detail(&w->op.op));
        rc = ngx_evbill_send_problem(r, p, evb_op_detail(&w->op.op));
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* answer with what is now stored, read after the commit */
    switch (w->op.op.kind) {

    case EVB_OP_PUT_TARIFF:
        rc = ngx_evbill_admin_get_tariff(r, ctx,
                                         w->op.put_tariff.created
                                         ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                         w->op.put_tariff.version);
        break;

    case EVB_OP_PUT_KEY:
        rc = ngx_evbill_admin_get_charger(r, ctx,
                                          w->op.put_key.created
                                          ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                          &w->op.put_key.key_id);
        break;

    case EVB_OP_RETIRE_KEY:
        rc = ngx_evbill_admin_get_charger(r, ctx, NGX_HTTP_OK,
                                          &w->op.retire_key.key_id);
        break;

    case EVB_OP_VOID:
        evb_buf_init(&b);
        evb_render_session(&b, EVB_VIEW_ADMIN, &w->op.void_.session, NULL,
                           0, 0);
        rc = ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
        evb_buf_free(&b);
        break;

    case EVB_OP_PUT_CHARGER:
        rc = ngx_evbill_admin_get_charger(r, ctx,
                                          w->op.put_charger.created
                                          ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                          NULL);
        break;

    default:
        rc = ngx_evbill_admin_get_charger(r, ctx, NGX_HTTP_OK, NULL);
        break;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_evbill_admin_get_charger(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_uint_t status, evb_str_t *key_id)
{
    size_t                   i, nkeys;
    evb_buf_t                b;
    evb_problem_e            p;
    evb_charger_t            charger;
    evb_key_record_t        *keys;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    p = evb_store_get_charger(mcf->store, ctx->arena, ctx->id1, &charger,
                              &keys, &nkeys);
    if (p != EVB_OK) {
        return ngx_evbill_store_problem(r, p);
    }

    evb_buf_init(&b);

    if (key_id == NULL) {
        evb_render_charger(&b, EVB_VIEW_ADMIN, &charger, keys, nkeys);
        ngx_evbill_pay_render_charger_hold(r, ctx, &b);
        return ngx_evbill_send_json(r, status, &b);
    }

    /* one key of the charger */
    for (i = 0; i < nkeys; i++) {
        if (keys[i].key_id.len == key_id->len
            && ngx_memcmp(keys[i].key_id.data, key_id->data, key_id->len)
               == 0)
        {
            break;
        }
    }

    if (i == nkeys) {
        return ngx_evbill_send_problem(r, EVB_P_UNKNOWN_KEY,
                                       "the charger has no key with this "
                                       "id");
    }

    evb_render_charger_key(&b, EVB_VIEW_ADMIN, ctx->id1, &keys[i]);

    return ngx_evbill_send_json(r, status, &b);
}


static ngx_int_t
ngx_evbill_admin_get_session(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   n;
    evb_buf_t                b;
    evb_problem_e            p;
    evb_reading_t           *readings;
    evb_session_t            s;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = evb_store_get_session(mcf->store, ctx->arena, ctx->id1, ctx->id2, &s,
                              &readings, &n);
    if (p != EVB_OK) {
        return ngx_evbill_store_problem(r, p);
    }

    evb_buf_init(&b);
    evb_render_session(&b, EVB_VIEW_ADMIN, &s, readings, n, 1);
    ngx_evbill_admin_session_start(r, ctx, &s, &b);
    ngx_evbill_session_invoice(r, &b, ctx->id1, ctx->id2);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


static ngx_int_t
ngx_evbill_admin_list(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   n;
    evb_buf_t                b;
    evb_str_t                v;
    evb_problem_e            p;
    evb_session_t           *items;
    evb_session_query_t      q;
    ngx_evbill_main_conf_t  *mcf;
    char                     next[EVB_CURSOR_LEN + 1];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&q, sizeof(evb_session_query_t));
    q.limit = EVB_LIST_LIMIT_DEFAULT;

    if (ngx_evbill_query_arg(r, ctx, "charger_id", &q.charger_id) == NGX_OK
        && !evb_id_valid(q.charger_id.data, q.charger_id.len))
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "charger_id must be 1 to 64 "
                                       "printable ASCII characters "
                                       "without '/'");
    }

    if (ngx_evbill_query_arg(r, ctx, "state", &v) == NGX_OK) {
        if (v.len == 6 && ngx_strncmp(v.data, "active", 6) == 0) {
            q.state = EVB_SESSION_ACTIVE;

        } else if (v.len == 7 && ngx_strncmp(v.data, "stopped", 7) == 0) {
            q.state = EVB_SESSION_STOPPED;

        } else {
            return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                           "state must be \"active\" or "
                                           "\"stopped\"");
        }
    }

    if (ngx_evbill_query_limit(r, ctx, EVB_LIST_LIMIT_DEFAULT,
                               EVB_LIST_LIMIT_MAX, &q.limit)
        != NGX_OK)
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "limit must be an integer from "
                                       "1 to 1000");
    }

    (void) ngx_evbill_query_arg(r, ctx, "after", &q.after);

    p = evb_store_list_sessions(mcf->store, ctx->arena, &q, &items, &n, next);
    if (p != EVB_OK) {
        if (p == EVB_P_INVALID_QUERY) {
            return ngx_evbill_send_problem(r, p, "after is not a cursor this "
                                           "API returned");
        }

        return ngx_evbill_store_problem(r, p);
    }

    evb_buf_init(&b);
    evb_render_session_page(&b, EVB_VIEW_ADMIN, items, n, next);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


static ngx_int_t
ngx_evbill_admin_store(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    evb_buf_t                b;
    evb_problem_e            p;
    uint64_t                 ninv, ncn;
    evb_counter_t            c[14];
    evb_store_stat_t         st;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = evb_store_stat(mcf->store, &st);
    if (p == EVB_OK) {
        p = evb_store_invoice_counts(mcf->store, &ninv, &ncn);
    }

    if (p != EVB_OK) {
        return ngx_evbill_store_problem(r, p);
    }

    evb_buf_init(&b);

c[0].name = "schema_version";
    c[0].value = st.schema_version;
    c[1].name = "txn_id";
    c[1].value = st.txn_id;
    c[2].name = "map_size";
    c[2].value = st.map_size;
    c[3].name = "map_used";
    c[3].value = st.map_used;
    c[4].name = "chargers";
    c[4].value = st.chargers;
    c[5].name = "keys";
    c[5].value = st.keys;
    c[6].name = "sessions";
    c[6].value = st.sessions;
    c[7].name = "readings";
    c[7].value = st.readings;
    c[8].name = "tariff_versions";
    c[8].value = st.tariff_versions;
    c[9].name = "cdrs";
    c[9].value = st.cdrs;
    c[10].name = "readers_used";
    c[10].value = st.readers_used;
    c[11].name = "max_readers";
    c[11].value = st.max_readers;
    c[12].name = "invoices";
    c[12].value = ninv;
    c[13].name = "credit_notes";
    c[13].value = ncn;

    evb_render_counters(&b, EVB_VIEW_ADMIN, c, 14);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


static ngx_int_t
ngx_evbill_store_problem(ngx_http_request_t *r, evb_problem_e p)
{
    const char  *detail;

    switch (p) {

    case EVB_P_UNKNOWN_CHARGER:
        detail = "no charger with this id";
        break;

    case EVB_P_UNKNOWN_SESSION:
        detail = "no session with this id for this charger";
        break;

    case EVB_P_UNKNOWN_KEY:
        detail = "no key with this id for this charger";
        break;

    case EVB_P_UNKNOWN_TARIFF:
        detail = "no tariff (or no such version) with this id";
        break;

    case EVB_P_UNKNOWN_CDR:
        detail = "the session has no CDR: it is active, or was not rated "
                 "(see its cost_error)";
        break;

    default:
        detail = "the store could not be read; see the error log";
        break;
    }

    return ngx_evbill_send_problem(r, p, detail);
}


static ngx_int_t
ngx_evbill_admin_put_tariff(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    evb_json_t *root)
{
    size_t                   nerrors;
    evb_problem_e            p;
    evb_tariff_t             tariff;
    ngx_evbill_wreq_t       *w;
    evb_tariff_error_t       errors[EVB_TARIFF_ERRORS_MAX];
    char                     detail[256];

    nerrors = 0;

    p = evb_tariff_parse(ctx->arena, root, &tariff, errors, &nerrors);
    if (p != EVB_OK) {
        ngx_snprintf((u_char *) detail, sizeof(detail), "the tariff is not "
                     "a valid OCPI 2.2.1 tariff: %s%Z",
                     nerrors ? errors[0].detail : "see errors");
        return ngx_evbill_send_problem_errors(r, p, detail, errors,
                                              nerrors);
    }

    if (tariff.id.len != ctx->id1.len
        || ngx_memcmp(tariff.id.data, ctx->id1.data, ctx->id1.len) != 0)
    {
        ngx_snprintf((u_char *) detail, sizeof(detail), "the tariff's id "
                     "must equal the id in the path%Z");
        return ngx_evbill_send_problem(r, EVB_P_TARIFF_ID_MISMATCH, detail);
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* stored verbatim, as sent: the CDR carries it unchanged */
    evb_op_put_tariff_init(&w->op.put_tariff, ngx_evbill_now(), ctx->arena);
    w->op.put_tariff.tariff_id = ctx->id1;
    w->op.put_tariff.tariff_json.data = (char *) ctx->body.data;
    w->op.put_tariff.tariff_json.len = ctx->body.len;

    return ngx_evbill_admin_write(r, ctx, w);
}


static ngx_int_t
ngx_evbill_admin_get_tariff(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_uint_t status, uint32_t version)
{
    size_t                   i;
    uint32_t                 v, found;
    evb_buf_t                b;
    evb_str_t                json;
    evb_msec_t               created_at;
    evb_problem_e            p;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (version == (uint32_t) -1) {
        /* tariffs/{id}/versions/{n} */
        v = 0;

        for (i = 0; i < ctx->id2.len; i++) {
            if (ctx->id2.data[i] < '0' || ctx->id2.data[i] > '9'
                || v > 100000000)
            {
                v = 0;
                break;
            }

            v = v * 10 + (ctx->id2.data[i] - '0');
        }

        if (v == 0) {
            return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE,
                                           "a tariff version is an "
                                           "integer >= 1");
        }

        version = v;
    }

    p = evb_store_get_tariff(mcf->store, ctx->arena, ctx->id1, version,
                             &json, &found, &created_at);
    if (p != EVB_OK) {
        return ngx_evbill_store_problem(r, p);
    }

    evb_buf_init(&b);
    evb_render_tariff_version(&b, EVB_VIEW_ADMIN, ctx->id1, found, created_at,
                              json);

    return ngx_evbill_send_json(r, status, &b);
}


static ngx_int_t
ngx_evbill_admin_rate(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    evb_json_t *root)
{
    size_t                   nerrors;
    evb_buf_t                b;
    evb_problem_e            p;
    ngx_evbill_main_conf_t  *mcf;
    evb_tariff_error_t       errors[EVB_TARIFF_ERRORS_MAX];
    char                     detail[256];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    nerrors = 0;
    detail[0] = '\0';
    evb_buf_init(&b);

    /* pure computation: nothing is stored */
    p = evb_rate_dry_run(ctx->arena, root, &mcf->bill.policy, &b, errors,
                         &nerrors, detail, sizeof(detail));
    if (p != EVB_OK) {
        evb_buf_free(&b);
        return ngx_evbill_send_problem_errors(r, p, detail, errors,
                                              nerrors);
    }

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


static ngx_int_t
ngx_evbill_admin_get_cdr(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    evb_buf_t                b;
    evb_str_t                json;
    evb_problem_e            p;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    p = evb_store_get_cdr(mcf->store, ctx->arena, ctx->id1, ctx->id2, &json);
    if (p != EVB_OK) {
        return ngx_evbill_store_problem(r, p);
    }

    evb_buf_init(&b);
    evb_buf_append(&b, json.data, json.len);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


/*
 * POST sessions/{charger_id}/{session_id}/void {"reason": "..."}: close
 * an active (or stuck) session without a price or a CDR.
 */

static ngx_int_t
ngx_evbill_admin_void(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    evb_json_t *root)
{
    size_t               i;
    evb_json_t          *reason;
    ngx_evbill_wreq_t   *w;
    evb_tariff_error_t   err;

    ngx_memzero(&err, sizeof(evb_tariff_error_t));

    if (root->type != EVB_JSON_OBJECT) {
        err.problem = EVB_P_INVALID_TYPE;
        ngx_cpystrn((u_char *) err.detail, (u_char *) "the body must be "
                    "an object", sizeof(err.detail));
        goto refused;
    }

    for (i = 0; i < root->u.obj.n; i++) {
        if (ngx_strcmp(root->u.obj.members[i].key.data, "reason") != 0) {
            err.problem = EVB_P_INVALID_VALUE;
            ngx_snprintf((u_char *) err.pointer, sizeof(err.pointer) - 1,
                         "/%s%Z", root->u.obj.members[i].key.data);
            ngx_cpystrn((u_char *) err.detail, (u_char *) "unknown field; "
                        "a void takes only \"reason\"", sizeof(err.detail));
            goto refused;
        }
    }

    ngx_cpystrn((u_char *) err.pointer, (u_char *) "/reason",
                sizeof(err.pointer));

    reason = evb_json_get(root, "reason");

    if (reason == NULL) {
        err.problem = EVB_P_MISSING_FIELD;
        ngx_cpystrn((u_char *) err.detail, (u_char *) "reason: required",
                    sizeof(err.detail));
        goto refused;
    }

    if (reason->type != EVB_JSON_STRING) {
        err.problem = EVB_P_INVALID_TYPE;
        ngx_cpystrn((u_char *) err.detail, (u_char *) "reason: must be a "
                    "string", sizeof(err.detail));
        goto refused;
    }

    if (!evb_void_reason_ok(reason->u.str)) {
        err.problem = EVB_P_INVALID_VALUE;
        ngx_snprintf((u_char *) err.detail, sizeof(err.detail) - 1,
                     "reason: 1 to %d characters, no control "
                     "characters%Z", EVB_VOID_REASON_MAX);
        goto refused;
    }

    /* the detail names the field, never its value: nothing to log */
    if (evb_pan_in(reason->u.str)) {
        err.problem = EVB_P_CARD_DATA;
        ngx_cpystrn((u_char *) err.detail, (u_char *) "reason: "
                    EVB_PAN_REFUSED, sizeof(err.detail));
        goto refused;
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    evb_op_void_init(&w->op.void_, ngx_evbill_now(), ctx->arena);
    w->op.void_.charger_id = ctx->id1;
    w->op.void_.session_id = ctx->id2;
    w->op.void_.reason = reason->u.str;

    return ngx_evbill_admin_write(r, ctx, w);

refused:

    return ngx_evbill_send_problem_errors(r, err.problem, err.detail, &err,
                                          err.pointer[0] ? 1 : 0);
}
