
/*
 * The charger API (evbill_charger_api): signed session starts, readings
 * and stops.  Every write is idempotent, so a charger that lost an answer
 * simply sends the same request again.
 */


#include "ngx_evbill.h"


#define NGX_EVBILL_R_START     1
#define NGX_EVBILL_R_READINGS  2
#define NGX_EVBILL_R_STOP      3


static ngx_int_t ngx_evbill_charger_process(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static void ngx_evbill_charger_done(ngx_evbill_wreq_t *w);
static ngx_int_t ngx_evbill_charger_refuse(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, evb_problem_e p, const char *detail);
static void ngx_evbill_charger_log_refusal(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, evb_problem_e p, const char *detail);


static const ngx_evbill_route_t  ngx_evbill_charger_routes[] = {

    { "sessions", NGX_HTTP_POST, NGX_EVBILL_R_START, 1,
      ngx_evbill_charger_process },
    { "sessions/{session_id}/readings", NGX_HTTP_POST, NGX_EVBILL_R_READINGS,
      1, ngx_evbill_charger_process },
    { "sessions/{session_id}/stop", NGX_HTTP_POST, NGX_EVBILL_R_STOP, 1,
      ngx_evbill_charger_process },

    { NULL, 0, 0, 0, NULL }
};


static const ngx_evbill_api_t  ngx_evbill_charger_api = {
    ngx_evbill_charger_routes,
    "no such charger endpoint; see docs/api.md",
    "the session id in the path must be 1 to 64 printable ASCII characters "
    "without '/'",
    0
};


ngx_int_t
ngx_evbill_charger_handler(ngx_http_request_t *r)
{
    ngx_evbill_ctx_t  *ctx;

    ctx = ngx_evbill_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_evbill_route(r, ctx, &ngx_evbill_charger_api);
}


static ngx_int_t
ngx_evbill_charger_process(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   nreadings, nerrors;
    ngx_int_t                rc;
    evb_json_t              *root;
    evb_stop_t              *stop;
    evb_start_t             *start;
    evb_problem_e            p;
    evb_reading_t           *readings;
    ngx_evbill_wreq_t       *w;
    ngx_evbill_loc_conf_t   *lcf;
    ngx_evbill_main_conf_t  *mcf;
    evb_field_error_t        errors[EVB_FIELD_ERRORS_MAX];
    char                     detail[256];

    lcf = ngx_http_get_module_loc_conf(r, ngx_evbill_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    detail[0] = '\0';
    nerrors = 0;

    /* authentication before anything about the content */
    p = ngx_evbill_verify_request(r, lcf, ctx, detail, sizeof(detail));
    if (p != EVB_OK) {
        /* an unknown key or a MAC mismatch was logged with its reason
         * where it was decided: one line per refusal */
        if (!ctx->refusal_logged) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "evbill: charger request refused (%s): %s",
                          evb_problem_info(p)->name, detail);
        }

        return ngx_evbill_send_problem(r, p, detail);
    }

    if (!ngx_evbill_is_json(r)) {
        return ngx_evbill_charger_refuse(r, ctx, EVB_P_UNSUPPORTED_MEDIA,
                                         "the body must be JSON with "
                                         "Content-Type: application/json");
    }

    p = ngx_evbill_parse_json(ctx, &root, detail, sizeof(detail));
    if (p != EVB_OK) {
        return ngx_evbill_charger_refuse(r, ctx, p, detail);
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->route) {

    case NGX_EVBILL_R_START:
        start = evb_arena_alloc(ctx->arena, sizeof(evb_start_t));
        if (start == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = evb_parse_start(ctx->arena, root, start, detail, sizeof(detail),
                            errors, &nerrors);
        w->op.kind = EVB_OP_START;
        w->op.start = start;
        w->op.session_id = start->session_id;
        break;

    case NGX_EVBILL_R_READINGS:
        p = evb_parse_readings(ctx->arena, root, &readings, &nreadings,
                               detail, sizeof(detail), errors, &nerrors);
        w->op.kind = EVB_OP_READINGS;
        w->op.readings = readings;
        w->op.nreadings = nreadings;
        w->op.session_id = ctx->id1;
        break;

    default: /* NGX_EVBILL_R_STOP */
        stop = evb_arena_alloc(ctx->arena, sizeof(evb_stop_t));
        if (stop == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = evb_parse_stop(ctx->arena, root, stop, detail, sizeof(detail),
                           errors, &nerrors);
        w->op.kind = EVB_OP_STOP;
        w->op.stop = stop;
        w->op.session_id = ctx->id1;
        break;
    }

    if (p != EVB_OK) {
        ngx_evbill_charger_log_refusal(r, ctx, p, detail);
        return ngx_evbill_send_problem_errors(r, p, detail, errors, nerrors);
    }

    w->op.charger_id = ctx->charger_id;
    w->op.bill = &mcf->bill;
    w->op.now = ngx_evbill_now();

    /* the event loop's clock bounds the timestamps (store: not for
     * duplicates, which are checked first) */
    w->op.check_time = 1;
    w->op.max_age = (evb_msec_t) mcf->max_data_age * 1000;
    w->op.max_ahead = (evb_msec_t) lcf->sig_window * 1000;
    w->op.arena = ctx->arena;
    w->request = r;
    w->done = ngx_evbill_charger_done;

    rc = ngx_evbill_writer_submit(mcf, w);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "evbill: write queue full (evbill_write_queue %ui)",
                      mcf->write_queue);
        return ngx_evbill_send_problem(r, EVB_P_QUEUE_FULL,
                                       "too many writes are waiting; "
                                       "retry shortly");
    }

    if (rc != NGX_OK) {
        return ngx_evbill_send_problem(r, EVB_P_STORE_UNAVAILABLE,
                                       "the store is not available");
    }

    ctx->wreq = w;

    /* answered by ngx_evbill_charger_done() after the commit */
    r->main->count++;

    return NGX_DONE;
}


static ngx_int_t
ngx_evbill_charger_refuse(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    evb_problem_e p, const char *detail)
{
    ngx_evbill_charger_log_refusal(r, ctx, p, detail);

    return ngx_evbill_send_problem(r, p, detail);
}


static void
ngx_evbill_charger_log_refusal(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    evb_problem_e p, const char *detail)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "evbill: charger \"%*s\" request refused (%s): %s",
                  ctx->charger_id.len, ctx->charger_id.data,
                  evb_problem_info(p)->name, detail);
}


static void
ngx_evbill_charger_done(ngx_evbill_wreq_t *w)
{
    ngx_int_t            rc;
    ngx_uint_t           status;
    evb_buf_t            b;
    ngx_evbill_ctx_t    *ctx;
    ngx_http_request_t  *r;

    r = w->request;
    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);

    if (w->op.problem != EVB_OK) {
        rc = ngx_evbill_charger_refuse(r, ctx, w->op.problem, w->op.detail);
        ngx_http_finalize_request(r, rc);
        return;
    }

    evb_buf_init(&b);
    status = NGX_HTTP_OK;

    switch (w->op.kind) {

    case EVB_OP_READINGS:
        evb_render_readings_result(&b, EVB_VIEW_ADMIN, w->op.accepted,
                                   w->op.duplicates, &w->op.session);
        break;

    case EVB_OP_START:
        if (w->op.created) {
            status = NGX_HTTP_CREATED;
        }

        /* fall through */

    default:
        evb_render_session(&b, EVB_VIEW_ADMIN, &w->op.session, NULL, 0, 0);
        break;
    }

    rc = ngx_evbill_send_json(r, status, &b);

    ngx_http_finalize_request(r, rc);
}
