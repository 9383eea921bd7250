
/*
 * Routes as tables: each API family lists its endpoints as rows of
 * {path pattern, methods, handler}; matching, 404, 405 and Allow all
 * come from the rows, so a new endpoint is one row and its handler.
 */


#include "ngx_evbill.h"


/* path segments any route may have; a longer path matches nothing */
#define NGX_EVBILL_SEGS_MAX  8


static ngx_int_t ngx_evbill_route_match(const char *pattern, evb_str_t *segs,
    ngx_uint_t n, evb_str_t *caps, ngx_uint_t *ncaps);
static ngx_uint_t ngx_evbill_route_ids_ok(evb_str_t *caps, ngx_uint_t ncaps);
static const char *ngx_evbill_route_allow(ngx_http_request_t *r,
    ngx_uint_t methods);


/* Allow lists methods in this order */
static struct {
    ngx_uint_t   method;
    const char  *name;
} ngx_evbill_methods[] = {
    { NGX_HTTP_GET, "GET" },
    { NGX_HTTP_HEAD, "HEAD" },
    { NGX_HTTP_POST, "POST" },
    { NGX_HTTP_PUT, "PUT" },
    { NGX_HTTP_DELETE, "DELETE" },
    { 0, NULL }
};


ngx_int_t
ngx_evbill_route(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    const ngx_evbill_api_t *api)
{
    ngx_uint_t                 n, ncaps, methods, method;
    evb_str_t                  segs[NGX_EVBILL_SEGS_MAX];
    evb_str_t                  caps[2];
    const ngx_evbill_route_t  *rt, *found;
    ngx_evbill_loc_conf_t     *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_evbill_module);

    if (ngx_evbill_split_path(r, lcf, segs, NGX_EVBILL_SEGS_MAX, &n)
        != NGX_OK)
    {
        n = 0;
    }

    /* HEAD is served wherever GET is */
    method = (r->method == NGX_HTTP_HEAD) ? NGX_HTTP_GET : r->method;

    methods = 0;
    found = NULL;
    ncaps = 0;

    for (rt = api->routes; rt->pattern; rt++) {
        if (ngx_evbill_route_match(rt->pattern, segs, n, caps, &ncaps)
            != NGX_OK)
        {
            continue;
        }

        methods |= rt->methods;

        if (found == NULL && (rt->methods & method)) {
            found = rt;
        }
    }

    if (methods == 0) {
        return ngx_evbill_send_problem(r, EVB_P_NOT_FOUND, api->not_found);
    }

    /* the captures are the same for every row of one path */
    ngx_memzero(&ctx->id1, sizeof(evb_str_t));
    ngx_memzero(&ctx->id2, sizeof(evb_str_t));

    if (ncaps > 0) {
        ctx->id1 = caps[0];
    }

    if (ncaps > 1) {
        ctx->id2 = caps[1];
    }

    if (api->ids_first && !ngx_evbill_route_ids_ok(caps, ncaps)) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE, api->bad_id);
    }

    if (found == NULL) {
        return ngx_evbill_send_405(r, ngx_evbill_route_allow(r, methods));
    }

    if (!api->ids_first && !ngx_evbill_route_ids_ok(caps, ncaps)) {
        return ngx_evbill_send_problem(r, EVB_P_INVALID_VALUE, api->bad_id);
    }

    ctx->route = found->route;

    if (found->body) {
        return ngx_evbill_read_body(r, ctx, found->handler);
    }

    return found->handler(r, ctx);
}


/*
 * "sessions/{charger_id}/{session_id}": literal segments match exactly,
 * "{name}" captures the segment (at most two per pattern).
 */

static ngx_int_t
ngx_evbill_route_match(const char *pattern, evb_str_t *segs, ngx_uint_t n,
    evb_str_t *caps, ngx_uint_t *ncaps)
{
    size_t       len;
    ngx_uint_t   i, c;
    const char  *p, *end;

    p = pattern;
    c = 0;

    for (i = 0; *p; i++) {
        end = ngx_strchr(p, '/');
        len = end ? (size_t) (end - p) : ngx_strlen(p);

        if (i == n) {
            return NGX_DECLINED;
        }

        if (p[0] == '{') {
            if (c == 2) {
                return NGX_DECLINED;
            }

            caps[c++] = segs[i];

        } else if (segs[i].len != len
                   || ngx_strncmp(segs[i].data, p, len) != 0)
        {
            return NGX_DECLINED;
        }

        p += len;

        if (*p == '/') {
            p++;
        }
    }

    if (i != n) {
        return NGX_DECLINED;
    }

    *ncaps = c;

    return NGX_OK;
}


static ngx_uint_t
ngx_evbill_route_ids_ok(evb_str_t *caps, ngx_uint_t ncaps)
{
    ngx_uint_t  i;

    for (i = 0; i < ncaps; i++) {
        if (!evb_id_valid(caps[i].data, caps[i].len)) {
            return 0;
        }
    }

    return 1;
}


/* "GET, HEAD, PUT": from the rows of the path, HEAD wherever GET is */

static const char *
ngx_evbill_route_allow(ngx_http_request_t *r, ngx_uint_t methods)
{
    u_char      *p, *s;
    ngx_uint_t   i;

    if (methods & NGX_HTTP_GET) {
        methods |= NGX_HTTP_HEAD;
    }

    s = ngx_pnalloc(r->pool, sizeof("GET, HEAD, POST, PUT, DELETE"));
    if (s == NULL) {
        return "";
    }

    p = s;

    for (i = 0; ngx_evbill_methods[i].name; i++) {
        if (!(methods & ngx_evbill_methods[i].method)) {
            continue;
        }

        if (p != s) {
            *p++ = ',';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, ngx_evbill_methods[i].name,
                       ngx_strlen(ngx_evbill_methods[i].name));
    }

    *p = '\0';

    return (const char *) s;
}
