/*
 * The admin API's monthly billing runs (issue 10): POST billing-runs
 * {"period", "limit"?} queues one chunk of the run as a write op; GET
 * billing-runs/{period} shows the run's record from a read transaction.
 * The rules are src/ops/evb_ops_runs.c's.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_evbill.h"
#include "evb_store_runs.h"


static void ngx_evbill_billing_run_done(ngx_evbill_wreq_t *w);


ngx_int_t
ngx_evbill_admin_billing_run(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   limit;
    evb_str_t                period;
    evb_problem_e            p;
    ngx_evbill_wreq_t       *w;
    ngx_evbill_main_conf_t  *mcf;
    char                     detail[256];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (!ngx_evbill_is_json(r)) {
        return ngx_evbill_send_problem(r, EVB_P_UNSUPPORTED_MEDIA,
                                       "the body must be JSON with "
                                       "Content-Type: application/json");
    }

    p = evb_month_run_parse(ctx->arena, (char *) ctx->body.data,
                            ctx->body.len, &period, &limit, detail,
                            sizeof(detail));
    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, detail);
    }

    if (mcf->invoice == NULL) {
        return ngx_evbill_send_problem(r, EVB_P_UNKNOWN_INVOICE,
                                       "no invoices are made (no "
                                       "evbill_seller_file)");
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    evb_op_billing_run_init(&w->op.billing_run, ngx_evbill_now(),
                            ctx->arena);
    w->op.billing_run.conf = mcf->invoice;
    w->op.billing_run.period = period;
    w->op.billing_run.limit = limit;

    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_billing_run_done);
}


static void
ngx_evbill_billing_run_done(ngx_evbill_wreq_t *w)
{
    ngx_int_t            rc;
    evb_buf_t            b;
    evb_problem_e        p;
    ngx_http_request_t  *r;

    r = w->request;

    p = evb_op_problem(&w->op.op);

    if (p != EVB_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "evbill: billing run refused (%s): %s",
                      evb_problem_info(p)->name, evb_op_detail(&w->op.op));
        rc = ngx_evbill_send_problem(r, p, evb_op_detail(&w->op.op));
        ngx_http_finalize_request(r, rc);
        return;
    }

    evb_buf_init(&b);
    evb_month_run_render(&b, w->op.billing_run.period,
                         &w->op.billing_run.run,
                         (long) w->op.billing_run.made);

    rc = ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
    ngx_http_finalize_request(r, rc);
}


/* GET billing-runs/{period} */

ngx_int_t
ngx_evbill_admin_get_run(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   n;
    evb_buf_t                b;
    evb_str_t                rec, *numbers;
    evb_problem_e            p;
    evb_month_run_t          run;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (!evb_month_period_ok(ctx->id1)) {
        return ngx_evbill_send_problem(r, EVB_P_UNKNOWN_RUN,
                                       "no billing run of this period "
                                       "(a period is \"YYYY-MM\")");
    }

    p = evb_store_get_run(mcf->store, ctx->arena, ctx->id1, &rec, &numbers,
                          &n);
    if (p == EVB_P_UNKNOWN_RUN) {
        return ngx_evbill_send_problem(r, p, "no billing run of this "
                                       "period");
    }

    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, NULL);
    }

    if (evb_month_run_decode(ctx->arena, rec.data, rec.len, &run) != 0) {
        return ngx_evbill_send_problem(r, EVB_P_INTERNAL, "the billing run "
                                       "record does not decode");
    }

    if (run.n != n) {
        return ngx_evbill_send_problem(r, EVB_P_INTERNAL, "the billing run "
                                       "record and its numbers disagree");
    }

    run.numbers = numbers;

    evb_buf_init(&b);
    evb_month_run_render(&b, ctx->id1, &run, -1);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}
