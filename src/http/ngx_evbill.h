
/*
 * evbill: declarations shared by the module file and src/http/.
 */


#ifndef _NGX_EVBILL_H_INCLUDED_
#define _NGX_EVBILL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "evb_core.h"
#include "evb_json.h"
#include "evb_problem.h"
#include "evb_model.h"
#include "evb_crypto.h"
#include "evb_sig.h"
#include "evb_store.h"
#include "evb_ops.h"
#include "evb_bill.h"
#include "evb_tariff.h"
#include "evb_rate.h"
#include "evb_render.h"
#include "evb_party.h"
#include "evb_invoice_make.h"
#include "evb_store_invoice.h"
#include "evb_store_driver.h"
#include "evb_receipt.h"


#if !(NGX_THREADS)
#error "ngx_evbill_module requires nginx built with --with-threads"
#endif


#define NGX_EVBILL_API_CHARGER  1
#define NGX_EVBILL_API_ADMIN    2
#define NGX_EVBILL_API_APP      4       /* evbill_app_api: drivers */
#define NGX_EVBILL_API_PUBLIC   8       /* evbill_app_api public */
#define NGX_EVBILL_API_WEBHOOK  16      /* evbill_payment_webhook */


typedef struct ngx_evbill_writer_s  ngx_evbill_writer_t;
typedef struct ngx_evbill_wreq_s    ngx_evbill_wreq_t;


/* payments (ngx_evbill_payment.c); NULL in the main conf: none */
typedef struct {
    ngx_str_t                  location;      /* evbill_payment_gateway */
    ngx_str_t                  key;           /* the API key */
    ngx_str_t                  secret;        /* webhook signing secret */
    ngx_array_t               *holds;         /* evb_pay_hold_t */
    unsigned                   webhook:1;
    u_char                    *file;          /* the first directive */
    ngx_uint_t                 line;
} ngx_evbill_pay_conf_t;


typedef struct {
    ngx_path_t                *store_path;
    size_t                     map_size;
    ngx_str_t                  master_key_file;
    u_char                     master_key[EVB_MASTER_KEY_LEN];
    ngx_flag_t                 have_master_key;
    ngx_str_t                  cpo_country;
    ngx_str_t                  cpo_party;
    ngx_str_t                  node_id;        /* evbill_node_id */
    ngx_msec_t                 idle_timeout;
    ngx_str_t                  thread_pool_name;
    ngx_thread_pool_t         *thread_pool;
    ngx_uint_t                 write_queue;
    ngx_uint_t                 rounding;      /* evb_rounding_e */
    time_t                     max_data_age;
    time_t                     session_max_duration;
    ngx_uint_t                 session_max_periods;
    evb_bill_conf_t            bill;
    ngx_str_t                  seller_file;   /* evbill_seller_file */
    ngx_str_t                  invoice_format;
    ngx_str_t                  credit_format;
    u_char                    *format_file[2];  /* where each was set */
    ngx_uint_t                 format_line[2];
    evb_invoice_conf_t        *invoice;       /* NULL: no invoices */
    ngx_str_t                  receipt_key_file;  /* evbill_receipt_* */
    u_char                    *receipt_key;   /* NULL: no receipt links */
    size_t                     receipt_key_len;
    ngx_str_t                  receipt_base;
    time_t                     receipt_ttl;
    ngx_uint_t                 apis;          /* an API directive is used */
    ngx_uint_t                 api_line;
    u_char                    *api_file;
    ngx_evbill_pay_conf_t     *pay;

    /* per worker, after fork */
    evb_store_t               *store;
    ngx_evbill_writer_t       *writer;
    ngx_event_t                sweep_event;
} ngx_evbill_main_conf_t;


typedef struct {
    ngx_uint_t                 api;
    ngx_str_t                  prefix;        /* the location's name */
    time_t                     sig_window;
    ngx_str_t                  sig_origin;    /* "" when unset */
    ngx_str_t                  sig_scheme;
    ngx_str_t                  sig_authority;
    ngx_int_t                  customer_var;  /* evbill_customer; -1: none */
} ngx_evbill_loc_conf_t;


typedef struct ngx_evbill_ctx_s  ngx_evbill_ctx_t;

/* What a handler does once the whole body is in ctx->body. */
typedef ngx_int_t (*ngx_evbill_process_pt)(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);

/* Per request, from the pool: survives until the request ends. */
struct ngx_evbill_ctx_s {
    evb_arena_t               *arena;
    ngx_str_t                  body;
    ngx_uint_t                 route;
    evb_str_t                  id1;           /* path ids */
    evb_str_t                  id2;
    evb_str_t                  charger_id;    /* charger API: from key */
    evb_str_t                  customer_id;   /* driver API: signed in */
    ngx_evbill_wreq_t         *wreq;
    ngx_evbill_process_pt      process;       /* after the body is read */
    unsigned                   error_page:1;  /* rewriting nginx's page */
    unsigned                   refusal_logged:1; /* its one log line */
    ngx_buf_t                 *error_body;
};


/*
 * One row of an API family's route table: a path pattern of literal
 * segments and "{captures}" (the first capture goes to ctx->id1, the
 * second to ctx->id2), the methods it serves (HEAD wherever GET is),
 * and its handler; with body set, the handler runs once the whole body
 * is read.
 */
typedef struct {
    const char                *pattern;
    ngx_uint_t                 methods;       /* NGX_HTTP_GET|... */
    ngx_uint_t                 route;         /* ctx->route */
    unsigned                   body:1;
    ngx_evbill_process_pt      handler;
} ngx_evbill_route_t;

typedef struct {
    const ngx_evbill_route_t  *routes;        /* ends with a NULL pattern */
    const char                *not_found;     /* 404 detail */
    const char                *bad_id;        /* 400 detail, a bad capture */
    unsigned                   ids_first:1;   /* captures checked before
                                                 the method */
} ngx_evbill_api_t;


typedef void (*ngx_evbill_done_pt)(ngx_evbill_wreq_t *w);

struct ngx_evbill_wreq_s {
    ngx_queue_t                queue;
    evb_op_any_t               op;            /* op.op: what all have */
    ngx_http_request_t        *request;       /* NULL: internal op */
    ngx_evbill_done_pt         done;
    void                      *data;
};


extern ngx_module_t  ngx_evbill_module;


/* ngx_evbill_util.c */
ngx_evbill_ctx_t *ngx_evbill_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_evbill_read_body(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_evbill_process_pt process);
ngx_int_t ngx_evbill_collect_body(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_split_path(ngx_http_request_t *r,
    ngx_evbill_loc_conf_t *lcf, evb_str_t *segs, ngx_uint_t max,
    ngx_uint_t *n);
ngx_int_t ngx_evbill_is_json(ngx_http_request_t *r);
ngx_int_t ngx_evbill_query_arg(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    const char *name, evb_str_t *value);
ngx_int_t ngx_evbill_query_limit(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    size_t deflt, size_t max, size_t *limit);
ngx_int_t ngx_evbill_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len);
ngx_int_t ngx_evbill_send_json(ngx_http_request_t *r, ngx_uint_t status,
    evb_buf_t *b);
ngx_int_t ngx_evbill_send_problem(ngx_http_request_t *r, evb_problem_e p,
    const char *detail);
ngx_int_t ngx_evbill_send_405(ngx_http_request_t *r, const char *allow);
ngx_int_t ngx_evbill_send_problem_errors(ngx_http_request_t *r,
    evb_problem_e p, const char *detail, const evb_field_error_t *errors,
    size_t nerrors);
void ngx_evbill_finalize(ngx_http_request_t *r, ngx_int_t rc);
ngx_table_elt_t *ngx_evbill_header(ngx_http_request_t *r, const char *name,
    size_t len, ngx_str_t *joined);
evb_msec_t ngx_evbill_now(void);
evb_problem_e ngx_evbill_parse_json(ngx_evbill_ctx_t *ctx,
    evb_json_t **root, char *detail, size_t len);
ngx_int_t ngx_evbill_filter_init(ngx_conf_t *cf);

/* ngx_evbill_route.c */
ngx_int_t ngx_evbill_route(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    const ngx_evbill_api_t *api);

/* ngx_evbill_writer.c */
ngx_int_t ngx_evbill_writer_init(ngx_cycle_t *cycle,
    ngx_evbill_main_conf_t *mcf);
ngx_int_t ngx_evbill_writer_submit(ngx_evbill_main_conf_t *mcf,
    ngx_evbill_wreq_t *w);
ngx_int_t ngx_evbill_writer_queue(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, ngx_evbill_wreq_t *w, ngx_evbill_done_pt done);
ngx_uint_t ngx_evbill_writer_busy(ngx_evbill_main_conf_t *mcf);
void ngx_evbill_sweep_handler(ngx_event_t *ev);

/* ngx_evbill_sign.c */
evb_problem_e ngx_evbill_verify_request(ngx_http_request_t *r,
    ngx_evbill_loc_conf_t *lcf, ngx_evbill_ctx_t *ctx, char *detail,
    size_t len);

/* ngx_evbill_admin_party.c: who is billed */
ngx_int_t ngx_evbill_admin_customer(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_customers(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_token(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
void ngx_evbill_admin_session_start(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, const evb_session_t *s, evb_buf_t *b);
/* ngx_evbill_runs.c: the admin API's monthly billing runs */
ngx_int_t ngx_evbill_admin_billing_run(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_get_run(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);

/* ngx_evbill_invoice.c: the admin API's invoices and credit notes */
ngx_int_t ngx_evbill_admin_get_invoice(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_get_credit_note(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_list_invoices(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_credit(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_credit_cdrs(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
void ngx_evbill_session_invoice(ngx_http_request_t *r, evb_buf_t *b,
    evb_str_t charger_id, evb_str_t session_id);
/* ngx_evbill_feed.c: the feed for downstream systems */
ngx_int_t ngx_evbill_admin_feed(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx);

/* ngx_evbill_invoice.c: a document for the driver API (owner: the
 * signed-in customer) or a receipt link (owner NULL, public) */
ngx_int_t ngx_evbill_get_doc_for(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, int credit_note, evb_str_t number,
    const evb_str_t *owner);

/* ngx_evbill_driver.c: the driver API and receipt links */
ngx_int_t ngx_evbill_driver_sessions(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_driver_session(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_driver_invoices(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_driver_invoice(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_driver_credit_note(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_public_receipt(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
/* b's object gets "receipt" (the link of the invoice numbered number,
 * issued at issued_at) when receipt links are configured */
void ngx_evbill_receipt_member(ngx_http_request_t *r, evb_buf_t *b,
    evb_str_t number, evb_msec_t issued_at);
/* the receipt directives (evbill_receipt_ttl is a sec slot) */
char *ngx_evbill_receipt_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_evbill_receipt_base(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_evbill_receipt_check(ngx_conf_t *cf, ngx_evbill_main_conf_t *mcf);
/* the stop answer's "receipt", when the session has an invoice */
void ngx_evbill_session_receipt(ngx_http_request_t *r, evb_buf_t *b,
    evb_str_t charger_id, evb_str_t session_id);

/* ngx_evbill_payment.c: directives, POST payments, webhooks, admin */
char *ngx_evbill_payment_gateway(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_evbill_payment_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_evbill_payment_webhook_secret_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_evbill_payment_hold(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_evbill_payment_webhook(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_evbill_pay_postconf(ngx_conf_t *cf,
    ngx_evbill_main_conf_t *mcf);
ngx_int_t ngx_evbill_pay_post(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_payment(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_admin_reconcile(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx);
ngx_int_t ngx_evbill_webhook_handler(ngx_http_request_t *r);
ngx_int_t ngx_evbill_pay_charger_hold(evb_json_t *root,
    evb_op_put_charger_t *o, char *detail, size_t len);
void ngx_evbill_pay_render_charger_hold(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, evb_buf_t *b);
void ngx_evbill_pay_invoice_status(ngx_http_request_t *r,
    ngx_evbill_ctx_t *ctx, const evb_invoice_t *doc,
    evb_invoice_status_t *st);

/* ngx_evbill_charger.c, ngx_evbill_admin.c, ngx_evbill_app.c */
ngx_int_t ngx_evbill_charger_handler(ngx_http_request_t *r);
ngx_int_t ngx_evbill_admin_handler(ngx_http_request_t *r);
ngx_int_t ngx_evbill_app_handler(ngx_http_request_t *r);
ngx_int_t ngx_evbill_public_handler(ngx_http_request_t *r);


#endif /* _NGX_EVBILL_H_INCLUDED_ */
