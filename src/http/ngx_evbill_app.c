/*
 * The driver's side: evbill_app_api (signed-in drivers, who they are
 * comes from the evbill_customer variable that the operator's own auth
 * layer sets) and evbill_app_api public (what needs no sign-in: receipt
 * links, ad hoc payments).  Each is a route table like the admin API's;
 * a driver handler finds the signed-in customer in ctx->customer_id and
 * must answer for another customer's object exactly as for a missing one.
 */


#include "ngx_evbill.h"


#define NGX_EVBILL_D_SESSIONS      1
#define NGX_EVBILL_D_SESSION       2
#define NGX_EVBILL_D_INVOICES      3
#define NGX_EVBILL_D_INVOICE       4
#define NGX_EVBILL_D_CREDIT_NOTE   5
#define NGX_EVBILL_D_RECEIPT       6


static const ngx_evbill_route_t  ngx_evbill_app_routes[] = {

    { "sessions", NGX_HTTP_GET, NGX_EVBILL_D_SESSIONS, 0,
      ngx_evbill_driver_sessions },
    { "sessions/{charger_id}/{session_id}", NGX_HTTP_GET,
      NGX_EVBILL_D_SESSION, 0, ngx_evbill_driver_session },
    { "invoices", NGX_HTTP_GET, NGX_EVBILL_D_INVOICES, 0,
      ngx_evbill_driver_invoices },
    { "invoices/{number}", NGX_HTTP_GET, NGX_EVBILL_D_INVOICE, 0,
      ngx_evbill_driver_invoice },
    { "credit-notes/{number}", NGX_HTTP_GET, NGX_EVBILL_D_CREDIT_NOTE, 0,
      ngx_evbill_driver_credit_note },

    { NULL, 0, 0, 0, NULL }
};


static const ngx_evbill_api_t  ngx_evbill_app_api = {
    ngx_evbill_app_routes,
    "no such driver endpoint; see docs/api.md",
    "ids in the path must be 1 to 64 printable ASCII characters without '/'",
    1
};


static const ngx_evbill_route_t  ngx_evbill_public_routes[] = {

    { "receipts/{number}", NGX_HTTP_GET, NGX_EVBILL_D_RECEIPT, 0,
      ngx_evbill_public_receipt },

    /* payments */
    { "payments", NGX_HTTP_POST, 0, 1, ngx_evbill_pay_post },

    { NULL, 0, 0, 0, NULL }
};


static const ngx_evbill_api_t  ngx_evbill_public_api = {
    ngx_evbill_public_routes,
    "no such endpoint; see docs/api.md",
    "ids in the path must be 1 to 64 printable ASCII characters without '/'",
    1
};


ngx_int_t
ngx_evbill_app_handler(ngx_http_request_t *r)
{
    ngx_evbill_ctx_t           *ctx;
    ngx_evbill_loc_conf_t      *lcf;
    ngx_http_variable_value_t  *v;

    ctx = ngx_evbill_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_evbill_module);

    v = ngx_http_get_indexed_variable(r, lcf->customer_var);

    /* no identity, or one that cannot name a customer: not signed in */
    if (v == NULL || v->not_found || v->len == 0
        || !evb_id_valid((const char *) v->data, v->len))
    {
        return ngx_evbill_send_problem(r, EVB_P_UNAUTHENTICATED,
                                       "sign in first: no customer "
                                       "identity came with the request");
    }

    ctx->customer_id.data = (char *) v->data;
    ctx->customer_id.len = v->len;

    return ngx_evbill_route(r, ctx, &ngx_evbill_app_api);
}


ngx_int_t
ngx_evbill_public_handler(ngx_http_request_t *r)
{
    ngx_evbill_ctx_t  *ctx;

    ctx = ngx_evbill_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_evbill_route(r, ctx, &ngx_evbill_public_api);
}
