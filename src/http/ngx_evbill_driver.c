
/*
 * The driver API (issue 10): a signed-in driver's own sessions,
 * invoices and credit notes, read through per-customer indexes; and
 * receipt links, the signed public links to one invoice.  Another
 * customer's object answers exactly as a missing one: the same problem,
 * the same detail (which names no id), the same headers.
 */


#include "ngx_evbill.h"


#define NGX_EVBILL_SESSION_404  "no such session"


/* GET sessions: own, newest first */
ngx_int_t
ngx_evbill_driver_sessions(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   n, limit;
    evb_buf_t                b;
    evb_str_t                after;
    evb_problem_e            p;
    evb_session_t           *items;
    ngx_evbill_main_conf_t  *mcf;
    char                     next[EVB_CURSOR_LEN + 1];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_evbill_query_limit(r, ctx, EVB_LIST_LIMIT_DEFAULT,
                               EVB_LIST_LIMIT_MAX, &limit) != NGX_OK) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "limit must be an integer from "
                                       "1 to 1000");
    }

    after.len = 0;
    after.data = NULL;
    (void) ngx_evbill_query_arg(r, ctx, "after", &after);

    p = evb_store_list_customer_sessions(mcf->store, ctx->arena,
                                         ctx->customer_id, after, limit,
                                         &items, &n, next);
    if (p == EVB_P_INVALID_QUERY) {
        return ngx_evbill_send_problem(r, p, "after is not a cursor this "
                                       "API returned");
    }

    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, "the store could not be read; "
                                       "see the error log");
    }

    evb_buf_init(&b);
    evb_render_driver_session_page(&b, items, n, next);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


/* GET sessions/{charger_id}/{session_id}: own, by the customer of its
 * start record */
ngx_int_t
ngx_evbill_driver_session(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    int                      found;
    evb_buf_t                b;
    evb_problem_e            p;
    evb_session_t            s;
    evb_session_start_t      st;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = evb_store_get_session(mcf->store, ctx->arena, ctx->id1, ctx->id2, &s,
                              NULL, NULL);

    found = 0;

    if (p == EVB_OK) {
        p = evb_store_get_session_start(mcf->store, ctx->arena, s.sid, &st,
                                        &found);
    }

    if (p == EVB_OK
        && (!found || st.customer_id.len != ctx->customer_id.len
            || ngx_memcmp(st.customer_id.data, ctx->customer_id.data,
                          ctx->customer_id.len)
               != 0))
    {
        p = EVB_P_UNKNOWN_SESSION;
    }

    if (p == EVB_P_UNKNOWN_SESSION) {
        return ngx_evbill_send_problem(r, p, NGX_EVBILL_SESSION_404);
    }

    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, "the store could not be read; "
                                       "see the error log");
    }

    evb_buf_init(&b);
    evb_render_driver_session(&b, &s);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


/* GET invoices: own, newest first (the customer_invoices index) */
ngx_int_t
ngx_evbill_driver_invoices(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   i, n;
    evb_buf_t                b;
    evb_str_t               *recs;
    evb_problem_e            p;
    evb_invoice_t            doc;
    evb_invoice_query_t      q;
    ngx_evbill_main_conf_t  *mcf;
    char                     next[EVB_CURSOR_LEN + 1];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&q, sizeof(evb_invoice_query_t));
    q.customer_id = ctx->customer_id;

    if (ngx_evbill_query_limit(r, ctx, EVB_LIST_LIMIT_DEFAULT,
                               EVB_LIST_LIMIT_MAX, &q.limit) != NGX_OK) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "limit must be an integer from "
                                       "1 to 1000");
    }

    (void) ngx_evbill_query_arg(r, ctx, "cursor", &q.after);

    p = evb_store_list_invoices(mcf->store, ctx->arena, &q, &recs, &n, next);
    if (p == EVB_P_INVALID_QUERY) {
        return ngx_evbill_send_problem(r, p, "cursor is not one this API "
                                       "returned");
    }

    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, "the store could not be read; "
                                       "see the error log");
    }

    evb_buf_init(&b);
    evb_buf_appends(&b, "{\"items\":[");

    for (i = 0; i < n; i++) {
        if (evb_invoice_decode(ctx->arena, recs[i].data, recs[i].len, &doc)
            != 0)
        {
            evb_buf_free(&b);
            return ngx_evbill_send_problem(r, EVB_P_INTERNAL,
                                           "a stored invoice does not "
                                           "decode");
        }

        evb_buf_appends(&b, i ? ",{\"number\":" : "{\"number\":");
        evb_buf_append_json_str(&b, doc.number.data, doc.number.len);
        evb_buf_appends(&b, ",\"issue_date\":");
        evb_buf_append_json_str(&b, doc.issue_date.data, doc.issue_date.len);
        evb_buf_appends(&b, ",\"issued_at\":");
        evb_buf_append_json_time(&b, doc.issued_at);
        evb_buf_appends(&b, ",\"currency\":");
        evb_buf_append_json_str(&b, doc.currency, 3);
        evb_buf_appends(&b, ",\"total\":");
        evb_buf_append_decimal(&b, doc.payable, 6, (unsigned) doc.exponent);
        evb_buf_appends(&b, ",\"charger_id\":");
        evb_buf_append_json_str(&b, doc.session.charger_id.data,
                                doc.session.charger_id.len);
        evb_buf_appends(&b, ",\"session_id\":");
        evb_buf_append_json_str(&b, doc.session.session_id.data,
                                doc.session.session_id.len);
        evb_buf_appends(&b, "}");
    }

    evb_buf_appends(&b, "],\"next\":");

    if (next[0]) {
        evb_buf_append_json_str(&b, next, EVB_CURSOR_LEN);

    } else {
        evb_buf_appends(&b, "null");
    }

    evb_buf_appends(&b, "}");

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


ngx_int_t
ngx_evbill_driver_invoice(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_get_doc_for(r, ctx, 0, ctx->id1, &ctx->customer_id);
}


ngx_int_t
ngx_evbill_driver_credit_note(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_get_doc_for(r, ctx, 1, ctx->id1, &ctx->customer_id);
}


/* Receipt links */

static ngx_int_t
ngx_evbill_receipt_link(ngx_http_request_t *r, ngx_evbill_main_conf_t *mcf,
    evb_str_t number, evb_msec_t issued_at, ngx_str_t *link)
{
    u_char   *p;
    size_t    esc;
    int64_t   expires;
    char      sig[EVB_RECEIPT_SIG_LEN + 1];

    /* whole seconds: the link's expiry is issue time + ttl */
    expires = issued_at / 1000 + (int64_t) mcf->receipt_ttl;

    if (evb_receipt_sign(mcf->receipt_key, mcf->receipt_key_len, number,
                         expires, sig)
        != 0)
    {
        return NGX_ERROR;
    }

    esc = 2 * ngx_escape_uri(NULL, (u_char *) number.data, number.len,
                             NGX_ESCAPE_ARGS);

    link->data = ngx_pnalloc(r->pool, mcf->receipt_base.len + number.len
                             + esc + sizeof("?expires=&sig=") - 1
                             + NGX_INT64_LEN + EVB_RECEIPT_SIG_LEN);
    if (link->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(link->data, mcf->receipt_base.data,
                   mcf->receipt_base.len);
    p = (u_char *) ngx_escape_uri(p, (u_char *) number.data, number.len,
                                  NGX_ESCAPE_ARGS);
    p = ngx_sprintf(p, "?expires=%L&sig=%*s", expires,
                    (size_t) EVB_RECEIPT_SIG_LEN, sig);

    link->len = p - link->data;

    return NGX_OK;
}


void
ngx_evbill_receipt_member(ngx_http_request_t *r, evb_buf_t *b,
    evb_str_t number, evb_msec_t issued_at)
{
    ngx_str_t                link;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (mcf->receipt_key == NULL || b->oom || b->len == 0
        || b->data[b->len - 1] != '}')
    {
        return;
    }

    if (ngx_evbill_receipt_link(r, mcf, number, issued_at, &link) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "evbill: no receipt link for \"%*s\"",
                      (size_t) number.len, number.data);
        return;
    }

    /* one more member before the object's closing brace */
    b->len--;
    evb_buf_appends(b, ",\"receipt\":");
    evb_buf_append_json_str(b, (char *) link.data, link.len);
    evb_buf_appends(b, "}");
}


void
ngx_evbill_session_receipt(ngx_http_request_t *r, evb_buf_t *b,
    evb_str_t charger_id, evb_str_t session_id)
{
    char                     what;
    size_t                   n;
    evb_str_t                text, rec, *credits;
    evb_invoice_t            doc;
    ngx_evbill_ctx_t        *ctx;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);
    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);

    if (mcf->receipt_key == NULL || ctx == NULL) {
        return;
    }

    /* read after the stop's commit: the invoice it made, if any */
    if (evb_store_session_invoice(mcf->store, ctx->arena, charger_id,
                                  session_id, &what, &text)
        != EVB_OK
        || what != 'I')
    {
        return;
    }

    if (evb_store_get_invoice(mcf->store, ctx->arena, 0, text, &rec,
                              &credits, &n, 0)
        != EVB_OK
        || evb_invoice_decode(ctx->arena, rec.data, rec.len, &doc) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "evbill: invoice \"%*s\" unreadable for its receipt "
                      "link", (size_t) text.len, text.data);
        return;
    }

    ngx_evbill_receipt_member(r, b, doc.number, doc.issued_at);
}


/* GET receipts/{number}?expires=EPOCH&sig=SIG: whatever is wrong with the
 * link answers as a missing invoice */
ngx_int_t
ngx_evbill_public_receipt(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   i;
    evb_str_t                number, expires, sig;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    number = ctx->id1;

    /* the signature covers the number without a format extension */
    for (i = 0; i < number.len; i++) {
        if (number.data[i] == '.') {
            number.len = i;
            break;
        }
    }

    if (mcf->receipt_key == NULL
        || ngx_evbill_query_arg(r, ctx, "expires", &expires) != NGX_OK
        || ngx_evbill_query_arg(r, ctx, "sig", &sig) != NGX_OK
        || evb_receipt_verify(mcf->receipt_key, mcf->receipt_key_len, number,
                              expires, sig, (int64_t) ngx_time())
           != 0)
    {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_evbill_send_problem(r, EVB_P_UNKNOWN_INVOICE,
                                       "no invoice with this number");
    }

    return ngx_evbill_get_doc_for(r, ctx, 0, ctx->id1, NULL);
}


/* Directives */

char *
ngx_evbill_receipt_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    char        err[256];
    u_char     *key;
    ngx_str_t  *value;

    if (mcf->receipt_key_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mcf->receipt_key_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &mcf->receipt_key_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    key = ngx_pnalloc(cf->pool, EVB_RECEIPT_KEY_MAX + 1);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    /* read now, as root and under "nginx -t", so mistakes fail loudly */
    if (evb_receipt_key_load((char *) mcf->receipt_key_file.data, key,
                             &mcf->receipt_key_len, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "evbill: %s", err);
        return NGX_CONF_ERROR;
    }

    mcf->receipt_key = key;

    return NGX_CONF_OK;
}


char *
ngx_evbill_receipt_base(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    size_t      i;
    ngx_str_t  *value;

    if (mcf->receipt_base.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* an absolute URL ending in '/', whose path is the public location's
     * receipts/; no query, fragment, quote or space to break the link */
    if (!((value[1].len > 8
           && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8) == 0)
          || (value[1].len > 7
              && ngx_strncasecmp(value[1].data, (u_char *) "http://", 7)
                 == 0))
        || value[1].data[value[1].len - 1] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"evbill_receipt_base\" must be an absolute "
                           "http(s) URL ending in '/', not \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] >= 0x7f
            || value[1].data[i] == '?' || value[1].data[i] == '#'
            || value[1].data[i] == '"' || value[1].data[i] == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"evbill_receipt_base\" \"%V\" holds a "
                               "character a link cannot carry (space, '?', "
                               "'#', quote or non-ASCII)", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    mcf->receipt_base = value[1];

    return NGX_CONF_OK;
}


/* both or neither: a key without a base makes no links, a base without a
 * key could verify none */
char *
ngx_evbill_receipt_check(ngx_conf_t *cf, ngx_evbill_main_conf_t *mcf)
{
    if (mcf->receipt_key != NULL && mcf->receipt_base.data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"evbill_receipt_key_file\" needs "
                      "\"evbill_receipt_base\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->receipt_key == NULL && mcf->receipt_base.data != NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"evbill_receipt_base\" needs "
                      "\"evbill_receipt_key_file\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
