
/*
 * Charger request authentication: RFC 9421 HTTP Message Signatures with
 * hmac-sha256 over an RFC 9530 Content-Digest.
 *
 * Every check that does not depend on the key (profile, time window,
 * digest) runs before the key is looked up, and an unknown key answers
 * exactly like a wrong MAC, so key ids cannot be probed.  The error log
 * at info says exactly why a request was refused.
 */


#include "ngx_evbill.h"

#include <openssl/crypto.h>


typedef struct {
    ngx_http_request_t     *request;
    ngx_evbill_loc_conf_t  *lcf;
    ngx_str_t               scheme;
    ngx_str_t               authority;
} ngx_evbill_sig_req_t;


static ngx_int_t ngx_evbill_sig_origin(ngx_evbill_sig_req_t *sr);
static int ngx_evbill_sig_resolve(void *data, const char *name, size_t len,
    evb_str_t *value);
static evb_problem_e ngx_evbill_sig_problem(evb_sig_err_e e);
#if (NGX_DEBUG)
static void ngx_evbill_sig_log_base(ngx_http_request_t *r, evb_buf_t *base);
#endif


evb_problem_e
ngx_evbill_verify_request(ngx_http_request_t *r, ngx_evbill_loc_conf_t *lcf,
    ngx_evbill_ctx_t *ctx, char *detail, size_t len)
{
    long                     secret_len;
    size_t                   i, nsigs, first_ok;
    evb_sig_t               *sigs, *sig;
    evb_buf_t                base;
    evb_str_t                input, value, cd;
    ngx_str_t                h;
    evb_sig_err_e            e, first_err;
    evb_problem_e            p;
    evb_key_record_t         key;
    evb_digest_err_e         de;
    ngx_evbill_sig_req_t     sr;
    ngx_evbill_main_conf_t  *mcf;
    unsigned char            secret[EVB_SECRET_MAX];
    char                     err[256];

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    if (ngx_evbill_header(r, "signature-input", 15, &h) == NULL) {
        ngx_snprintf((u_char *) detail, len, "the request has no "
                     "Signature-Input header; sign it with RFC 9421 "
                     "(hmac-sha256)%Z");
        return EVB_P_SIG_MISSING;
    }

    input.data = (char *) h.data;
    input.len = h.len;

    if (ngx_evbill_header(r, "signature", 9, &h) == NULL) {
        ngx_snprintf((u_char *) detail, len, "the request has no "
                     "Signature header; sign it with RFC 9421 "
                     "(hmac-sha256)%Z");
        return EVB_P_SIG_MISSING;
    }

    value.data = (char *) h.data;
    value.len = h.len;

    e = evb_sig_parse(ctx->arena, input, value, &sigs, &nsigs, detail, len);
    if (e != EVB_SIG_OK) {
        return ngx_evbill_sig_problem(e);
    }

    if (nsigs == 0) {
        ngx_snprintf((u_char *) detail, len, "Signature-Input holds no "
                     "signature%Z");
        return EVB_P_SIG_MALFORMED;
    }

    /* key-independent checks first: the first signature that passes
     * them is a candidate; if none does, report the first one's fault */

    first_err = EVB_SIG_OK;
    first_ok = nsigs;

    for (i = 0; i < nsigs; i++) {
        e = evb_sig_check_profile(&sigs[i], err, sizeof(err));

        if (e == EVB_SIG_OK) {
            e = evb_sig_check_time(&sigs[i], ngx_time(), lcf->sig_window,
                                   err, sizeof(err));
        }

        if (e == EVB_SIG_OK) {
            if (first_ok == nsigs) {
                first_ok = i;
            }

            continue;
        }

        if (first_err == EVB_SIG_OK) {
            first_err = e;
            ngx_cpystrn((u_char *) detail, (u_char *) err, len);
        }
    }

    if (first_ok == nsigs) {
        return ngx_evbill_sig_problem(first_err);
    }

    if (ngx_evbill_header(r, "content-digest", 14, &h) == NULL) {
        ngx_snprintf((u_char *) detail, len, "the request has no "
                     "Content-Digest header (RFC 9530, sha-256)%Z");
        return EVB_P_DIGEST_MISSING;
    }

    cd.data = (char *) h.data;
    cd.len = h.len;

    de = evb_digest_verify(cd, ctx->body.data, ctx->body.len);

    switch (de) {

    case EVB_DIGEST_OK:
        break;

    case EVB_DIGEST_EMISSING:
        ngx_snprintf((u_char *) detail, len, "Content-Digest carries "
                     "neither sha-256 nor sha-512%Z");
        return EVB_P_DIGEST_MISSING;

    case EVB_DIGEST_EMALFORMED:
        ngx_snprintf((u_char *) detail, len, "Content-Digest is not a "
                     "valid RFC 9530 dictionary of byte sequences%Z");
        return EVB_P_DIGEST_MALFORMED;

    default:
        ngx_snprintf((u_char *) detail, len, "Content-Digest does not "
                     "match the body that arrived%Z");
        return EVB_P_DIGEST_MISMATCH;
    }

    sr.request = r;
    sr.lcf = lcf;

    if (ngx_evbill_sig_origin(&sr) != NGX_OK) {
        ngx_snprintf((u_char *) detail, len, "the request has no Host "
                     "to rebuild the target from%Z");
        return EVB_P_SIG_COMPONENT;
    }

    /* the first candidate whose key id is known decides the charger;
     * its base is built before the key is looked up, so a component
     * missing from the request is reported whether the key exists or not */

    sig = NULL;
    evb_buf_init(&base);

    for (i = first_ok; i < nsigs; i++) {
        if (i != first_ok
            && (evb_sig_check_profile(&sigs[i], err, sizeof(err))
                != EVB_SIG_OK
                || evb_sig_check_time(&sigs[i], ngx_time(), lcf->sig_window,
                                      err, sizeof(err))
                   != EVB_SIG_OK))
        {
            continue;
        }

        evb_buf_reset(&base);

        e = evb_sig_base(&base, &sigs[i], ngx_evbill_sig_resolve, &sr, err,
                         sizeof(err));

        if (e == EVB_SIG_OK && base.oom) {
            e = EVB_SIG_ENOMEM;
        }

        if (e != EVB_SIG_OK) {
            if (i != first_ok && e != EVB_SIG_ENOMEM) {
                continue;
            }

            evb_buf_free(&base);
            ngx_cpystrn((u_char *) detail, (u_char *) err, len);
            return ngx_evbill_sig_problem(e);
        }

        p = evb_store_find_key(mcf->store, ctx->arena, sigs[i].keyid, &key);

        if (p == EVB_OK) {
            sig = &sigs[i];
            break;
        }

        if (p != EVB_P_UNKNOWN_KEY) {
            evb_buf_free(&base);
            ngx_snprintf((u_char *) detail, len, "the key store could "
                         "not be read; retry later%Z");
            return p;
        }
    }

    if (sig == NULL) {
        evb_buf_free(&base);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "evbill: charger request refused (signature-invalid): "
                      "no known active key id among %uz signature(s) "
                      "(first keyid \"%*s\")",
                      nsigs, sigs[first_ok].keyid.len,
                      sigs[first_ok].keyid.data);
        goto invalid;
    }

    secret_len = evb_open(mcf->master_key, (unsigned char *) key.sealed.data,
                          key.sealed.len, key.key_id.data, key.key_id.len,
                          secret);

    if (secret_len < 0) {
        evb_buf_free(&base);
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "evbill: the secret of key \"%*s\" does not decrypt "
                      "under the master key", key.key_id.len,
                      key.key_id.data);
        goto invalid;
    }

    e = evb_sig_verify_hmac(sig, secret, (size_t) secret_len, base.data,
                            base.len);

    OPENSSL_cleanse(secret, sizeof(secret));

    if (e != EVB_SIG_OK) {
        /* one line per refusal; the base (what the charger should have
         * signed) only for debugging, its line breaks escaped */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "evbill: charger request refused (signature-invalid): "
                      "MAC mismatch for key id \"%*s\" (charger \"%*s\")",
                      key.key_id.len, key.key_id.data, key.charger_id.len,
                      key.charger_id.data);
#if (NGX_DEBUG)
        ngx_evbill_sig_log_base(r, &base);
#endif
        evb_buf_free(&base);
        goto invalid;
    }

    evb_buf_free(&base);

    ctx->charger_id = key.charger_id;

    return EVB_OK;

invalid:

    ctx->refusal_logged = 1;

    /* the same words for an unknown key and a wrong MAC */
    ngx_snprintf((u_char *) detail, len, "the signature does not verify "
                 "with a known key%Z");

    return EVB_P_SIG_INVALID;
}


static ngx_int_t
ngx_evbill_sig_origin(ngx_evbill_sig_req_t *sr)
{
    u_char              *p, *colon;
    size_t               n;
    ngx_http_request_t  *r;

    r = sr->request;

    if (sr->lcf->sig_origin.len) {
        sr->scheme = sr->lcf->sig_scheme;
        sr->authority = sr->lcf->sig_authority;
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&sr->scheme, "https");
    } else
#endif
    {
        ngx_str_set(&sr->scheme, "http");
    }

    if (r->headers_in.host == NULL) {
        return NGX_ERROR;
    }

    n = r->headers_in.host->value.len;

    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(p, r->headers_in.host->value.data, n);

    /* RFC 9421 2.2.3: the default port of the scheme is left out */
    colon = ngx_strlchr(p, p + n, ']');
    colon = ngx_strlchr(colon ? colon : p, p + n, ':');

    if (colon) {
        if ((sr->scheme.len == 4 && p + n - colon == 3
             && ngx_strncmp(colon, ":80", 3) == 0)
            || (sr->scheme.len == 5 && p + n - colon == 4
                && ngx_strncmp(colon, ":443", 4) == 0))
        {
            n = colon - p;
        }
    }

    sr->authority.data = p;
    sr->authority.len = n;

    return NGX_OK;
}


static int
ngx_evbill_sig_resolve(void *data, const char *name, size_t len,
    evb_str_t *value)
{
    u_char                *p, *q, *last;
    ngx_str_t              h;
    ngx_http_request_t    *r;
    ngx_evbill_sig_req_t  *sr;

    sr = data;
    r = sr->request;

#define evb_is(s)  (len == sizeof(s) - 1 && ngx_strncmp(name, s, len) == 0)

    if (len && name[0] == '@') {

        q = ngx_strlchr(r->unparsed_uri.data,
                        r->unparsed_uri.data + r->unparsed_uri.len, '?');

        if (evb_is("@method")) {
            value->data = (char *) r->method_name.data;
            value->len = r->method_name.len;
            return 0;
        }

        if (evb_is("@scheme")) {
            value->data = (char *) sr->scheme.data;
            value->len = sr->scheme.len;
            return 0;
        }

        if (evb_is("@authority")) {
            value->data = (char *) sr->authority.data;
            value->len = sr->authority.len;
            return 0;
        }

        if (evb_is("@request-target")) {
            value->data = (char *) r->unparsed_uri.data;
            value->len = r->unparsed_uri.len;
            return 0;
        }

        if (evb_is("@path")) {
            value->data = (char *) r->unparsed_uri.data;
            value->len = q ? (size_t) (q - r->unparsed_uri.data)
                           : r->unparsed_uri.len;
            return 0;
        }

        if (evb_is("@query")) {
            if (q) {
                value->data = (char *) q;
                value->len = r->unparsed_uri.data + r->unparsed_uri.len - q;

            } else {
                value->data = "?";
                value->len = 1;
            }

            return 0;
        }

        if (evb_is("@target-uri")) {
            p = ngx_pnalloc(r->pool, sr->scheme.len + 3 + sr->authority.len
                                     + r->unparsed_uri.len);
            if (p == NULL) {
                return -1;
            }

            value->data = (char *) p;
            p = ngx_cpymem(p, sr->scheme.data, sr->scheme.len);
            p = ngx_cpymem(p, "://", 3);
            p = ngx_cpymem(p, sr->authority.data, sr->authority.len);
            p = ngx_cpymem(p, r->unparsed_uri.data, r->unparsed_uri.len);
            value->len = p - (u_char *) value->data;
            return 0;
        }

        /* @status is for responses, @query-param needs a parameter */
        return -1;
    }

#undef evb_is

    if (ngx_evbill_header(r, name, len, &h) == NULL) {
        return -1;
    }

    /* RFC 9421 2.1: leading and trailing whitespace is removed */
    p = h.data;
    last = h.data + h.len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    value->data = (char *) p;
    value->len = last - p;

    return 0;
}


static evb_problem_e
ngx_evbill_sig_problem(evb_sig_err_e e)
{
    switch (e) {

    case EVB_SIG_EMISSING:
        return EVB_P_SIG_MISSING;

    case EVB_SIG_EMALFORMED:
        return EVB_P_SIG_MALFORMED;

    case EVB_SIG_EINCOMPLETE:
        return EVB_P_SIG_INCOMPLETE;

    case EVB_SIG_EALG:
        return EVB_P_SIG_ALGORITHM;

    case EVB_SIG_ECOMPONENT:
        return EVB_P_SIG_COMPONENT;

    case EVB_SIG_ETIME:
        return EVB_P_SIG_TIME;

    case EVB_SIG_EINVALID:
        return EVB_P_SIG_INVALID;

    default:
        return EVB_P_INTERNAL;
    }
}


#if (NGX_DEBUG)

/* The signature base on one debug line, "\n" for each line break. */

static void
ngx_evbill_sig_log_base(ngx_http_request_t *r, evb_buf_t *base)
{
    u_char  *p, *q;
    size_t   i;

    if (!(r->connection->log->log_level & NGX_LOG_DEBUG_HTTP)) {
        return;
    }

    p = ngx_pnalloc(r->pool, 2 * base->len + 1);
    if (p == NULL) {
        return;
    }

    q = p;

    for (i = 0; i < base->len; i++) {
        if (base->data[i] == '\n') {
            *q++ = '\\';
            *q++ = 'n';

        } else {
            *q++ = (u_char) base->data[i];
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "evbill: signature base was: %*s", q - p, p);
}

#endif
