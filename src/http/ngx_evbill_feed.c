/*
 * The admin API's feed for downstream systems (issue 10): GET
 * feed?after=CURSOR&limit=N.  The entries are read in one read
 * transaction and rendered here, never under the write lock; limit and
 * EVB_FEED_BYTES_MAX bound an answer.
 */


#include "ngx_evbill.h"
#include "evb_feed_render.h"
#include "evb_store_feed.h"


/* the detail of a bad limit names the bound */
_Static_assert(EVB_FEED_LIMIT_MAX == 1000, "update the 1000 in the detail");


ngx_int_t
ngx_evbill_admin_feed(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   n;
    size_t                   limit;
    uint64_t                 after, last;
    evb_buf_t                b;
    evb_str_t                v;
    ngx_str_t                arg;
    evb_problem_e            p;
    evb_feed_item_t         *items;
    ngx_evbill_main_conf_t  *mcf;
    char                     detail[128];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* no after: from the first entry; an empty one is a consumer that
     * lost its cursor, which must not start again silently */
    after = 0;

    if (ngx_http_arg(r, (u_char *) "after", 5, &arg) == NGX_OK) {
        v.data = (char *) arg.data;
        v.len = arg.len;

        if (evb_feed_cursor_parse(v, &after) != 0) {
            return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                           "after must be a cursor this API "
                                           "returned (\"next\"), or 0 for "
                                           "the start");
        }
    }

    if (ngx_evbill_query_limit(r, ctx, EVB_FEED_LIMIT_DEFAULT,
                               EVB_FEED_LIMIT_MAX, &limit)
        != NGX_OK)
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "limit must be an integer from "
                                       "1 to 1000");
    }

    p = evb_store_read_feed(mcf->store, ctx->arena, after, limit,
                            &items, &n, &last);

    if (p == EVB_P_INVALID_QUERY) {
        ngx_snprintf((u_char *) detail, sizeof(detail),
                     "after is beyond the end of the feed (%uL): a cursor "
                     "of another store, or of this one before a restore%Z",
                     last);
        return ngx_evbill_send_problem(r, p, detail);
    }

    if (p != EVB_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "evbill: the feed could not be read after %uL: %s",
                      after, evb_problem_info(p)->name);
        return ngx_evbill_send_problem(r, p, "the feed could not be read; "
                                       "see the error log");
    }

    evb_buf_init(&b);

    if (evb_feed_render(&b, ctx->arena, items, n, after, detail,
                        sizeof(detail))
        != 0)
    {
        evb_buf_free(&b);
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0, "evbill: %s",
                      detail);
        return ngx_evbill_send_problem(r, EVB_P_INTERNAL, "a document of "
                                       "the feed does not decode; see the "
                                       "error log");
    }

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}
