
/*
 * The admin API's invoices and credit notes (issue 9): GET invoices,
 * GET invoices/{number}, GET credit-notes/{number} as JSON, HTML or UBL
 * (Accept, or the extension .json, .html, .xml), and PUT
 * invoices/{number}/credits/{credit_id}.  Documents are read in a read
 * transaction and rendered here, never under the write lock.
 */


#include "ngx_evbill.h"
#include "evb_pan.h"


#define NGX_EVBILL_FMT_JSON  0
#define NGX_EVBILL_FMT_HTML  1
#define NGX_EVBILL_FMT_XML   2


static ngx_int_t ngx_evbill_doc_format(ngx_http_request_t *r,
    evb_str_t *number, ngx_uint_t *fmt);
static ngx_int_t ngx_evbill_doc_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_uint_t fmt, const evb_invoice_t *doc,
    const evb_invoice_status_t *st, ngx_uint_t admin);
static ngx_int_t ngx_evbill_get_doc_owned(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, int credit_note, evb_str_t number,
    ngx_uint_t fmt, ngx_uint_t status, const evb_str_t *owner,
    ngx_uint_t admin);
static ngx_int_t ngx_evbill_get_doc(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, int credit_note, evb_str_t number,
    ngx_uint_t fmt, ngx_uint_t status);
static ngx_int_t ngx_evbill_inv_time(evb_str_t v, evb_msec_t *t);
static ngx_int_t ngx_evbill_credit_process(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
static void ngx_evbill_credit_done(ngx_evbill_wreq_t *w);


static ngx_int_t
ngx_evbill_doc_problem(ngx_http_request_t *r, evb_problem_e p)
{
    const char  *detail;

    switch (p) {

    case EVB_P_UNKNOWN_INVOICE:
        detail = "no invoice with this number";
        break;

    case EVB_P_UNKNOWN_CREDIT_NOTE:
        detail = "no credit note with this number";
        break;

    default:
        detail = "the store could not be read; see the error log";
        break;
    }

    return ngx_evbill_send_problem(r, p, detail);
}


/* the format: an extension of the number, else Accept (JSON when it
 * names none of ours but allows anything) */
static ngx_int_t
ngx_evbill_doc_format(ngx_http_request_t *r, evb_str_t *number,
    ngx_uint_t *fmt)
{
    size_t            i;
    u_char           *p, *best;
    ngx_str_t         accept;
    ngx_table_elt_t  *h;

    static struct {
        const char  *text;
        ngx_uint_t   fmt;
    } types[] = {
        { "application/json", NGX_EVBILL_FMT_JSON },
        { "text/html", NGX_EVBILL_FMT_HTML },
        { "application/xml", NGX_EVBILL_FMT_XML },
        { "text/xml", NGX_EVBILL_FMT_XML },
        { NULL, 0 }
    };

    static struct {
        const char  *ext;
        size_t       len;
        ngx_uint_t   fmt;
    } exts[] = {
        { ".json", 5, NGX_EVBILL_FMT_JSON },
        { ".html", 5, NGX_EVBILL_FMT_HTML },
        { ".xml", 4, NGX_EVBILL_FMT_XML },
        { NULL, 0, 0 }
    };

    /* numbers hold no '.': whatever follows one is an extension */
    for (i = 0; i < number->len; i++) {
        if (number->data[i] == '.') {
            break;
        }
    }

    if (i < number->len) {
        for (p = NULL, i = 0; exts[i].ext; i++) {
            if (number->len > exts[i].len
                && ngx_strncmp(number->data + number->len - exts[i].len,
                               exts[i].ext, exts[i].len)
                   == 0)
            {
                number->len -= exts[i].len;
                *fmt = exts[i].fmt;
                return NGX_OK;
            }
        }

        return NGX_DECLINED;
    }

    *fmt = NGX_EVBILL_FMT_JSON;

    h = ngx_evbill_header(r, "Accept", 6, &accept);
    if (h == NULL || accept.len == 0) {
        return NGX_OK;
    }

    /* the first of our types that Accept names (q-values not weighed) */
    best = NULL;

    for (i = 0; types[i].text; i++) {
        p = ngx_strlcasestrn(accept.data, accept.data + accept.len,
                             (u_char *) types[i].text,
                             ngx_strlen(types[i].text) - 1);
        if (p && (best == NULL || p < best)) {
            best = p;
            *fmt = types[i].fmt;
        }
    }

    if (best != NULL) {
        return NGX_OK;
    }

    if (ngx_strlcasestrn(accept.data, accept.data + accept.len,
                         (u_char *) "*/*", 2)
        != NULL
        || ngx_strlcasestrn(accept.data, accept.data + accept.len,
                            (u_char *) "application/*", 12)
           != NULL)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_evbill_doc_send(ngx_http_request_t *r, ngx_uint_t status, ngx_uint_t fmt,
    const evb_invoice_t *doc, const evb_invoice_status_t *st,
    ngx_uint_t admin)
{
    ngx_int_t         rc;
    evb_buf_t         b;
    ngx_str_t        *type;

    static ngx_str_t  json = ngx_string("application/json");
    static ngx_str_t  html = ngx_string("text/html; charset=utf-8");
    static ngx_str_t  xml = ngx_string("application/xml");

    evb_buf_init(&b);

    switch (fmt) {

    case NGX_EVBILL_FMT_HTML:
        evb_invoice_render_html(&b, doc, st);
        type = &html;
        break;

    case NGX_EVBILL_FMT_XML:
        evb_invoice_render_ubl(&b, doc);
        type = &xml;
        break;

    default:
        evb_invoice_render_json(&b, doc, st);
        type = &json;

        /* the operator sees the invoice's receipt link (issue 10) */
        if (admin && st != NULL) {
            ngx_evbill_receipt_member(r, &b, doc->number, doc->issued_at);
        }

        break;
    }

    if (b.oom) {
        evb_buf_free(&b);
        return ngx_evbill_send_problem(r, EVB_P_INTERNAL,
                                       "out of memory rendering the answer");
    }

    rc = ngx_evbill_send(r, status, type, (u_char *) b.data, b.len);
    evb_buf_free(&b);

    return rc;
}


static ngx_int_t
ngx_evbill_get_doc(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    int credit_note, evb_str_t number, ngx_uint_t fmt, ngx_uint_t status)
{
    return ngx_evbill_get_doc_owned(r, ctx, credit_note, number, fmt, status,
                                    NULL, 1);
}


/* the driver API and receipt links: the admin's code path, with another
 * customer's document answered exactly as a missing one */
ngx_int_t
ngx_evbill_get_doc_for(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    int credit_note, evb_str_t number, const evb_str_t *owner)
{
    ngx_uint_t  fmt;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_evbill_doc_format(r, &number, &fmt) != NGX_OK) {
        return ngx_evbill_send_problem(r, EVB_P_NOT_ACCEPTABLE,
                                       "documents come as application/json, "
                                       "text/html or application/xml (or "
                                       "with the extension .json, .html, "
                                       ".xml)");
    }

    return ngx_evbill_get_doc_owned(r, ctx, credit_note, number, fmt,
                                    NGX_HTTP_OK, owner, 0);
}


static ngx_int_t
ngx_evbill_get_doc_owned(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    int credit_note, evb_str_t number, ngx_uint_t fmt, ngx_uint_t status,
    const evb_str_t *owner, ngx_uint_t admin)
{
    size_t                   i, n;
    evb_str_t                rec, *credits, *numbers;
    evb_problem_e            p;
    evb_invoice_t            doc, *cns;
    evb_invoice_status_t     st;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    p = evb_store_get_invoice(mcf->store, ctx->arena, credit_note, number,
                              &rec, &credits, &n, EVB_CREDITS_MAX);
    if (p != EVB_OK) {
        return ngx_evbill_doc_problem(r, p);
    }

    if (evb_invoice_decode(ctx->arena, rec.data, rec.len, &doc) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "evbill: the record of document \"%*s\" does not "
                      "decode", (size_t) number.len, number.data);
        return ngx_evbill_send_problem(r, EVB_P_INTERNAL,
                                       "the stored document does not "
                                       "decode; see the error log");
    }

    if (owner != NULL
        && (doc.customer_id.len != owner->len
            || ngx_memcmp(doc.customer_id.data, owner->data, owner->len)
               != 0))
    {
        return ngx_evbill_doc_problem(r, credit_note
                                         ? EVB_P_UNKNOWN_CREDIT_NOTE
                                         : EVB_P_UNKNOWN_INVOICE);
    }

    if (credit_note) {
        return ngx_evbill_doc_send(r, status, fmt, &doc, NULL, admin);
    }

    cns = evb_arena_alloc(ctx->arena, sizeof(evb_invoice_t) * (n + 1));
    numbers = evb_arena_alloc(ctx->arena, sizeof(evb_str_t) * (n + 1));
    if (cns == NULL || numbers == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (evb_invoice_decode(ctx->arena, credits[i].data, credits[i].len,
                               &cns[i])
            != 0)
        {
            return ngx_evbill_send_problem(r, EVB_P_INTERNAL,
                                           "a stored credit note does not "
                                           "decode");
        }
    }

    evb_invoice_status(&doc, cns, n, &st, numbers);
    ngx_evbill_pay_invoice_status(r, ctx, &doc, &st);

    return ngx_evbill_doc_send(r, status, fmt, &doc, &st, admin);
}


static ngx_int_t
ngx_evbill_get_doc_route(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    int credit_note)
{
    evb_str_t   number;
    ngx_uint_t  fmt;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    number = ctx->id1;

    if (ngx_evbill_doc_format(r, &number, &fmt) != NGX_OK) {
        return ngx_evbill_send_problem(r, EVB_P_NOT_ACCEPTABLE,
                                       "documents come as application/json, "
                                       "text/html or application/xml (or "
                                       "with the extension .json, .html, "
                                       ".xml)");
    }

    return ngx_evbill_get_doc(r, ctx, credit_note, number, fmt, NGX_HTTP_OK);
}


ngx_int_t
ngx_evbill_admin_get_invoice(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_get_doc_route(r, ctx, 0);
}


ngx_int_t
ngx_evbill_admin_get_credit_note(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_get_doc_route(r, ctx, 1);
}


/* an RFC 3339 instant, or a date (its start, UTC) */
static ngx_int_t
ngx_evbill_inv_time(evb_str_t v, evb_msec_t *t)
{
    int64_t  days;

    if (v.len == 10 && v.data[4] == '-' && v.data[7] == '-') {
        if (evb_time_parse_rfc3339(v.data, 10, t) == 0) {
            return NGX_OK;
        }

        days = 0;

        if (ngx_atoi((u_char *) v.data, 4) == NGX_ERROR
            || ngx_atoi((u_char *) v.data + 5, 2) == NGX_ERROR
            || ngx_atoi((u_char *) v.data + 8, 2) == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        days = evb_days_from_civil64(ngx_atoi((u_char *) v.data, 4),
                                     ngx_atoi((u_char *) v.data + 5, 2),
                                     ngx_atoi((u_char *) v.data + 8, 2));
        *t = days * 86400000;

        return NGX_OK;
    }

    return evb_time_parse_rfc3339(v.data, v.len, t) == 0 ? NGX_OK
                                                         : NGX_ERROR;
}


ngx_int_t
ngx_evbill_admin_list_invoices(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   i, n;
    evb_buf_t                b;
    evb_str_t                v, *recs;
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
    q.limit = EVB_LIST_LIMIT_DEFAULT;

    if (ngx_evbill_query_arg(r, ctx, "customer", &q.customer_id) == NGX_OK
        && !evb_id_valid(q.customer_id.data, q.customer_id.len))
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "customer must be 1 to 64 printable "
                                       "ASCII characters without '/'");
    }

    if (ngx_evbill_query_arg(r, ctx, "from", &v) == NGX_OK
        && ngx_evbill_inv_time(v, &q.from) != NGX_OK)
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "from must be an RFC 3339 time or a "
                                       "date (YYYY-MM-DD, UTC)");
    }

    if (ngx_evbill_query_arg(r, ctx, "to", &v) == NGX_OK
        && ngx_evbill_inv_time(v, &q.to) != NGX_OK)
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "to must be an RFC 3339 time or a "
                                       "date (YYYY-MM-DD, UTC)");
    }

    if (ngx_evbill_query_limit(r, ctx, EVB_LIST_LIMIT_DEFAULT,
                               EVB_LIST_LIMIT_MAX, &q.limit)
        != NGX_OK)
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_QUERY,
                                       "limit must be an integer from "
                                       "1 to 1000");
    }

    (void) ngx_evbill_query_arg(r, ctx, "cursor", &q.after);

    p = evb_store_list_invoices(mcf->store, ctx->arena, &q, &recs, &n, next);
    if (p != EVB_OK) {
        if (p == EVB_P_INVALID_QUERY) {
            return ngx_evbill_send_problem(r, p, "cursor is not one this API "
                                           "returned");
        }

        return ngx_evbill_doc_problem(r, p);
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
        evb_buf_appends(&b, ",\"due_date\":");
        evb_buf_append_json_str(&b, doc.due_date.data, doc.due_date.len);
        evb_buf_appends(&b, ",\"issued_at\":");
        evb_buf_append_json_time(&b, doc.issued_at);

        if (doc.customer_id.len) {
            evb_buf_appends(&b, ",\"customer_id\":");
            evb_buf_append_json_str(&b, doc.customer_id.data,
                                    doc.customer_id.len);
        }

        evb_buf_appends(&b, ",\"buyer\":");
        evb_buf_append_json_str(&b, doc.buyer.name.data, doc.buyer.name.len);
        evb_buf_appends(&b, ",\"currency\":");
        evb_buf_append_json_str(&b, doc.currency, 3);
        evb_buf_appends(&b, ",\"total\":");
        evb_buf_append_decimal(&b, doc.payable, 6, (unsigned) doc.exponent);
        /* a monthly invoice bills several sessions: its lines name them */
        if (doc.session.session_id.len) {
            evb_buf_appends(&b, ",\"charger_id\":");
            evb_buf_append_json_str(&b, doc.session.charger_id.data,
                                    doc.session.charger_id.len);
            evb_buf_appends(&b, ",\"session_id\":");
            evb_buf_append_json_str(&b, doc.session.session_id.data,
                                    doc.session.session_id.len);
            evb_buf_appends(&b, ",\"cdr_id\":");
            evb_buf_append_json_str(&b, doc.session.cdr_id.data,
                                    doc.session.cdr_id.len);
        }

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


/* the session's admin view: its invoice, or why it has none */
void
ngx_evbill_session_invoice(ngx_http_request_t *r, evb_buf_t *b,
    evb_str_t charger_id, evb_str_t session_id)
{
    char                     what;
    evb_str_t                text;
    evb_arena_t             *a;
    ngx_evbill_ctx_t        *ctx;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);
    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);
    a = ctx->arena;

    if (b->oom || b->len == 0 || b->data[b->len - 1] != '}') {
        return;
    }

    if (evb_store_session_invoice(mcf->store, a, charger_id, session_id,
                                  &what, &text)
        != EVB_OK
        || what == 0)
    {
        return;
    }

    /* one more member before the object's closing brace */
    b->len--;
    evb_buf_appends(b, what == 'I' ? ",\"invoice\":" : ",\"no_invoice\":");
    evb_buf_append_json_str(b, text.data, text.len);
    evb_buf_appends(b, "}");
}


/* GET credit-notes/{number}/cdrs: what OCPI gets of a credit */
ngx_int_t
ngx_evbill_admin_credit_cdrs(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    evb_buf_t                b;
    evb_str_t                rec, *credits, credit, corrected;
    size_t                   n;
    evb_problem_e            p;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = evb_store_get_invoice(mcf->store, ctx->arena, 1, ctx->id1, &rec,
                              &credits, &n, 0);
    if (p == EVB_OK) {
        p = evb_store_credit_cdrs(mcf->store, ctx->arena, ctx->id1, &credit,
                                  &corrected);
    }

    if (p != EVB_OK) {
        return ngx_evbill_doc_problem(r, p);
    }

    /* both are stored as rendered JSON objects */
    evb_buf_init(&b);
    evb_buf_appends(&b, "{\"credit_cdr\":");
    if (credit.len) {
        evb_buf_append(&b, credit.data, credit.len);

    } else {
        evb_buf_appends(&b, "null");
    }

    evb_buf_appends(&b, ",\"corrected_cdr\":");
    if (corrected.len) {
        evb_buf_append(&b, corrected.data, corrected.len);

    } else {
        evb_buf_appends(&b, "null");
    }

    evb_buf_appends(&b, "}");

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


/* PUT invoices/{number}/credits/{credit_id} */

ngx_int_t
ngx_evbill_admin_credit(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    return ngx_evbill_credit_process(r, ctx);
}


static ngx_int_t
ngx_evbill_credit_process(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                   nerr;
    evb_problem_e            p;
    ngx_evbill_wreq_t       *w;
    evb_field_error_t        err;
    ngx_evbill_main_conf_t  *mcf;
    char                     detail[256];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (!ngx_evbill_is_json(r)) {
        return ngx_evbill_send_problem(r, EVB_P_UNSUPPORTED_MEDIA,
                                       "the body must be JSON with "
                                       "Content-Type: application/json");
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    evb_op_credit_init(&w->op.credit, ngx_evbill_now(), ctx->arena);

    p = evb_credit_parse(ctx->arena, (char *) ctx->body.data, ctx->body.len,
                         &w->op.credit.req, detail, sizeof(detail));

    if (p == EVB_P_CARD_DATA) {
        /* the reason is the only free text of a credit: point at it */
        nerr = 0;
        evb_field_error_add(&err, &nerr, p, "/reason", EVB_PAN_REFUSED);
        return ngx_evbill_send_problem_errors(r, p, detail, &err, nerr);
    }

    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, detail);
    }

    if (mcf->invoice == NULL) {
        return ngx_evbill_send_problem(r, EVB_P_UNKNOWN_INVOICE,
                                       "no invoice with this number (no "
                                       "evbill_seller_file: no invoices)");
    }

    w->op.credit.conf = mcf->invoice;
    w->op.credit.invoice_number = ctx->id1;
    w->op.credit.credit_id = ctx->id2;

    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_credit_done);
}


static void
ngx_evbill_credit_done(ngx_evbill_wreq_t *w)
{
    ngx_int_t            rc;
    evb_problem_e        p;
    ngx_evbill_ctx_t    *ctx;
    ngx_http_request_t  *r;

    r = w->request;
    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);

    p = evb_op_problem(&w->op.op);

    if (p != EVB_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "evbill: credit refused (%s): %s",
                      evb_problem_info(p)->name, evb_op_detail(&w->op.op));
        rc = ngx_evbill_send_problem(r, p, evb_op_detail(&w->op.op));
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* the credit note as stored, read after the commit */
    rc = ngx_evbill_get_doc(r, ctx, 1, w->op.credit.number,
                            NGX_EVBILL_FMT_JSON,
                            w->op.credit.created ? NGX_HTTP_CREATED
                                                 : NGX_HTTP_OK);

    ngx_http_finalize_request(r, rc);
}
