
/*
 * Payments (issue 11): POST payments on the public driver location, the
 * webhook location, admin GET payments/{id} and POST payments/reconcile,
 * and the gateway calls.  A call is an in-memory subrequest (a POST with
 * its own body) to the internal location evbill_payment_gateway names,
 * which proxy_passes to the gateway, so TLS, keepalive and timeouts stay
 * nginx's own.  Every call was stored in the outbox first (src/ops); what
 * came back is stored by another write before anyone is answered.
 *
 * Nothing here logs a key, a client_secret, a signature or a body.
 */


#include "ngx_evbill.h"
#include "evb_money.h"
#include "evb_store_payment.h"


#define NGX_EVBILL_PAY_FILE_MAX     4096
#define NGX_EVBILL_RECONCILE_MAX    64
#define NGX_EVBILL_WEBHOOK_TOLERANCE  300


typedef struct ngx_evbill_pay_req_s  ngx_evbill_pay_req_t;

typedef void (*ngx_evbill_pay_next_pt)(ngx_http_request_t *r,
    ngx_evbill_pay_req_t *pr);

struct ngx_evbill_pay_req_s {
    ngx_evbill_wreq_t         *w;
    ngx_evbill_pay_next_pt     next;          /* after a result is stored */
    evb_pay_t                  pay;
    evb_call_action_e          sent;
    unsigned                   waiting:1;     /* a subrequest is out */
    unsigned                   reconcile:1;
    unsigned                   retrieved:1;   /* reconcile: this item */

    /* reconcile */
    evb_str_t                 *ids;
    size_t                     nids;
    size_t                     i;
    evb_buf_t                  out;
    ngx_uint_t                 nout;
};


static void ngx_evbill_pay_create_done(ngx_evbill_wreq_t *w);
static void ngx_evbill_pay_result_done(ngx_evbill_wreq_t *w);
static void ngx_evbill_pay_answer(ngx_http_request_t *r,
    ngx_evbill_pay_req_t *pr);
static void ngx_evbill_reconcile_step(ngx_http_request_t *r,
    ngx_evbill_pay_req_t *pr);
static void ngx_evbill_reconcile_next(ngx_http_request_t *r,
    ngx_evbill_pay_req_t *pr);


/* configuration */

static ngx_evbill_pay_conf_t *
ngx_evbill_pay_conf(ngx_conf_t *cf, ngx_evbill_main_conf_t *mcf)
{
    if (mcf->pay == NULL) {
        mcf->pay = ngx_pcalloc(cf->pool, sizeof(ngx_evbill_pay_conf_t));
        if (mcf->pay == NULL) {
            return NULL;
        }

        mcf->pay->file = cf->conf_file->file.name.data;
        mcf->pay->line = cf->conf_file->line;
    }

    return mcf->pay;
}


char *
ngx_evbill_payment_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    u_char                 *p;
    ngx_str_t              *value;
    ngx_evbill_pay_conf_t  *pc;

    pc = ngx_evbill_pay_conf(cf, mcf);
    if (pc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (pc->location.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        return "must name a location, starting with \"/\"";
    }

    /* the calls' paths go below it: "/gw" and "/gw/" both work */
    p = ngx_pnalloc(cf->pool, value[1].len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    pc->location.data = p;
    p = ngx_cpymem(p, value[1].data, value[1].len);

    if (value[1].data[value[1].len - 1] != '/') {
        *p++ = '/';
    }

    pc->location.len = p - pc->location.data;

    return NGX_CONF_OK;
}


/* a secret from a file (never nginx.conf, which nginx -T prints) */
static char *
ngx_evbill_pay_secret(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *out)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;
    u_char          *text;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > NGX_EVBILL_PAY_FILE_MAX)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "evbill: \"%V\" cannot be read or is larger "
                           "than 4k", name);
        return NGX_CONF_ERROR;
    }

    text = ngx_pnalloc(cf->pool, (size_t) ngx_file_size(&fi) + 1);
    if (text == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, text, (size_t) ngx_file_size(&fi));
    ngx_close_file(fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "evbill: \"%V\" cannot be read", name);
        return NGX_CONF_ERROR;
    }

    /* one line: a trailing newline is not part of the secret */
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'
                     || text[n - 1] == ' ' || text[n - 1] == '\t'))
    {
        n--;
    }

    if (n == 0 || ngx_strlchr(text, text + n, '\n') != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "evbill: \"%V\" must hold one line, the secret",
                           name);
        return NGX_CONF_ERROR;
    }

    out->data = text;
    out->len = n;

    return NGX_CONF_OK;
}


char *
ngx_evbill_payment_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    ngx_str_t              *value;
    ngx_evbill_pay_conf_t  *pc;

    pc = ngx_evbill_pay_conf(cf, mcf);
    if (pc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (pc->key.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_evbill_pay_secret(cf, &value[1], &pc->key);
}


char *
ngx_evbill_payment_webhook_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    ngx_str_t              *value;
    ngx_evbill_pay_conf_t  *pc;

    pc = ngx_evbill_pay_conf(cf, mcf);
    if (pc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (pc->secret.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_evbill_pay_secret(cf, &value[1], &pc->secret);
}


/* evbill_payment_hold 50.00 EUR; one per currency */
char *
ngx_evbill_payment_hold(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    int                     exp;
    int64_t                 micro, minor;
    ngx_uint_t              i;
    ngx_str_t              *value;
    evb_pay_hold_t         *h;
    ngx_evbill_pay_conf_t  *pc;

    pc = ngx_evbill_pay_conf(cf, mcf);
    if (pc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (pc->holds == NULL) {
        pc->holds = ngx_array_create(cf->pool, 4, sizeof(evb_pay_hold_t));
        if (pc->holds == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    exp = evb_currency_exponent((char *) value[2].data, value[2].len);
    if (value[2].len != 3 || exp < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not an ISO 4217 currency code",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    if (evb_decimal_parse((char *) value[1].data, value[1].len, 6, &micro)
        != 0 || micro <= 0 || evb_pay_to_minor(micro, exp, &minor) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid amount \"%V\": a positive amount with at "
                           "most %d decimals for %V", &value[1], exp,
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    h = pc->holds->elts;

    for (i = 0; i < pc->holds->nelts; i++) {
        if (ngx_strncmp(h[i].currency, value[2].data, 3) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a hold for %V is set already", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    h = ngx_array_push(pc->holds);
    if (h == NULL) {
        return NGX_CONF_ERROR;
    }

    h->amount = micro;
    ngx_memcpy(h->currency, value[2].data, 3);
    h->currency[3] = '\0';

    return NGX_CONF_OK;
}


char *
ngx_evbill_payment_webhook(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_loc_conf_t *lcf = conf;

    ngx_evbill_main_conf_t    *mcf;
    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->api) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    lcf->api = NGX_EVBILL_API_WEBHOOK;
    lcf->prefix = clcf->name;
    clcf->handler = ngx_evbill_webhook_handler;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_evbill_module);

    if (ngx_evbill_pay_conf(cf, mcf) == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->pay->webhook = 1;

    if (!mcf->apis) {
        mcf->api_file = cf->conf_file->file.name.data;
        mcf->api_line = cf->conf_file->line;
    }

    mcf->apis |= NGX_EVBILL_API_WEBHOOK;

    return NGX_CONF_OK;
}


/* what every payment directive needs of the others */
ngx_int_t
ngx_evbill_pay_postconf(ngx_conf_t *cf, ngx_evbill_main_conf_t *mcf)
{
    const char             *missing;
    ngx_evbill_pay_conf_t  *pc;

    pc = mcf->pay;
    if (pc == NULL) {
        return NGX_OK;
    }

    missing = NULL;

    if (pc->location.len == 0) {
        missing = "evbill_payment_gateway";

    } else if (pc->key.len == 0) {
        missing = "evbill_payment_key_file";

    } else if (pc->holds == NULL) {
        missing = "evbill_payment_hold";

    } else if (pc->secret.len == 0) {
        missing = "evbill_payment_webhook_secret_file";

    } else if (mcf->seller_file.len == 0) {
        /* a capture is the invoice's total */
        missing = "evbill_seller_file";
    }

    if (missing) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"%s\" is required by the payment directives in "
                      "%s:%ui", missing, pc->file, pc->line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* rendering */

static void
ngx_evbill_pay_amount(evb_buf_t *b, const char *currency, int64_t minor)
{
    int  exp;

    exp = evb_currency_exponent(currency, 3);
    if (exp < 0) {
        exp = 0;
    }

    /* major units, as every other amount: 50.00 EUR, 5000 JPY */
    evb_buf_append_decimal(b, minor, (unsigned) exp, (unsigned) exp);
}


static void
ngx_evbill_pay_render_app(evb_buf_t *b, const evb_pay_t *p)
{
    evb_buf_appends(b, "{\"payment_id\":");
    evb_buf_append_json_str(b, p->payment_id.data, p->payment_id.len);
    evb_buf_appends(b, ",\"client_secret\":");
    evb_buf_append_json_str(b, p->client_secret.data, p->client_secret.len);
    evb_buf_appends(b, ",\"amount\":");
    ngx_evbill_pay_amount(b, p->currency, p->amount);
    evb_buf_appends(b, ",\"currency\":");
    evb_buf_append_json_str(b, p->currency, 3);
    evb_buf_appends(b, ",\"state\":");
    evb_buf_appends(b, "\"");
    evb_buf_appends(b, evb_pmt_state_name(p->state));
    evb_buf_appends(b, "\"}");
}


static void
ngx_evbill_pay_render_admin(evb_buf_t *b, const evb_pay_t *p)
{
    size_t  i;

    evb_buf_appends(b, "{\"payment_id\":");
    evb_buf_append_json_str(b, p->payment_id.data, p->payment_id.len);
    evb_buf_appends(b, ",\"state\":\"");
    evb_buf_appends(b, evb_pmt_state_name(p->state));
    evb_buf_appends(b, "\",\"currency\":");
    evb_buf_append_json_str(b, p->currency, 3);
    evb_buf_appends(b, ",\"amount_hold\":");
    ngx_evbill_pay_amount(b, p->currency, p->amount);
    evb_buf_appends(b, ",\"amount_authorized\":");
    ngx_evbill_pay_amount(b, p->currency,
                          p->state == EVB_PMT_CAPTURED ? p->captured
                                                       : p->capturable);
    evb_buf_appends(b, ",\"amount_captured\":");
    ngx_evbill_pay_amount(b, p->currency, p->captured);
    evb_buf_appends(b, ",\"charger_id\":");
    evb_buf_append_json_str(b, p->charger_id.data, p->charger_id.len);

    if (p->gw_id.len) {
        evb_buf_appends(b, ",\"gateway_id\":");
        evb_buf_append_json_str(b, p->gw_id.data, p->gw_id.len);
    }

    if (p->sid) {
        evb_buf_appends(b, ",\"session\":{\"charger_id\":");
        evb_buf_append_json_str(b, p->session_charger.data,
                                p->session_charger.len);
        evb_buf_appends(b, ",\"session_id\":");
        evb_buf_append_json_str(b, p->session_id.data, p->session_id.len);
        evb_buf_appends(b, "}");
    }

    if (p->invoice.len) {
        evb_buf_appends(b, ",\"invoice\":");
        evb_buf_append_json_str(b, p->invoice.data, p->invoice.len);
    }

    if (p->card_last4.len) {
        evb_buf_appends(b, ",\"card\":{\"brand\":");
        evb_buf_append_json_str(b, p->card_brand.data, p->card_brand.len);
        evb_buf_appends(b, ",\"last4\":");
        evb_buf_append_json_str(b, p->card_last4.data, p->card_last4.len);
        evb_buf_appends(b, "}");
    }

    if (p->paid_at) {
        evb_buf_appends(b, ",\"paid_at\":");
        evb_buf_append_json_time(b, p->paid_at);
    }

    if (p->call != EVB_CALL_NONE && p->call_state != EVB_CALL_DONE) {
        evb_buf_appends(b, ",\"pending_call\":{\"action\":\"");
        evb_buf_appends(b, evb_call_name(p->call));
        evb_buf_appends(b, p->call_state == EVB_CALL_UNKNOWN
                           ? "\",\"outcome\":\"unknown\""
                           : "\",\"outcome\":\"not sent\"");
        evb_buf_appends(b, ",\"attempts\":");
        evb_buf_append_u64(b, p->call_attempts);
        evb_buf_appends(b, ",\"first_at\":");
        evb_buf_append_json_time(b, p->call_first_at);
        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, ",\"created_at\":");
    evb_buf_append_json_time(b, p->created_at);
    evb_buf_appends(b, ",\"history\":[");

    for (i = 0; i < p->nhistory; i++) {
        evb_buf_appends(b, i ? ",{\"at\":" : "{\"at\":");
        evb_buf_append_json_time(b, p->history[i].at);
        evb_buf_appends(b, ",\"state\":\"");
        evb_buf_appends(b, evb_pmt_state_name(p->history[i].state));
        evb_buf_appends(b, "\",\"what\":");
        evb_buf_append_json_str(b, p->history[i].what.data,
                                p->history[i].what.len);
        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "]}");
}


/* gateway calls */

static ngx_int_t
ngx_evbill_gw_header(ngx_http_request_t *sr, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
    h->lowcase_key = ngx_pnalloc(sr->pool, h->key.len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


static ngx_int_t ngx_evbill_gw_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);


/*
 * Send the payment's stored call (or a retrieve): the stored body and
 * Idempotency-Key exactly, nothing of the client's request.
 */
static ngx_int_t
ngx_evbill_gw_send(ngx_http_request_t *r, ngx_evbill_pay_req_t *pr,
    evb_call_action_e action)
{
    u_char                      *p;
    ngx_str_t                    uri, v;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    evb_pay_t                   *pay;
    ngx_http_request_t          *sr;
    ngx_evbill_main_conf_t      *mcf;
    ngx_http_post_subrequest_t  *ps;
    static ngx_str_t             post = ngx_string("POST");
    static ngx_str_t             get = ngx_string("GET");
    static ngx_str_t             form =
        ngx_string("application/x-www-form-urlencoded");

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);
    pay = &pr->pay;

    uri.data = ngx_pnalloc(r->pool, mcf->pay->location.len
                           + sizeof("v1/payment_intents//capture")
                           + pay->gw_id.len);
    if (uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(uri.data, mcf->pay->location.data,
                   mcf->pay->location.len);
    p = ngx_cpymem(p, "v1/payment_intents", sizeof("v1/payment_intents") - 1);

    if (action != EVB_CALL_CREATE) {
        if (pay->gw_id.len == 0) {
            return NGX_DECLINED;
        }

        *p++ = '/';
        p = ngx_cpymem(p, pay->gw_id.data, pay->gw_id.len);

        if (action == EVB_CALL_CAPTURE) {
            p = ngx_cpymem(p, "/capture", sizeof("/capture") - 1);

        } else if (action == EVB_CALL_CANCEL) {
            p = ngx_cpymem(p, "/cancel", sizeof("/cancel") - 1);
        }
    }

    uri.len = p - uri.data;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_evbill_gw_done;
    ps->data = pr;

    if (ngx_http_subrequest(r, &uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the gateway sees our headers only, never the client's */
    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v.len = sizeof("Bearer ") - 1 + mcf->pay->key.len;
    v.data = ngx_pnalloc(r->pool, v.len);
    if (v.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(v.data, "Bearer ", sizeof("Bearer ") - 1),
               mcf->pay->key.data, mcf->pay->key.len);

    if (ngx_evbill_gw_header(sr, "Authorization", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    if (action == EVB_CALL_RETRIEVE) {
        sr->method = NGX_HTTP_GET;
        sr->method_name = get;
        sr->header_only = 0;

    } else {
        sr->method = NGX_HTTP_POST;
        sr->method_name = post;

        v.data = (u_char *) pay->call_key.data;
        v.len = pay->call_key.len;

        if (ngx_evbill_gw_header(sr, "Idempotency-Key", &v) != NGX_OK
            || ngx_evbill_gw_header(sr, "Content-Type", &form) != NGX_OK)
        {
            return NGX_ERROR;
        }

        sr->headers_in.content_length_n = 0;

        if (pay->call_body.len == 0) {
            /* a cancel: no body, no zero-size buffer */
            pr->sent = action;
            pr->waiting = 1;
            return NGX_OK;
        }

        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        /* exactly the stored body, on every retry */
        b->pos = (u_char *) pay->call_body.data;
        b->last = b->pos + pay->call_body.len;
        b->start = b->pos;
        b->end = b->last;
        b->memory = 1;
        b->last_buf = 1;

        cl->buf = b;
        cl->next = NULL;

        sr->request_body->bufs = cl;
        sr->headers_in.content_length_n = pay->call_body.len;
    }

    pr->sent = action;
    pr->waiting = 1;

    return NGX_OK;
}


/* the parent must not run its content phase again when a call ends */
static void
ngx_evbill_pay_wait(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "evbill payment: waiting");
}


static ngx_int_t
ngx_evbill_gw_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_evbill_pay_req_t *pr = data;

    ngx_uint_t              status;
    ngx_buf_t              *body;
    ngx_http_request_t     *r;
    evb_op_pay_result_t    *o;
    ngx_evbill_ctx_t       *ctx;
    ngx_evbill_main_conf_t *mcf;

    if (!pr->waiting) {
        return rc;
    }

    pr->waiting = 0;
    r = sr->parent;
    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    status = sr->headers_out.status;
    body = sr->out ? sr->out->buf : NULL;

    /* an error of nginx's (connect, TLS, timeout): no answer at all */
    if (rc == NGX_ERROR || (rc >= NGX_HTTP_SPECIAL_RESPONSE
                            && (status == 0 || status == (ngx_uint_t) rc)
                            && sr->upstream != NULL
                            && sr->upstream->state != NULL
                            && sr->upstream->state->status == 0))
    {
        status = 0;
    }

    if (sr->upstream == NULL || sr->upstream->state == NULL
        || sr->upstream->state->status == 0)
    {
        status = 0;
    }

    ngx_memzero(pr->w, sizeof(ngx_evbill_wreq_t));
    o = &pr->w->op.pay_result;
    evb_op_pay_result_init(o, ngx_evbill_now(), ctx->arena);
    o->payment_id = pr->pay.payment_id;
    o->action = pr->sent;
    o->status = status;

    if (status >= 200 && status < 300) {
        if (body == NULL
            || evb_pay_gw_parse(ctx->arena, (char *) body->pos,
                                body->last - body->pos, &o->pi) != 0)
        {
            o->outcome = EVB_GW_UNKNOWN;

        } else {
            o->outcome = EVB_GW_APPLIED;
        }

    } else if (status == 429 || status == 409) {
        /* busy, or the same key still in flight at the gateway */
        o->outcome = EVB_GW_RETRY;

    } else if (status >= 400 && status < 500) {
        o->outcome = EVB_GW_REFUSED;

    } else {
        o->outcome = EVB_GW_UNKNOWN;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "evbill: payment %*s: %s answered %ui",
                  pr->pay.payment_id.len, pr->pay.payment_id.data,
                  evb_call_name(pr->sent), status);

    pr->w->request = r;
    pr->w->done = ngx_evbill_pay_result_done;
    pr->w->data = pr;

    /* the request's count is still held for us by the first write */
    if (ngx_evbill_writer_submit(mcf, pr->w) != NGX_OK) {
        ngx_http_finalize_request(r,
            ngx_evbill_send_problem(r, EVB_P_QUEUE_FULL,
                                    "the gateway answered but the store "
                                    "could not take it; reconciliation "
                                    "will settle the payment"));
    }

    return rc;
}


static void
ngx_evbill_pay_result_done(ngx_evbill_wreq_t *w)
{
    ngx_http_request_t    *r;
    ngx_evbill_pay_req_t  *pr;

    r = w->request;
    pr = w->data;

    if (evb_op_problem(&w->op.op) != EVB_OK) {
        ngx_http_finalize_request(r,
            ngx_evbill_send_problem(r, evb_op_problem(&w->op.op),
                                    evb_op_detail(&w->op.op)));
        return;
    }

    pr->pay = w->op.pay_result.pay;
    pr->next(r, pr);
}


/* POST payments (public) */

ngx_int_t
ngx_evbill_pay_post(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    size_t                  i;
    evb_json_t             *root, *v;
    evb_problem_e           p;
    ngx_str_t               key;
    ngx_evbill_wreq_t      *w;
    ngx_evbill_pay_req_t   *pr;
    evb_op_pay_create_t    *o;
    ngx_evbill_main_conf_t *mcf;
    char                    detail[256];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (mcf->pay == NULL) {
        return ngx_evbill_send_problem(r, EVB_P_PAY_UNAVAILABLE,
                                       "payments are not configured");
    }

    if (ngx_evbill_header(r, "Idempotency-Key",
                          sizeof("Idempotency-Key") - 1, &key) == NULL
        || key.len == 0)
    {
        return ngx_evbill_send_problem(r, EVB_P_IDEM_KEY_MISSING,
                                       "POST payments needs an "
                                       "Idempotency-Key header, so that a "
                                       "retry never places a second hold");
    }

    if (key.len > 255) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE,
                                       "the Idempotency-Key must be 1 to "
                                       "255 printable ASCII characters");
    }

    for (i = 0; i < key.len; i++) {
        if (key.data[i] < 0x21 || key.data[i] > 0x7e) {
            return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE,
                                           "the Idempotency-Key must be 1 "
                                           "to 255 printable ASCII "
                                           "characters");
        }
    }

    if (!ngx_evbill_is_json(r)) {
        return ngx_evbill_send_problem(r, EVB_P_UNSUPPORTED_MEDIA,
                                       "the body must be JSON with "
                                       "Content-Type: application/json");
    }

    p = ngx_evbill_parse_json(ctx, &root, detail, sizeof(detail));
    if (p != EVB_OK) {
        return ngx_evbill_send_problem(r, p, detail);
    }

    if (root->type != EVB_JSON_OBJECT) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_TYPE,
                                       "the body must be an object");
    }

    v = evb_json_get(root, "charger_id");
    if (v == NULL) {
        return ngx_evbill_send_problem(r, EVB_P_MISSING_FIELD,
                                       "charger_id is required");
    }

    if (v->type != EVB_JSON_STRING) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_TYPE,
                                       "charger_id must be a string");
    }

    if (!evb_id_valid(v->u.str.data, v->u.str.len)) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE,
                                       "charger_id must be 1 to 64 "
                                       "printable ASCII characters");
    }

    if (root->u.obj.n != 1) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE,
                                       "only charger_id is accepted: card "
                                       "data goes to the gateway's own "
                                       "page, never here");
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    pr = ngx_pcalloc(r->pool, sizeof(ngx_evbill_pay_req_t));
    if (w == NULL || pr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pr->w = w;
    pr->next = ngx_evbill_pay_answer;
    w->data = pr;

    o = &w->op.pay_create;
    evb_op_pay_create_init(o, ngx_evbill_now(), ctx->arena);
    o->idem_key.data = (char *) key.data;
    o->idem_key.len = key.len;
    o->charger_id = v->u.str;
    o->holds = mcf->pay->holds->elts;
    o->nholds = mcf->pay->holds->nelts;

    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_pay_create_done);
}


static void
ngx_evbill_pay_create_done(ngx_evbill_wreq_t *w)
{
    ngx_int_t              rc;
    ngx_http_request_t    *r;
    ngx_evbill_pay_req_t  *pr;

    r = w->request;
    pr = w->data;

    if (evb_op_problem(&w->op.op) != EVB_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "evbill: payment refused (%s)",
                      evb_problem_info(evb_op_problem(&w->op.op))->name);
        ngx_http_finalize_request(r,
            ngx_evbill_send_problem(r, evb_op_problem(&w->op.op),
                                    evb_op_detail(&w->op.op)));
        return;
    }

    pr->pay = w->op.pay_create.pay;

    /* the create still to make (or to retry, same key and body) */
    if (pr->pay.call == EVB_CALL_CREATE
        && pr->pay.call_state != EVB_CALL_DONE
        && ngx_evbill_now() - pr->pay.call_first_at < EVB_PAY_KEY_TTL)
    {
        rc = ngx_evbill_gw_send(r, pr, EVB_CALL_CREATE);

        if (rc == NGX_OK) {
            r->write_event_handler = ngx_evbill_pay_wait;
            return;
        }

        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_evbill_pay_answer(r, pr);
}


static void
ngx_evbill_pay_answer(ngx_http_request_t *r, ngx_evbill_pay_req_t *pr)
{
    evb_buf_t   b;
    evb_pay_t  *p;

    p = &pr->pay;

    if (p->state == EVB_PMT_FAILED) {
        ngx_http_finalize_request(r,
            ngx_evbill_send_problem(r, EVB_P_GATEWAY_ERROR,
                                    "the gateway refused the payment"));
        return;
    }

    if (p->client_secret.len == 0) {
        /* no answer from the gateway: the same key settles it */
        ngx_http_finalize_request(r,
            ngx_evbill_send_problem(r, EVB_P_GATEWAY_TIMEOUT,
                                    "the gateway did not answer; retry "
                                    "with the same Idempotency-Key"));
        return;
    }

    evb_buf_init(&b);
    ngx_evbill_pay_render_app(&b, p);

    ngx_http_finalize_request(r, ngx_evbill_send_json(r, NGX_HTTP_CREATED,
                                                      &b));
}


/* PUT chargers: "payment_hold": {"amount", "currency"}, or null/absent */
ngx_int_t
ngx_evbill_pay_charger_hold(evb_json_t *root, evb_op_put_charger_t *o,
    char *detail, size_t len)
{
    evb_json_t  *v;

    v = evb_json_get(root, "payment_hold");

    if (v == NULL || v->type == EVB_JSON_NULL) {
        o->has_hold = 0;
        return NGX_OK;
    }

    if (evb_pay_hold_parse(v, &o->hold, detail, len) != 0) {
        return NGX_ERROR;
    }

    o->has_hold = 1;

    return NGX_OK;
}


/* GET chargers: the charger's own hold, if it has one, as PUT gave it */
void
ngx_evbill_pay_render_charger_hold(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, evb_buf_t *b)
{
    int                      exp;
    long long                micro;
    evb_str_t                text;
    ngx_evbill_main_conf_t  *mcf;
    char                     buf[48], cur[4];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (b->oom || b->len == 0 || b->data[b->len - 1] != '}'
        || evb_store_pay_link(mcf->store, ctx->arena, 'H', ctx->id1, &text)
           != EVB_OK
        || text.len >= sizeof(buf))
    {
        return;
    }

    ngx_memcpy(buf, text.data, text.len);
    buf[text.len] = '\0';

    if (sscanf(buf, "%lld %3s", &micro, cur) != 2
        || (exp = evb_currency_exponent(cur, 3)) < 0)
    {
        return;
    }

    b->len--;
    evb_buf_appends(b, ",\"payment_hold\":{\"amount\":");
    evb_buf_append_decimal(b, (int64_t) micro, 6, (unsigned) exp);
    evb_buf_appends(b, ",\"currency\":");
    evb_buf_append_json_str(b, cur, 3);
    evb_buf_appends(b, "}}");
}


/* what an invoice's status shows of its card payment */
void
ngx_evbill_pay_invoice_status(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    const evb_invoice_t *doc, evb_invoice_status_t *st)
{
    int                      exp;
    int64_t                  micro;
    evb_str_t                id, rec;
    evb_pay_t                p;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (mcf->pay == NULL
        || evb_store_pay_link(mcf->store, ctx->arena, 'I', doc->number, &id)
           != EVB_OK
        || evb_store_pay_get(mcf->store, ctx->arena, id, &rec) != EVB_OK
        || evb_pay_decode(ctx->arena, rec.data, rec.len, &p) != 0
        || p.state != EVB_PMT_CAPTURED)
    {
        return;
    }

    exp = evb_currency_exponent(p.currency, 3);
    if (exp < 0 || evb_pay_from_minor(p.captured, exp, &micro) != 0) {
        return;
    }

    st->paid = micro;
    st->paid_at = p.paid_at;
    st->card_brand = p.card_brand;
    st->card_last4 = p.card_last4;

    if (st->state == EVB_PAY_DUE && st->paid >= doc->payable) {
        st->state = EVB_PAY_PAID;
    }
}


/* admin GET payments/{payment_id} */

ngx_int_t
ngx_evbill_admin_payment(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    evb_buf_t                b;
    evb_str_t                rec;
    evb_pay_t                p;
    evb_problem_e            pb;
    ngx_evbill_main_conf_t  *mcf;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    pb = evb_store_pay_get(mcf->store, ctx->arena, ctx->id1, &rec);
    if (pb != EVB_OK) {
        return ngx_evbill_send_problem(r, pb, pb == EVB_P_UNKNOWN_PAYMENT
                                       ? "no such payment" : "the store "
                                       "could not be read");
    }

    if (evb_pay_decode(ctx->arena, rec.data, rec.len, &p) != 0) {
        return ngx_evbill_send_problem(r, EVB_P_INTERNAL, "the payment's "
                                       "record does not decode");
    }

    evb_buf_init(&b);
    ngx_evbill_pay_render_admin(&b, &p);

    return ngx_evbill_send_json(r, NGX_HTTP_OK, &b);
}


/* admin POST payments/reconcile: run the outbox */

ngx_int_t
ngx_evbill_admin_reconcile(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    evb_str_t                after;
    evb_problem_e            pb;
    ngx_evbill_pay_req_t    *pr;
    ngx_evbill_main_conf_t  *mcf;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (mcf->pay == NULL) {
        return ngx_evbill_send_problem(r, EVB_P_PAY_UNAVAILABLE,
                                       "payments are not configured");
    }

    pr = ngx_pcalloc(r->pool, sizeof(ngx_evbill_pay_req_t));
    if (pr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pr->w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (pr->w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pr->reconcile = 1;
    pr->next = ngx_evbill_reconcile_next;

    after.data = NULL;
    after.len = 0;

    /* a bounded run: the timer calls again for the rest */
    pb = evb_store_pay_outbox(mcf->store, ctx->arena, after,
                              NGX_EVBILL_RECONCILE_MAX, &pr->ids, &pr->nids);
    if (pb != EVB_OK) {
        return ngx_evbill_send_problem(r, pb, "the outbox could not be "
                                       "read");
    }

    evb_buf_init(&pr->out);
    evb_buf_appends(&pr->out, "{\"payments\":[");

    /* held until the last answer, as a write's would be */
    r->main->count++;
    r->write_event_handler = ngx_evbill_pay_wait;

    ngx_evbill_reconcile_step(r, pr);

    return NGX_DONE;
}


static void
ngx_evbill_reconcile_emit(ngx_evbill_pay_req_t *pr)
{
    evb_pay_t  *p;

    p = &pr->pay;

    evb_buf_appends(&pr->out, pr->nout ? ",{\"payment_id\":"
                                       : "{\"payment_id\":");
    evb_buf_append_json_str(&pr->out, p->payment_id.data,
                            p->payment_id.len);
    evb_buf_appends(&pr->out, ",\"state\":\"");
    evb_buf_appends(&pr->out, evb_pmt_state_name(p->state));
    evb_buf_appends(&pr->out, "\"}");
    pr->nout++;
}


/* the next item of the outbox, or the answer */
static void
ngx_evbill_reconcile_step(ngx_http_request_t *r, ngx_evbill_pay_req_t *pr)
{
    ngx_int_t                rc;
    evb_str_t                rec;
    evb_problem_e            pb;
    evb_msec_t               age;
    evb_call_action_e        action;
    ngx_evbill_ctx_t        *ctx;
    evb_op_pay_result_t     *o;
    ngx_evbill_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_evbill_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    while (pr->i < pr->nids) {
        pb = evb_store_pay_get(mcf->store, ctx->arena, pr->ids[pr->i], &rec);
        pr->i++;
        pr->retrieved = 0;

        if (pb != EVB_OK
            || evb_pay_decode(ctx->arena, rec.data, rec.len, &pr->pay) != 0
            || pr->pay.call == EVB_CALL_NONE
            || pr->pay.call_state == EVB_CALL_DONE)
        {
            continue;
        }

        age = ngx_evbill_now() - pr->pay.call_first_at;

        /* an unknown outcome is looked up first; after 24 h the key is
         * gone at the gateway and the action is never sent again */
        if (pr->pay.call == EVB_CALL_RETRIEVE
            || ((pr->pay.call_state == EVB_CALL_UNKNOWN
                 || age >= EVB_PAY_KEY_TTL)
                && pr->pay.gw_id.len > 0))
        {
            action = EVB_CALL_RETRIEVE;
            pr->retrieved = 1;

        } else if (age >= EVB_PAY_KEY_TTL) {
            /* a create never confirmed, its key gone: given up */
            ngx_memzero(pr->w, sizeof(ngx_evbill_wreq_t));
            o = &pr->w->op.pay_result;
            evb_op_pay_result_init(o, ngx_evbill_now(), ctx->arena);
            o->payment_id = pr->pay.payment_id;
            o->action = pr->pay.call;
            o->outcome = EVB_GW_EXPIRED;
            pr->w->request = r;
            pr->w->done = ngx_evbill_pay_result_done;
            pr->w->data = pr;

            if (ngx_evbill_writer_submit(mcf, pr->w) == NGX_OK) {
                return;
            }

            continue;

        } else {
            action = pr->pay.call;
        }

        rc = ngx_evbill_gw_send(r, pr, action);
        if (rc == NGX_OK) {
            return;
        }

        if (rc == NGX_ERROR) {
            break;
        }
    }

    evb_buf_appends(&pr->out, "]}");
    ngx_http_finalize_request(r, ngx_evbill_send_json(r, NGX_HTTP_OK,
                                                      &pr->out));
}


static void
ngx_evbill_reconcile_next(ngx_http_request_t *r, ngx_evbill_pay_req_t *pr)
{
    ngx_int_t  rc;

    /* a retrieve that shows the action not applied: send it now (same
     * key, same body) unless the key has expired */
    if (pr->retrieved && pr->pay.call != EVB_CALL_NONE
        && pr->pay.call != EVB_CALL_RETRIEVE
        && pr->pay.call_state == EVB_CALL_PENDING
        && ngx_evbill_now() - pr->pay.call_first_at < EVB_PAY_KEY_TTL)
    {
        pr->retrieved = 0;

        rc = ngx_evbill_gw_send(r, pr, pr->pay.call);
        if (rc == NGX_OK) {
            return;
        }
    }

    ngx_evbill_reconcile_emit(pr);
    ngx_evbill_reconcile_step(r, pr);
}


/* the webhook location */

static void ngx_evbill_webhook_done(ngx_evbill_wreq_t *w);

static ngx_int_t
ngx_evbill_webhook_body(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx)
{
    int                      vrc;
    ngx_str_t                sig;
    ngx_evbill_wreq_t       *w;
    evb_op_pay_event_t      *o;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_evbill_header(r, "Stripe-Signature",
                          sizeof("Stripe-Signature") - 1, &sig) == NULL)
    {
        sig.len = 0;
        sig.data = NULL;
    }

    /* the raw bytes as they came: no unsigned fallback, ever */
    vrc = sig.len == 0 ? -1
          : evb_pay_sig_verify(mcf->pay->secret.data, mcf->pay->secret.len,
                               (char *) sig.data, sig.len, ctx->body.data
                               ? (char *) ctx->body.data : "",
                               ctx->body.len, (int64_t) ngx_time(),
                               NGX_EVBILL_WEBHOOK_TOLERANCE);

    if (vrc != 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "evbill: webhook refused: %s",
                      vrc == -2 ? "timestamp outside the 300 s tolerance"
                      : vrc == -3 ? "no signature matches"
                      : "no or a malformed Stripe-Signature");
        return ngx_evbill_send_problem(r, EVB_P_WEBHOOK_SIGNATURE,
                                       vrc == -2
                                       ? "the signature's timestamp is "
                                         "outside the tolerance"
                                       : "the Stripe-Signature does not "
                                         "verify");
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_evbill_wreq_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o = &w->op.pay_event;
    evb_op_pay_event_init(o, ngx_evbill_now(), ctx->arena);

    if (evb_pay_event_parse(ctx->arena, (char *) ctx->body.data,
                            ctx->body.len, &o->event) != 0)
    {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE,
                                       "not an event this endpoint "
                                       "understands");
    }

    return ngx_evbill_writer_queue(r, ctx, w, ngx_evbill_webhook_done);
}


static void
ngx_evbill_webhook_done(ngx_evbill_wreq_t *w)
{
    evb_buf_t            b;
    ngx_http_request_t  *r;

    r = w->request;

    if (evb_op_problem(&w->op.op) != EVB_OK) {
        ngx_http_finalize_request(r,
            ngx_evbill_send_problem(r, evb_op_problem(&w->op.op),
                                    evb_op_detail(&w->op.op)));
        return;
    }

    evb_buf_init(&b);
    evb_buf_appends(&b, w->op.pay_event.duplicate
                        ? "{\"received\":true,\"duplicate\":true}"
                        : "{\"received\":true,\"duplicate\":false}");

    ngx_http_finalize_request(r, ngx_evbill_send_json(r, NGX_HTTP_OK, &b));
}


ngx_int_t
ngx_evbill_webhook_handler(ngx_http_request_t *r)
{
    ngx_evbill_ctx_t  *ctx;

    ctx = ngx_evbill_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_evbill_send_405(r, "POST");
    }

    return ngx_evbill_read_body(r, ctx, ngx_evbill_webhook_body);
}
