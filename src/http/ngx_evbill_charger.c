
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
    evb_json_t              *root;
    evb_stop_t              *stop;
    evb_start_t             *start;
    evb_problem_e            p;
    evb_msec_t               now;
    evb_reading_t           *readings;
    evb_op_limits_t         *limits;
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

    now = ngx_evbill_now();

    switch (ctx->route) {

    case NGX_EVBILL_R_START:
        start = evb_arena_alloc(ctx->arena, sizeof(evb_start_t));
        if (start == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = evb_parse_start(ctx->arena, root, start, detail, sizeof(detail),
                            errors, &nerrors);
        evb_op_start_init(&w->op.start, now, ctx->arena);
        w->op.start.start = start;
        w->op.start.session_id = start->session_id;
        w->op.start.charger_id = ctx->charger_id;
        w->op.start.payments = (mcf->pay != NULL);
        limits = &w->op.start.limits;
        break;

    case NGX_EVBILL_R_READINGS:
        p = evb_parse_readings(ctx->arena, root, &readings, &nreadings,
                               detail, sizeof(detail), errors, &nerrors);
        evb_op_readings_init(&w->op.readings, now, ctx->arena);
        w->op.readings.readings = readings;
        w->op.readings.nreadings = nreadings;
        w->op.readings.session_id = ctx->id1;
        w->op.readings.charger_id = ctx->charger_id;
        limits = &w->op.readings.limits;
        break;

    default: /* NGX_EVBILL_R_STOP */
        stop = evb_arena_alloc(ctx->arena, sizeof(evb_stop_t));
        if (stop == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = evb_parse_stop(ctx->arena, root, stop, detail, sizeof(detail),
                           errors, &nerrors);
        evb_op_stop_init(&w->op.stop, now, ctx->arena);
        w->op.stop.stop = stop;
        w->op.stop.session_id = ctx->id1;
        w->op.stop.charger_id = ctx->charger_id;
        limits = &w->op.stop.limits;
        break;
    }

    if (p != EVB_OK) {
        ngx_evbill_charger_log_refusal(r, ctx, p, detail);
        return ngx_evbill_send_problem_errors(r, p, detail, errors, nerrors);
    }

    limits->bill = &mcf->bill;

    /* the event loop's clock bounds the timestamps (ops: not for
     * duplicates, which are checked first) */
    limits->check_time = 1;
    limits->max_age = (evb_msec_t) mcf->max_data_age * 1000;
    limits->max_ahead = (evb_msec_t) lcf->sig_window * 1000;
    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_charger_done);
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

    if (evb_op_problem(&w->op.op) != EVB_OK) {
        rc = ngx_evbill_charger_refuse(r, ctx, evb_op_problem(&w->op.op),
                                       evb_op_detail(&w->op.op));
        ngx_http_finalize_request(r, rc);
        return;
    }

    evb_buf_init(&b);
    status = NGX_HTTP_OK;

    switch (w->op.op.kind) {

    case EVB_OP_READINGS:
        evb_render_readings_result(&b, EVB_VIEW_ADMIN,
                                   w->op.readings.accepted,
                                   w->op.readings.duplicates,
                                   &w->op.readings.session);

        /* an ad hoc session at its payment's hold (or 6 days): stop */
        if (w->op.readings.pay_stop && !b.oom && b.len > 0
            && b.data[b.len - 1] == '}')
        {
            b.len--;
            evb_buf_appends(&b, w->op.readings.pay_stop == 1
                ? ",\"stop\":true,\"stop_reason\":\"payment-hold-reached\"}"
                : ",\"stop\":true,\"stop_reason\":\"payment-max-span\"}");
        }

        break;

    case EVB_OP_START:
        if (w->op.start.created) {
            status = NGX_HTTP_CREATED;
        }

        evb_render_session(&b, EVB_VIEW_ADMIN, &w->op.start.session, NULL,
                           0, 0);
        break;

    default: /* EVB_OP_STOP */
        evb_render_session(&b, EVB_VIEW_ADMIN, &w->op.stop.session, NULL, 0,
                           0);
        /* the invoice's receipt link, for the charger's QR code */
        ngx_evbill_session_receipt(r, &b, w->op.stop.session.charger_id,
                                   w->op.stop.session.session_id);
        break;
    }

    rc = ngx_evbill_send_json(r, status, &b);

    ngx_http_finalize_request(r, rc);
}
