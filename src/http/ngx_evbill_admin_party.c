
/*
 * The admin API, who is billed: customers/{customer_id} (PUT, GET,
 * DELETE: retire), customers (GET, a page), tokens/{uid} (PUT, GET,
 * DELETE), and what a session shows of its start.  Routes are rows of
 * the admin table (ngx_evbill_admin.c).
 */


#include "ngx_evbill.h"


static void ngx_evbill_party_done(ngx_evbill_wreq_t *w);
static ngx_int_t ngx_evbill_party_get_customer(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, ngx_uint_t status);
static ngx_int_t ngx_evbill_party_get_token(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, ngx_uint_t status);
static ngx_int_t ngx_evbill_party_problem(ngx_http_request_t *r,
    evb_problem_e p);


/* the body as JSON: NGX_OK, or NGX_DECLINED with the refusal sent and
 * its result in *answer */
static ngx_int_t
ngx_evbill_party_body(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    evb_json_t **root, ngx_int_t *answer)
{
    evb_problem_e  p;
    char           detail[256];

    if (!ngx_evbill_is_json(r)) {
        *answer = ngx_evbill_send_problem(r, EVB_P_UNSUPPORTED_MEDIA,
                                          "the body must be JSON with "
                                          "Content-Type: application/json");
        return NGX_DECLINED;
    }

    p = ngx_evbill_parse_json(ctx, root, detail, sizeof(detail));
    if (p != EVB_OK) {
        *answer = ngx_evbill_send_problem(r, p, detail);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_evbill_admin_customer(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                  nerrors;
    ngx_int_t               rc;
    evb_json_t             *root;
    evb_problem_e           p;
    evb_customer_t         *c;
    ngx_evbill_wreq_t      *w;
    evb_field_error_t       errors[EVB_FIELD_ERRORS_MAX];
    char                    detail[256];

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_evbill_party_get_customer(r, ctx, NGX_HTTP_OK);
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_DELETE) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        evb_op_retire_customer_init(&w->op.retire_customer, ngx_evbill_now(),
                                    ctx->arena);
        w->op.retire_customer.customer_id = ctx->id1;

        return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_party_done);
    }

    if (ngx_evbill_party_body(r, ctx, &root, &rc) != NGX_OK) {
        return rc;
    }

    c = evb_arena_alloc(ctx->arena, sizeof(evb_customer_t));
    if (c == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nerrors = 0;

    p = evb_parse_customer(ctx->arena, root, ctx->id1, c, detail,
                           sizeof(detail), errors, &nerrors);
    if (p != EVB_OK) {
        return ngx_evbill_send_problem_errors(r, p, detail, errors, nerrors);
    }

    evb_op_put_customer_init(&w->op.put_customer, ngx_evbill_now(),
                             ctx->arena);
    w->op.put_customer.customer = c;

    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_party_done);
}


ngx_int_t
ngx_evbill_admin_token(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                  nerrors;
    ngx_int_t               rc;
    evb_json_t             *root;
    evb_problem_e           p;
    evb_token_rec_t        *t;
    ngx_evbill_wreq_t      *w;
    evb_field_error_t       errors[EVB_FIELD_ERRORS_MAX];
    char                    detail[256];

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_evbill_party_get_token(r, ctx, NGX_HTTP_OK);
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_DELETE) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        evb_op_delete_token_init(&w->op.delete_token, ngx_evbill_now(),
                                 ctx->arena);
        w->op.delete_token.uid = ctx->id1;

        return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_party_done);
    }

    if (ngx_evbill_party_body(r, ctx, &root, &rc) != NGX_OK) {
        return rc;
    }

    t = evb_arena_alloc(ctx->arena, sizeof(evb_token_rec_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nerrors = 0;

    p = evb_parse_token(ctx->arena, root, ctx->id1, t, detail,
                        sizeof(detail), errors, &nerrors);
    if (p != EVB_OK) {
        return ngx_evbill_send_problem_errors(r, p, detail, errors, nerrors);
    }

    evb_op_put_token_init(&w->op.put_token, ngx_evbill_now(), ctx->arena);
    w->op.put_token.token = t;

    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_party_done);
}


static void
ngx_evbill_party_done(ngx_evbill_wreq_t *w)
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

    switch (w->op.op.kind) {

    case EVB_OP_PUT_CUSTOMER:
        rc = ngx_evbill_party_get_customer(r, ctx,
                                           w->op.put_customer.created
                                           ? NGX_HTTP_CREATED : NGX_HTTP_OK);
        break;

    case EVB_OP_RETIRE_CUSTOMER:
        rc = ngx_evbill_party_get_customer(r, ctx, NGX_HTTP_OK);
        break;

    case EVB_OP_PUT_TOKEN:
        rc = ngx_evbill_party_get_token(r, ctx,
                                        w->op.put_token.created
                                        ? NGX_HTTP_CREATED : NGX_HTTP_OK);
        break;

    default:
        /* a deleted token: nothing left to show */
        evb_buf_init(&b);
        evb_render_token_deleted(&b, EVB_VIEW_ADMIN, ctx->id1);
        rc = ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
        break;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_evbill_party_get_customer(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_uint_t status)
{
    evb_buf_t                b;
    evb_problem_e            p;
    evb_customer_t           c;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    p = evb_store_get_customer(mcf->store, ctx->arena, ctx->id1, &c);
    if (p != EVB_OK) {
        return ngx_evbill_party_problem(r, p);
    }

    evb_buf_init(&b);
    evb_render_customer(&b, EVB_VIEW_ADMIN, &c);

    return ngx_evbill_send_json(r, status, &b);
}


static ngx_int_t
ngx_evbill_party_get_token(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_uint_t status)
{
    evb_buf_t                b;
    evb_problem_e            p;
    evb_token_rec_t          t;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    p = evb_store_get_token(mcf->store, ctx->arena, ctx->id1, &t);
    if (p != EVB_OK) {
        return ngx_evbill_party_problem(r, p);
    }

    evb_buf_init(&b);
    evb_render_token(&b, EVB_VIEW_ADMIN, &t);

    return ngx_evbill_send_json(r, status, &b);
}


/* GET customers?limit=&after= */
ngx_int_t
ngx_evbill_admin_customers(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    u_char                  *dst, *src;
    size_t                   n, limit;
    evb_buf_t                b;
    evb_str_t                after;
    ngx_str_t                arg;
    evb_problem_e            p;
    evb_customer_t          *items;
    ngx_evbill_main_conf_t  *mcf;
    char                     next[EVB_CUSTOMER_CURSOR_LEN + 1];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_evbill_query_limit(r, ctx, EVB_LIST_LIMIT_DEFAULT,
                               EVB_LIST_LIMIT_MAX, &limit)
        != NGX_OK)
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "limit must be an integer from "
                                       "1 to 1000");
    }

    after.data = "";
    after.len = 0;

    if (ngx_http_arg(r, (u_char *) "after", 5, &arg) == NGX_OK) {
        dst = evb_arena_alloc(ctx->arena, arg.len + 1);
        if (dst == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        after.data = (char *) dst;
        src = arg.data;
        ngx_unescape_uri(&dst, &src, arg.len, 0);
        after.len = dst - (u_char *) after.data;
    }

    p = evb_store_list_customers(mcf->store, ctx->arena, after, limit, &items,
                                 &n, next);
    if (p == EVB_P_INVALID_QUERY) {
        return ngx_evbill_send_problem(r, p, "after is not a cursor this "
                                       "API returned");
    }

    if (p != EVB_OK) {
        return ngx_evbill_party_problem(r, p);
    }

    evb_buf_init(&b);
    evb_render_customer_page(&b, EVB_VIEW_ADMIN, items, n, next);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


/*
 * GET sessions/{charger}/{session}: the session's customer and token as
 * its start stored them, inside the session's object (b holds it,
 * rendered); a session stored before start records shows none.
 */
void
ngx_evbill_admin_session_start(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    const evb_session_t *s, evb_buf_t *b)
{
    int                      found;
    evb_problem_e            p;
    evb_session_start_t      st;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    p = evb_store_get_session_start(mcf->store, ctx->arena, s->sid, &st,
                                    &found);
    if (p != EVB_OK || !found) {
        return;
    }

    evb_render_session_add_start(b, EVB_VIEW_ADMIN, &st,
                                 mcf->bill.cpo_country, mcf->bill.cpo_party);
}


static ngx_int_t
ngx_evbill_party_problem(ngx_http_request_t *r, evb_problem_e p)
{
    const char  *detail;

    switch (p) {

    case EVB_P_UNKNOWN_CUSTOMER:
        detail = "no customer with this id";
        break;

    case EVB_P_UNKNOWN_TOKEN:
        detail = "no token with this uid";
        break;

    default:
        detail = "the store could not be read; see the error log";
        break;
    }

    return ngx_evbill_send_problem(r, p, detail);
}
