
/*
 * Request plumbing shared by the API handlers: bodies, paths, JSON and
 * problem+json responses, and the filter that turns nginx's own error
 * pages inside evbill locations into problem+json.
 */


#include "ngx_evbill.h"


static void ngx_evbill_ctx_cleanup(void *data);
static void ngx_evbill_body_read(ngx_http_request_t *r);
static ngx_int_t ngx_evbill_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_evbill_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


/* nginx's own error pages and the problem each becomes */
typedef struct {
    ngx_uint_t      status;
    evb_problem_e   problem;
    const char     *detail;
} ngx_evbill_nginx_error_t;

static ngx_evbill_nginx_error_t  ngx_evbill_nginx_errors[] = {
    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, EVB_P_BODY_TOO_LARGE,
      "the request body is larger than this endpoint accepts" },
    { NGX_HTTP_NOT_FOUND, EVB_P_NOT_FOUND, "no such endpoint" },
    /* limit_req, limit_conn and the like: not the store */
    { NGX_HTTP_SERVICE_UNAVAILABLE, EVB_P_SERVICE_UNAVAILABLE,
      "the service is unavailable; retry later" },
    { NGX_HTTP_TOO_MANY_REQUESTS, EVB_P_TOO_MANY_REQUESTS,
      "too many requests; retry later" },
    { NGX_HTTP_FORBIDDEN, EVB_P_FORBIDDEN,
      "access to this location is not allowed" },
    { NGX_HTTP_BAD_REQUEST, EVB_P_BAD_REQUEST,
      "the request could not be read" },
    { 0, EVB_OK, NULL }
};


static ngx_http_output_header_filter_pt  ngx_evbill_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_evbill_next_body_filter;


ngx_evbill_ctx_t *
ngx_evbill_get_ctx(ngx_http_request_t *r)
{
    ngx_evbill_ctx_t    *ctx;
    ngx_pool_cleanup_t  *cln;

    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);
    if (ctx) {
        return ctx;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_evbill_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ctx->arena = evb_arena_create(8192);
    if (ctx->arena == NULL) {
        return NULL;
    }

    cln->handler = ngx_evbill_ctx_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_evbill_module);

    return ctx;
}


static void
ngx_evbill_ctx_cleanup(void *data)
{
    ngx_evbill_ctx_t *ctx = data;

    if (ctx->arena) {
        evb_arena_destroy(ctx->arena);
        ctx->arena = NULL;
    }
}


/*
 * Read the whole body, then run process() on it; the handler returns
 * what this returns.
 */

ngx_int_t
ngx_evbill_read_body(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_evbill_process_pt process)
{
    ngx_int_t  rc;

    ctx->process = process;
    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_evbill_body_read);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_evbill_body_read(ngx_http_request_t *r)
{
    ngx_evbill_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);

    if (ctx == NULL || ngx_evbill_collect_body(r, ctx) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ctx->process(r, ctx));
}


/*
 * A body may arrive in several buffers even when small (chunked), and in
 * a temporary file when larger than client_body_buffer_size: gather it
 * into one NUL-terminated block for the JSON reader.
 */

ngx_int_t
ngx_evbill_collect_body(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ctx->body.len = 0;
    ctx->body.data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->body.data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last
                                                    - b->file_pos),
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "evbill: short read of the request body "
                              "temporary file");
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        /* an empty body comes as a buffer whose pos may be NULL, and
         * memcpy from NULL is undefined even for 0 bytes */
        if (b->pos == NULL || b->last == b->pos) {
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    *p = '\0';
    ctx->body.len = p - ctx->body.data;

    return NGX_OK;
}


/*
 * The path below the location prefix, split on '/'.  r->uri is already
 * percent-decoded; ids cannot contain '/', so a decoded "%2F" only makes
 * an extra segment and the route does not match.
 */

ngx_int_t
ngx_evbill_split_path(ngx_http_request_t *r, ngx_evbill_loc_conf_t *lcf,
    evb_str_t *segs, ngx_uint_t max, ngx_uint_t *n)
{
    u_char  *p, *last, *start;

    *n = 0;

    if (r->uri.len < lcf->prefix.len) {
        return NGX_DECLINED;
    }

    p = r->uri.data + lcf->prefix.len;
    last = r->uri.data + r->uri.len;

    /* "location /admin" also matches "/admin/x" and "/adminx" */
    if (lcf->prefix.len && lcf->prefix.data[lcf->prefix.len - 1] != '/') {
        if (p == last) {
            return NGX_OK;
        }

        if (*p != '/') {
            return NGX_DECLINED;
        }

        p++;
    }

    if (p == last) {
        return NGX_OK;
    }

    for ( ;; ) {
        start = p;

        while (p < last && *p != '/') {
            p++;
        }

        if (*n == max) {
            return NGX_DECLINED;
        }

        segs[*n].data = (char *) start;
        segs[*n].len = p - start;
        (*n)++;

        if (p == last) {
            return NGX_OK;
        }

        p++;
    }
}


ngx_int_t
ngx_evbill_is_json(ngx_http_request_t *r)
{
    u_char     *p, *last, *semi;
    ngx_str_t  *ct;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    ct = &r->headers_in.content_type->value;
    p = ct->data;
    last = ct->data + ct->len;

    semi = ngx_strlchr(p, last, ';');
    if (semi) {
        last = semi;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (last - p == 16
        && ngx_strncasecmp(p, (u_char *) "application/json", 16) == 0)
    {
        return 1;
    }

    /* application/<anything>+json, e.g. application/ocpi+json */
    if (last - p > 17
        && ngx_strncasecmp(p, (u_char *) "application/", 12) == 0
        && ngx_strncasecmp(last - 5, (u_char *) "+json", 5) == 0)
    {
        return 1;
    }

    return 0;
}


ngx_int_t
ngx_evbill_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, data, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_evbill_send_json(ngx_http_request_t *r, ngx_uint_t status, evb_buf_t *b)
{
    ngx_int_t         rc;
    static ngx_str_t  type = ngx_string("application/json");

    if (b->oom) {
        evb_buf_free(b);
        return ngx_evbill_send_problem(r, EVB_P_INTERNAL,
                                       "out of memory rendering the answer");
    }

    rc = ngx_evbill_send(r, status, &type, (u_char *) b->data, b->len);

    evb_buf_free(b);

    return rc;
}


ngx_int_t
ngx_evbill_send_problem(ngx_http_request_t *r, evb_problem_e p,
    const char *detail)
{
    ngx_int_t                  rc;
    evb_buf_t                  b;
    ngx_table_elt_t           *h;
    const evb_problem_info_t  *info;
    static ngx_str_t           type = ngx_string("application/problem+json");

    info = evb_problem_info(p);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "evbill problem %ui %s: %s", (ngx_uint_t) info->status,
                   info->name, detail ? detail : "");

    evb_buf_init(&b);
    evb_problem_render(&b, p, detail);

    if (b.oom) {
        evb_buf_free(&b);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the write queue drains and the store comes back within moments:
     * tell clients when to retry rather than leave them to guess */
    if (p == EVB_P_QUEUE_FULL || p == EVB_P_STORE_UNAVAILABLE) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            evb_buf_free(&b);
            return NGX_ERROR;
        }

        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "Retry-After");
        ngx_str_set(&h->value, "1");
    }

    rc = ngx_evbill_send(r, info->status, &type, (u_char *) b.data, b.len);

    evb_buf_free(&b);

    return rc;
}


ngx_int_t
ngx_evbill_send_problem_errors(ngx_http_request_t *r, evb_problem_e p,
    const char *detail, const evb_field_error_t *errors, size_t nerrors)
{
    ngx_int_t         rc;
    evb_buf_t         b;
    static ngx_str_t  type = ngx_string("application/problem+json");

    /* an operator wants to know someone typed card data, never what:
     * the pointer is the parser's own, the detail names no value */
    if (p == EVB_P_CARD_DATA) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "evbill: request refused (card-data-refused) at "
                      "\"%s\": a card number in free text (not logged)",
                      nerrors ? errors[0].pointer : "");
    }

    evb_buf_init(&b);
    evb_problem_render_errors(&b, p, detail, errors, nerrors);

    if (b.oom) {
        evb_buf_free(&b);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_evbill_send(r, evb_problem_info(p)->status, &type,
                         (u_char *) b.data, b.len);

    evb_buf_free(&b);

    return rc;
}


ngx_int_t
ngx_evbill_send_405(ngx_http_request_t *r, const char *allow)
{
    char              detail[128];
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Allow");
    h->value.data = (u_char *) allow;
    h->value.len = ngx_strlen(allow);

    ngx_snprintf((u_char *) detail, sizeof(detail), "%V is not allowed "
                 "here; use %s%Z", &r->method_name, allow);

    return ngx_evbill_send_problem(r, EVB_P_METHOD_NOT_ALLOWED, detail);
}


void
ngx_evbill_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, rc);
}


/*
 * A request header by lower-case name; several lines of one field are
 * joined with ", " (RFC 9110 5.3), as RFC 9421 2.1 asks.
 */

ngx_table_elt_t *
ngx_evbill_header(ngx_http_request_t *r, const char *name, size_t len,
    ngx_str_t *joined)
{
    u_char           *p;
    size_t            total;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *first;

    first = NULL;
    total = 0;
    n = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            if (first == NULL) {
                first = &h[i];
            }

            total += h[i].value.len + (n ? 2 : 0);
            n++;
        }
    }

    if (first == NULL) {
        return NULL;
    }

    if (n == 1) {
        *joined = first->value;
        return first;
    }

    p = ngx_pnalloc(r->pool, total);
    if (p == NULL) {
        return NULL;
    }

    joined->data = p;
    joined->len = total;

    part = &r->headers_in.headers.part;
    h = part->elts;
    n = 0;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            if (n++) {
                *p++ = ',';
                *p++ = ' ';
            }

            p = ngx_cpymem(p, h[i].value.data, h[i].value.len);
        }
    }

    return first;
}


evb_msec_t
ngx_evbill_now(void)
{
    ngx_time_t  *tp;

    /* the event loop's cached time: updated once per loop iteration */
    tp = ngx_timeofday();

    return (evb_msec_t) tp->sec * 1000 + (evb_msec_t) tp->msec;
}


evb_problem_e
ngx_evbill_parse_json(ngx_evbill_ctx_t *ctx, evb_json_t **root,
    char *detail, size_t len)
{
    evb_json_err_e  rc;

    rc = evb_json_parse(ctx->arena, (char *) ctx->body.data, ctx->body.len,
                        EVB_JSON_MAX_DEPTH, root, detail, len);

    switch (rc) {

    case EVB_JSON_OK:
        return EVB_OK;

    case EVB_JSON_EENCODING:
        return EVB_P_INVALID_ENCODING;

    case EVB_JSON_EDUPKEY:
        return EVB_P_DUPLICATE_KEY;

    case EVB_JSON_EDEPTH:
        return EVB_P_NESTING_TOO_DEEP;

    case EVB_JSON_ENOMEM:
        return EVB_P_INTERNAL;

    default:
        return EVB_P_MALFORMED_JSON;
    }
}


/*
 * nginx's own error pages (413 from client_max_body_size, 400 for a bad
 * request line, 500, ...) become problem+json inside evbill locations,
 * so chargers parse one error format only.
 */

ngx_int_t
ngx_evbill_filter_init(ngx_conf_t *cf)
{
    ngx_evbill_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_evbill_header_filter;

    ngx_evbill_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_evbill_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_evbill_header_filter(ngx_http_request_t *r)
{
    evb_buf_t                   b;
    ngx_buf_t                  *out;
    evb_problem_e               p;
    ngx_evbill_ctx_t           *ctx;
    ngx_evbill_loc_conf_t      *lcf;
    ngx_evbill_nginx_error_t   *e;
    char                        detail[128];

    lcf = ngx_http_get_module_loc_conf(r, ngx_evbill_module);

    if (lcf == NULL || lcf->api == 0 || r != r->main
        || r->err_status < NGX_HTTP_BAD_REQUEST)
    {
        return ngx_evbill_next_header_filter(r);
    }

    for (e = ngx_evbill_nginx_errors; e->status; e++) {
        if (e->status == r->err_status) {
            break;
        }
    }

    if (e->status) {
        p = e->problem;
        ngx_snprintf((u_char *) detail, sizeof(detail), "%s%Z", e->detail);

    } else if (r->err_status == NGX_HTTP_NOT_ALLOWED) {
        p = EVB_P_METHOD_NOT_ALLOWED;
        ngx_snprintf((u_char *) detail, sizeof(detail),
                     "%V is not allowed here%Z", &r->method_name);

    } else if (r->err_status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
        p = EVB_P_INTERNAL;
        ngx_snprintf((u_char *) detail, sizeof(detail),
                     "internal error %ui%Z", r->err_status);

    } else {
        /* 401 from auth_request keeps nginx's page and its
         * WWW-Authenticate challenge */
        return ngx_evbill_next_header_filter(r);
    }

    ctx = ngx_evbill_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    evb_buf_init(&b);
    evb_problem_render(&b, p, detail);

    if (b.oom) {
        evb_buf_free(&b);
        return NGX_ERROR;
    }

    out = ngx_create_temp_buf(r->pool, b.len);
    if (out == NULL) {
        evb_buf_free(&b);
        return NGX_ERROR;
    }

    out->last = ngx_cpymem(out->pos, b.data, b.len);
    out->last_buf = 1;
    out->last_in_chain = 1;
    evb_buf_free(&b);

    ctx->error_page = 1;
    ctx->error_body = out;

    ngx_str_set(&r->headers_out.content_type, "application/problem+json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = out->last - out->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_evbill_next_header_filter(r);
}


static ngx_int_t
ngx_evbill_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t        out, *cl;
    ngx_evbill_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);

    if (ctx == NULL || !ctx->error_page) {
        return ngx_evbill_next_body_filter(r, in);
    }

    /* nginx's page is static memory: mark it sent, send ours instead */
    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
    }

    if (ctx->error_body == NULL) {
        return NGX_OK;
    }

    out.buf = ctx->error_body;
    out.next = NULL;
    ctx->error_body = NULL;

    return ngx_evbill_next_body_filter(r, &out);
}


/* A query argument, unescaped into the request's arena; NGX_DECLINED
 * when absent. */
ngx_int_t
ngx_evbill_query_arg(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    const char *name, evb_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   arg;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &arg) != NGX_OK) {
        return NGX_DECLINED;
    }

    dst = evb_arena_alloc(ctx->arena, arg.len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    value->data = (char *) dst;
    src = arg.data;

    ngx_unescape_uri(&dst, &src, arg.len, 0);

    value->len = dst - (u_char *) value->data;

    return NGX_OK;
}


/* limit=1..max for every list; deflt when absent, NGX_DECLINED when
 * given and not such an integer */
ngx_int_t
ngx_evbill_query_limit(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    size_t deflt, size_t max, size_t *limit)
{
    size_t     i;
    uint64_t   n;
    evb_str_t  v;

    *limit = deflt;

    if (ngx_evbill_query_arg(r, ctx, "limit", &v) != NGX_OK) {
        return NGX_OK;
    }

    n = 0;

    for (i = 0; i < v.len; i++) {
        if (v.data[i] < '0' || v.data[i] > '9' || n > 100000) {
            return NGX_DECLINED;
        }

        n = n * 10 + (uint64_t) (v.data[i] - '0');
    }

    if (v.len == 0 || n < 1 || n > max) {
        return NGX_DECLINED;
    }

    *limit = (size_t) n;

    return NGX_OK;
}
