
/*
 * ngx_evbill_module: nginx as the billing edge of an EV charging network.
 *
 * This file holds the directives, configuration and process hooks; the
 * request handlers live in src/http/, the billing core in src/core/ and
 * the LMDB store in lmdb/.
 */


#include "ngx_evbill.h"


static void *ngx_evbill_create_main_conf(ngx_conf_t *cf);
static char *ngx_evbill_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_evbill_create_loc_conf(ngx_conf_t *cf);
static char *ngx_evbill_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_evbill_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_evbill_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_evbill_create_store_dir(ngx_cycle_t *cycle,
    ngx_evbill_main_conf_t *mcf, ngx_core_conf_t *ccf);
static ngx_int_t ngx_evbill_init_process(ngx_cycle_t *cycle);
static void ngx_evbill_exit_process(ngx_cycle_t *cycle);

static char *ngx_evbill_store(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_evbill_master_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_evbill_cpo(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_evbill_node_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_evbill_seller_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_evbill_number_format(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_evbill_init_invoicing(ngx_conf_t *cf,
    ngx_evbill_main_conf_t *mcf);
static void ngx_evbill_arena_cleanup(void *data);
static char *ngx_evbill_idle_timeout_check(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_evbill_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_evbill_customer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_evbill_signature_origin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_enum_t  ngx_evbill_rounding[] = {
    { ngx_string("half_up"), EVB_ROUND_HALF_UP },
    { ngx_string("half_even"), EVB_ROUND_HALF_EVEN },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_evbill_write_queue_bounds = {
    ngx_conf_check_num_bounds, 1, 1048576
};


/* a time directive's range, checked after ngx_conf_set_sec_slot */
typedef struct {
    ngx_conf_post_handler_pt  post_handler;
    time_t                    low;
    time_t                    high;
    char                     *error;
} ngx_evbill_sec_bounds_t;

static char *ngx_evbill_check_sec_bounds(ngx_conf_t *cf, void *post,
    void *data);

static ngx_evbill_sec_bounds_t  ngx_evbill_max_data_age_bounds = {
    ngx_evbill_check_sec_bounds, 1, 3650 * 86400,
    "must be between 1s and 3650d"
};

/* a wider window keeps captured requests valid longer and lets data run
 * further ahead of the clock (in-the-future) */
static ngx_evbill_sec_bounds_t  ngx_evbill_signature_window_bounds = {
    ngx_evbill_check_sec_bounds, 1, 86400,
    "must be between 1s and 24h"
};

static ngx_evbill_sec_bounds_t  ngx_evbill_session_max_duration_bounds = {
    ngx_evbill_check_sec_bounds, 1, 366 * 86400,
    "must be between 1s and 366d"
};

/* a receipt link is a bearer secret: at most ten years */
static ngx_evbill_sec_bounds_t  ngx_evbill_receipt_ttl_bounds = {
    ngx_evbill_check_sec_bounds, 1, 3650 * 86400,
    "must be between 1s and 3650d"
};

/* a number directive's range; the error names the directive */
typedef struct {
    ngx_conf_post_handler_pt  post_handler;
    ngx_uint_t                low;
    ngx_uint_t                high;
    char                     *error;
} ngx_evbill_num_bounds_t;

static char *ngx_evbill_check_num_bounds(ngx_conf_t *cf, void *post,
    void *data);

/* a CDR period is 150 to 350 bytes: 20,000 make up to 7 MB */
static ngx_evbill_num_bounds_t  ngx_evbill_session_max_periods_bounds = {
    ngx_evbill_check_num_bounds, 1, 20000,
    "must be between 1 and 20000"
};

/* 0 would make the sweep run back to back and close nothing */
static ngx_conf_post_t  ngx_evbill_idle_timeout_post = {
    ngx_evbill_idle_timeout_check
};


static ngx_command_t  ngx_evbill_commands[] = {

    { ngx_string("evbill_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_evbill_store,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_master_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_master_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_cpo"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_evbill_cpo,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_node_id"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_node_id,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_seller_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_seller_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_receipt_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_receipt_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_receipt_base"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_receipt_base,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_receipt_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, receipt_ttl),
      &ngx_evbill_receipt_ttl_bounds },

    { ngx_string("evbill_invoice_number"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_number_format,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, invoice_format),
      NULL },

    { ngx_string("evbill_credit_note_number"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_number_format,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, credit_format),
      NULL },

    { ngx_string("evbill_session_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, idle_timeout),
      &ngx_evbill_idle_timeout_post },

    { ngx_string("evbill_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("evbill_write_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, write_queue),
      &ngx_evbill_write_queue_bounds },

    { ngx_string("evbill_rounding"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, rounding),
      &ngx_evbill_rounding },

    { ngx_string("evbill_max_data_age"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, max_data_age),
      &ngx_evbill_max_data_age_bounds },

    { ngx_string("evbill_session_max_duration"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, session_max_duration),
      &ngx_evbill_session_max_duration_bounds },

    { ngx_string("evbill_session_max_periods"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_evbill_main_conf_t, session_max_periods),
      &ngx_evbill_session_max_periods_bounds },

    { ngx_string("evbill_charger_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_evbill_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_EVBILL_API_CHARGER,
      NULL },

    { ngx_string("evbill_app_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_evbill_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_EVBILL_API_APP,
      NULL },

    { ngx_string("evbill_customer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_evbill_customer,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_admin_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_evbill_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_EVBILL_API_ADMIN,
      NULL },

    { ngx_string("evbill_signature_window"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_evbill_loc_conf_t, sig_window),
      &ngx_evbill_signature_window_bounds },

    { ngx_string("evbill_signature_origin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_evbill_signature_origin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* payments (issue 11): ngx_evbill_payment.c */
    { ngx_string("evbill_payment_gateway"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_payment_gateway,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_payment_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_payment_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_payment_webhook_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_evbill_payment_webhook_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_payment_hold"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_evbill_payment_hold,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("evbill_payment_webhook"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_evbill_payment_webhook,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_evbill_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_evbill_postconfiguration,          /* postconfiguration */

    ngx_evbill_create_main_conf,           /* create main configuration */
    ngx_evbill_init_main_conf,             /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_evbill_create_loc_conf,            /* create location configuration */
    ngx_evbill_merge_loc_conf              /* merge location configuration */
};


ngx_module_t  ngx_evbill_module = {
    NGX_MODULE_V1,
    &ngx_evbill_module_ctx,                /* module context */
    ngx_evbill_commands,                   /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_evbill_init_module,                /* init module */
    ngx_evbill_init_process,               /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_evbill_exit_process,               /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_evbill_create_main_conf(ngx_conf_t *cf)
{
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_evbill_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->store_path = NULL;
     *     mcf->master_key_file = { 0, NULL };
     *     mcf->have_master_key = 0;
     *     mcf->cpo_country = { 0, NULL };
     *     mcf->thread_pool_name = { 0, NULL };
     *     mcf->apis = 0;
     */

    mcf->map_size = NGX_CONF_UNSET_SIZE;
    mcf->idle_timeout = NGX_CONF_UNSET_MSEC;
    mcf->write_queue = NGX_CONF_UNSET_UINT;
    mcf->rounding = NGX_CONF_UNSET_UINT;
    mcf->max_data_age = NGX_CONF_UNSET;
    mcf->session_max_duration = NGX_CONF_UNSET;
    mcf->session_max_periods = NGX_CONF_UNSET_UINT;
    mcf->receipt_ttl = NGX_CONF_UNSET;

    return mcf;
}


static char *
ngx_evbill_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    ngx_conf_init_size_value(mcf->map_size, 1024 * 1024 * 1024);
    ngx_conf_init_msec_value(mcf->idle_timeout, 48 * 60 * 60 * 1000);
    ngx_conf_init_uint_value(mcf->write_queue, 4096);
    ngx_conf_init_uint_value(mcf->rounding, EVB_ROUND_HALF_UP);

    ngx_conf_init_value(mcf->max_data_age, 365 * 86400);
    ngx_conf_init_value(mcf->session_max_duration, 31 * 86400);
    ngx_conf_init_uint_value(mcf->session_max_periods, 5000);
    ngx_conf_init_value(mcf->receipt_ttl, 90 * 86400);

    if (ngx_evbill_receipt_check(cf, mcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    mcf->bill.policy.rounding = (evb_rounding_e) mcf->rounding;

    /* bound the store's sessions and the dry run (POST rate) alike */
    mcf->bill.policy.max_duration =
                              (evb_msec_t) mcf->session_max_duration * 1000;
    mcf->bill.policy.max_periods = mcf->session_max_periods;

    /* CDRs need a party; "XX"/"XXX" marks a deployment without evbill_cpo */
    if (mcf->cpo_country.data == NULL) {
        ngx_str_set(&mcf->cpo_country, "XX");
        ngx_str_set(&mcf->cpo_party, "XXX");

        if (mcf->apis) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "no \"evbill_cpo\": CDRs will carry country code "
                          "\"XX\" and party id \"XXX\"");
        }
    }

    mcf->bill.cpo_country.data = (char *) mcf->cpo_country.data;
    mcf->bill.cpo_country.len = mcf->cpo_country.len;
    mcf->bill.cpo_party.data = (char *) mcf->cpo_party.data;
    mcf->bill.cpo_party.len = mcf->cpo_party.len;

    /* len 0: a single node, ids and numbers without a node part */
    mcf->bill.node_id.data = (char *) mcf->node_id.data;
    mcf->bill.node_id.len = mcf->node_id.len;

    if (mcf->thread_pool_name.data == NULL) {
        ngx_str_set(&mcf->thread_pool_name, "default");
    }

    return ngx_evbill_init_invoicing(cf, mcf);
}


/*
 * The number formats (checked whether or not invoices are made, so a
 * typo shows at once) and, with evbill_seller_file, the invoicing
 * settings that ops get through bill.invoice.
 */
static char *
ngx_evbill_init_invoicing(ngx_conf_t *cf, ngx_evbill_main_conf_t *mcf)
{
    ngx_uint_t           i;
    evb_str_t            fmt, node;
    evb_invoice_conf_t  *ic;
    char                 err[256];

    static struct {
        const char  *directive;
        size_t       offset;
        const char  *deflt;
    } formats[] = {
        { "evbill_invoice_number",
          offsetof(ngx_evbill_main_conf_t, invoice_format), "INV-%Y-%6N" },
        { "evbill_credit_note_number",
          offsetof(ngx_evbill_main_conf_t, credit_format), "CN-%Y-%6N" },
    };

    node.data = (char *) mcf->node_id.data;
    node.len = mcf->node_id.len;

    for (i = 0; i < 2; i++) {
        ngx_str_t  *f = (ngx_str_t *) ((u_char *) mcf + formats[i].offset);

        if (f->data == NULL) {
            /* with a node id the defaults take it after the year */
            if (node.len) {
                f->data = (u_char *) (i == 0 ? "INV-%Y-%I-%6N"
                                             : "CN-%Y-%I-%6N");
            } else {
                f->data = (u_char *) formats[i].deflt;
            }

            f->len = ngx_strlen(f->data);
        }

        fmt.data = (char *) f->data;
        fmt.len = f->len;

        if (evb_number_format_check(fmt, node, err, sizeof(err)) != 0) {
            /* checked here, once evbill_node_id is known: name the line */
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"%s\" \"%V\" %s in %s:%ui",
                          formats[i].directive, f, err,
                          mcf->format_file[i] ? mcf->format_file[i]
                                              : (u_char *) "(default)",
                          mcf->format_line[i]);
            return NGX_CONF_ERROR;
        }
    }

    ic = mcf->invoice;

    if (ic == NULL) {
        if (mcf->apis) {
            ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                          "no \"evbill_seller_file\": sessions get CDRs "
                          "and no invoices");

            /* nginx copies only warnings and worse to the terminal: say
             * it there too, where an operator running nginx -t looks */
            if (ngx_test_config && !ngx_quiet_mode) {
                ngx_log_stderr(0, "notice: no \"evbill_seller_file\": "
                               "sessions get CDRs and no invoices");
            }
        }

        return NGX_CONF_OK;
    }

    ic->invoice_format.data = (char *) mcf->invoice_format.data;
    ic->invoice_format.len = mcf->invoice_format.len;
    ic->credit_format.data = (char *) mcf->credit_format.data;
    ic->credit_format.len = mcf->credit_format.len;
    ic->node_id = node;
    ic->rounding = mcf->bill.policy.rounding;

    mcf->bill.invoice = ic;

    return NGX_CONF_OK;
}


/* evbill_invoice_number, evbill_credit_note_number: checked in
 * ngx_evbill_init_invoicing, where evbill_node_id is known */
static char *
ngx_evbill_number_format(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    ngx_str_t   *value, *f;
    ngx_uint_t   i;

    f = (ngx_str_t *) ((u_char *) mcf + cmd->offset);

    if (f->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *f = value[1];

    i = (cmd->offset == offsetof(ngx_evbill_main_conf_t, invoice_format))
        ? 0 : 1;
    mcf->format_file[i] = cf->conf_file->file.name.data;
    mcf->format_line[i] = cf->conf_file->line;

    return NGX_CONF_OK;
}


static void
ngx_evbill_arena_cleanup(void *data)
{
    evb_arena_destroy(data);
}


/*
 * The seller of every invoice, read and checked now (as root, and under
 * "nginx -t"): one line per bad or missing field.
 */
static char *
ngx_evbill_seller_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    ssize_t              n;
    u_char              *p, *start, *text;
    ngx_fd_t             fd;
    ngx_str_t           *value;
    ngx_file_info_t      fi;
    evb_arena_t         *a;
    ngx_pool_cleanup_t  *cln;
    evb_invoice_conf_t  *ic;
    char                 err[2048];

    if (mcf->seller_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mcf->seller_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &mcf->seller_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(mcf->seller_file.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed",
                           &mcf->seller_file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 65536)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "evbill: seller file \"%V\" cannot be read or "
                           "is larger than 64k", &mcf->seller_file);
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
                           "evbill: seller file \"%V\" cannot be read",
                           &mcf->seller_file);
        return NGX_CONF_ERROR;
    }

    /* the seller's strings live as long as the configuration */
    a = evb_arena_create(4096);
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        evb_arena_destroy(a);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_evbill_arena_cleanup;
    cln->data = a;

    ic = ngx_pcalloc(cf->pool, sizeof(evb_invoice_conf_t));
    if (ic == NULL) {
        return NGX_CONF_ERROR;
    }

    if (evb_seller_parse(a, (char *) text, (size_t) n, ic, err, sizeof(err))
        != 0)
    {
        /* one line per field */
        for (start = (u_char *) err; *start; start = p) {
            p = (u_char *) ngx_strstr(start, "; ");

            if (p == NULL) {
                p = start + ngx_strlen(start);
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "evbill: seller file \"%V\": %s",
                                   &mcf->seller_file, start);
                break;
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "evbill: seller file \"%V\": %*s",
                               &mcf->seller_file, (size_t) (p - start),
                               start);
            p += 2;
        }

        return NGX_CONF_ERROR;
    }

    mcf->invoice = ic;

    return NGX_CONF_OK;
}


static char *
ngx_evbill_check_sec_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_evbill_sec_bounds_t *b = post;

    time_t  *tp = data;

    if (*tp < b->low || *tp > b->high) {
        return b->error;
    }

    return NGX_CONF_OK;
}


static char *
ngx_evbill_check_num_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_evbill_num_bounds_t *b = post;

    ngx_uint_t  *np = data;

    if (*np < b->low || *np > b->high) {
        return b->error;
    }

    return NGX_CONF_OK;
}


static void *
ngx_evbill_create_loc_conf(ngx_conf_t *cf)
{
    ngx_evbill_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_evbill_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->api = 0;
     *     lcf->prefix = { 0, NULL };
     *     lcf->sig_origin = { 0, NULL };
     */

    lcf->sig_window = NGX_CONF_UNSET;
    lcf->customer_var = NGX_CONF_UNSET;

    return lcf;
}


static char *
ngx_evbill_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_evbill_loc_conf_t *prev = parent;
    ngx_evbill_loc_conf_t *conf = child;

    ngx_conf_merge_sec_value(conf->sig_window, prev->sig_window, 300);
    ngx_conf_merge_value(conf->customer_var, prev->customer_var, -1);

    if (conf->api == NGX_EVBILL_API_APP && conf->customer_var == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"evbill_app_api\" in location \"%V\" needs "
                           "\"evbill_customer $variable\": the variable "
                           "your sign-in sets to the customer id",
                           &conf->prefix);
        return NGX_CONF_ERROR;
    }

    if (conf->sig_origin.data == NULL) {
        conf->sig_origin = prev->sig_origin;
        conf->sig_scheme = prev->sig_scheme;
        conf->sig_authority = prev->sig_authority;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_evbill_postconfiguration(ngx_conf_t *cf)
{
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_evbill_module);

    if (mcf->apis) {
        if (mcf->store_path == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"evbill_store\" is required by the evbill API "
                          "directive in %s:%ui", mcf->api_file,
                          mcf->api_line);
            return NGX_ERROR;
        }

        if (!mcf->have_master_key) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"evbill_master_key_file\" is required by the "
                          "evbill API directive in %s:%ui", mcf->api_file,
                          mcf->api_line);
            return NGX_ERROR;
        }
    }

    if (ngx_evbill_pay_postconf(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mcf->store_path) {
        mcf->thread_pool = ngx_thread_pool_add(cf, &mcf->thread_pool_name);
        if (mcf->thread_pool == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_evbill_filter_init(cf);
}


static char *
ngx_evbill_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    off_t       size;
    ngx_str_t  *value, s;
    char        err[NGX_MAX_PATH + 256];

    if (mcf->store_path) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->store_path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (mcf->store_path == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->store_path->name = value[1];

    if (mcf->store_path->name.data[mcf->store_path->name.len - 1] == '/') {
        mcf->store_path->name.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &mcf->store_path->name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mcf->store_path->conf_file = cf->conf_file->file.name.data;
    mcf->store_path->line = cf->conf_file->line;

    /*
     * Not ngx_add_path(): nginx would create the directory and change its
     * owner even under "nginx -t", which must write nothing.  The module
     * creates and hands it over itself at start (ngx_evbill_init_module).
     *
     * Under "nginx -t", a store of another schema version fails the test
     * (only there: a failure at reload would stop nginx).
     */
    if (ngx_test_config
        && evb_store_check((char *) mcf->store_path->name.data, err,
                           sizeof(err))
           != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "evbill: %s", err);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "size=", 5) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 5;
        s.len = value[2].len - 5;

        size = ngx_parse_offset(&s);

        /* LMDB needs a few pages; a map below 64k is a typo */
        if (size == NGX_ERROR || size < 65536) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid store size \"%V\", "
                               "must be at least 64k", &value[2]);
            return NGX_CONF_ERROR;
        }

        mcf->map_size = (size_t) size;
    }

    return NGX_CONF_OK;
}


static char *
ngx_evbill_master_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    char        err[256];
    ngx_str_t  *value;

    if (mcf->master_key_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mcf->master_key_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &mcf->master_key_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* read now, as root and under "nginx -t", so mistakes fail loudly */
    if (evb_master_key_load((char *) mcf->master_key_file.data,
                            mcf->master_key, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "evbill: %s", err);
        return NGX_CONF_ERROR;
    }

    mcf->have_master_key = 1;

    return NGX_CONF_OK;
}


/*
 * A name of this edge node, for CDR ids and invoice numbers, so that
 * several nodes billing one network never issue the same id: 1 to
 * EVB_NODE_ID_MAX characters A-Z and 0-9 (OCPI ids are CiString(36)).
 */
static char *
ngx_evbill_node_id(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mcf->node_id.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > EVB_NODE_ID_MAX) {
        goto invalid;
    }

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'A' && value[1].data[i] <= 'Z')
              || (value[1].data[i] >= '0' && value[1].data[i] <= '9')))
        {
            goto invalid;
        }
    }

    mcf->node_id = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid node id \"%V\", must be 1 to %d upper-case "
                       "letters or digits", &value[1], EVB_NODE_ID_MAX);
    return NGX_CONF_ERROR;
}


static char *
ngx_evbill_cpo(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_main_conf_t *mcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mcf->cpo_country.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* OCPI: country_code is ISO 3166-1 alpha-2, party_id 3 characters */
    if (value[1].len != 2
        || !(value[1].data[0] >= 'A' && value[1].data[0] <= 'Z')
        || !(value[1].data[1] >= 'A' && value[1].data[1] <= 'Z'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid country code \"%V\", must be two "
                           "upper-case letters (ISO 3166-1 alpha-2)",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[2].len != 3) {
        goto invalid_party;
    }

    for (i = 0; i < 3; i++) {
        if (!((value[2].data[i] >= 'A' && value[2].data[i] <= 'Z')
              || (value[2].data[i] >= '0' && value[2].data[i] <= '9')))
        {
            goto invalid_party;
        }
    }

    mcf->cpo_country = value[1];
    mcf->cpo_party = value[2];

    return NGX_CONF_OK;

invalid_party:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid party id \"%V\", must be three upper-case "
                       "letters or digits (OCPI party_id)", &value[2]);
    return NGX_CONF_ERROR;
}


static char *
ngx_evbill_idle_timeout_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *t = data;

    if (*t == 0) {
        return "must be positive";
    }

    return NGX_CONF_OK;
}


static char *
ngx_evbill_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_loc_conf_t *lcf = conf;

    ngx_str_t                 *value;
    ngx_evbill_main_conf_t    *mcf;
    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->api) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* endpoints are paths below the prefix: other kinds cannot route */
    if (clcf->exact_match
#if (NGX_PCRE)
        || clcf->regex
#endif
        || clcf->named || clcf->noname)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be in a prefix location, "
                           "not an exact, regex or named one",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    lcf->api = cmd->offset;
    lcf->prefix = clcf->name;

    /* evbill_app_api public: what needs no sign-in (receipts, ad hoc
     * payments) */
    if (cmd->offset == NGX_EVBILL_API_APP && cf->args->nelts == 2) {
        value = cf->args->elts;

        if (ngx_strcmp(value[1].data, "public") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", only \"public\" "
                               "is allowed", &value[1]);
            return NGX_CONF_ERROR;
        }

        lcf->api = NGX_EVBILL_API_PUBLIC;
    }

    switch (lcf->api) {

    case NGX_EVBILL_API_CHARGER:
        clcf->handler = ngx_evbill_charger_handler;
        break;

    case NGX_EVBILL_API_APP:
        clcf->handler = ngx_evbill_app_handler;
        break;

    case NGX_EVBILL_API_PUBLIC:
        clcf->handler = ngx_evbill_public_handler;
        break;

    default: /* NGX_EVBILL_API_ADMIN */
        clcf->handler = ngx_evbill_admin_handler;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_evbill_module);

    if (!mcf->apis) {
        mcf->api_file = cf->conf_file->file.name.data;
        mcf->api_line = cf->conf_file->line;
    }

    mcf->apis |= lcf->api;

    return NGX_CONF_OK;
}


/*
 * evbill_customer $variable: who is signed in, as the operator's own
 * auth layer (auth_request, a JWT module, a client certificate) sets it;
 * the driver API trusts it and nothing else.
 */
static char *
ngx_evbill_customer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_loc_conf_t *lcf = conf;

    ngx_str_t  *value, name;

    if (lcf->customer_var != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 1;
    name.len = value[1].len - 1;

    lcf->customer_var = ngx_http_get_variable_index(cf, &name);
    if (lcf->customer_var == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_evbill_signature_origin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_evbill_loc_conf_t *lcf = conf;

    u_char     *p, *last;
    ngx_int_t   port;
    ngx_str_t  *value;

    if (lcf->sig_origin.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    p = value[1].data;
    last = p + value[1].len;

    if (value[1].len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0)
    {
        ngx_str_set(&lcf->sig_scheme, "http");
        p += 7;

    } else if (value[1].len > 8
               && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        ngx_str_set(&lcf->sig_scheme, "https");
        p += 8;

    } else {
        goto invalid;
    }

    if (last > p && last[-1] == '/') {
        last--;
    }

    if (p == last) {
        goto invalid;
    }

    lcf->sig_authority.len = last - p;
    lcf->sig_authority.data = ngx_pnalloc(cf->pool, last - p);
    if (lcf->sig_authority.data == NULL) {
        return NGX_CONF_ERROR;
    }

    /* RFC 9421 2.2.3: the authority is lower-case */
    ngx_strlow(lcf->sig_authority.data, p, last - p);

    for (p = lcf->sig_authority.data;
         p < lcf->sig_authority.data + lcf->sig_authority.len;
         p++)
    {
        if (*p == '/' || *p == '?' || *p == '#' || *p == '@' || *p <= ' ') {
            goto invalid;
        }
    }

    /* the port, after an IPv6 literal's ']' or the host: 1 to 65535 */
    p = lcf->sig_authority.data;
    last = p + lcf->sig_authority.len;

    if (*p == '[') {
        p = ngx_strlchr(p, last, ']');
        if (p == NULL || p == lcf->sig_authority.data + 1) {
            goto invalid;
        }

        p++;

        if (p < last && *p != ':') {
            goto invalid;
        }

    } else {
        p = ngx_strlchr(p, last, ':');
        if (p == lcf->sig_authority.data) {
            goto invalid;
        }
    }

    if (p != NULL && p < last) {
        port = ngx_atoi(p + 1, last - p - 1);
        if (port < 1 || port > 65535) {
            goto invalid;
        }
    }

    lcf->sig_origin = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid signature origin \"%V\", must be "
                       "\"http://host[:port]\" or \"https://host[:port]\" "
                       "with a port from 1 to 65535",
                       &value[1]);
    return NGX_CONF_ERROR;
}


/*
 * The store directory, as ngx_create_paths() would make it, but only when
 * nginx really starts (never under "nginx -t"): created 0700 if missing,
 * owned by the worker user and usable by it when the master runs as root.
 */

static ngx_int_t
ngx_evbill_create_store_dir(ngx_cycle_t *cycle, ngx_evbill_main_conf_t *mcf,
    ngx_core_conf_t *ccf)
{
    ngx_err_t         err;
    ngx_file_info_t   fi;
    u_char           *name;

    name = mcf->store_path->name.data;

    if (ngx_create_dir(name, 0700) == NGX_FILE_ERROR) {
        err = ngx_errno;
        if (err != NGX_EEXIST) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, err,
                          ngx_create_dir_n " \"%s\" failed (evbill_store in "
                          "%s:%ui)", name, mcf->store_path->conf_file,
                          mcf->store_path->line);
            return NGX_ERROR;
        }
    }

    if (geteuid() != 0 || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    if (ngx_file_info(name, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      ngx_file_info_n " \"%s\" failed", name);
        return NGX_ERROR;
    }

    if (fi.st_uid != ccf->user) {
        if (chown((const char *) name, ccf->user, -1) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "chown(\"%s\", %d) failed", name,
                          (int) ccf->user);
            return NGX_ERROR;
        }
    }

    if ((fi.st_mode & (S_IRUSR|S_IWUSR|S_IXUSR)) != (S_IRUSR|S_IWUSR|S_IXUSR))
    {
        fi.st_mode |= (S_IRUSR|S_IWUSR|S_IXUSR);

        if (chmod((const char *) name, fi.st_mode) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "chmod() \"%s\" failed", name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The store directory is created and handed to the worker user at start
 * (above), but not the files in it: an LMDB tool run as root on a stopped store
 * leaves a root-owned lock.mdb, and every worker would then fail to open
 * the store and exit, leaving nginx without workers.  Hand them over too,
 * as root in the master, before the workers start.
 */

static ngx_int_t
ngx_evbill_init_module(ngx_cycle_t *cycle)
{
    u_char                  *p;
    ngx_uint_t               i;
    ngx_file_info_t          fi;
    ngx_core_conf_t         *ccf;
    ngx_evbill_main_conf_t  *mcf;
    u_char                   name[NGX_MAX_PATH];

    static const char  *files[] = { "data.mdb", "lock.mdb" };

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_evbill_module);

    if (mcf == NULL || mcf->store_path == NULL) {
        return NGX_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (!ngx_test_config
        && ngx_evbill_create_store_dir(cycle, mcf, ccf) != NGX_OK)
    {
        /* fatal only at the first start: at a reload the master would
         * exit; the workers report a store they cannot open */
        return ngx_process == NGX_PROCESS_MASTER ? NGX_OK : NGX_ERROR;
    }

    if (geteuid() != 0 || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (mcf->store_path->name.len + 1 + ngx_strlen(files[i]) + 1
            > sizeof(name))
        {
            return NGX_OK;
        }

        p = ngx_cpymem(name, mcf->store_path->name.data,
                       mcf->store_path->name.len);
        *p++ = '/';
        ngx_cpystrn(p, (u_char *) files[i], ngx_strlen(files[i]) + 1);

        if (ngx_file_info(name, &fi) == NGX_FILE_ERROR
            || fi.st_uid == ccf->user)
        {
            continue;
        }

        if (ngx_test_config) {
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "evbill: \"%s\" is owned by uid %d, workers run "
                          "as uid %d; nginx will hand it over at start",
                          name, (int) fi.st_uid, (int) ccf->user);
            continue;
        }

        /* never fatal here: on a reload the master would exit; the
         * workers report the store they cannot open themselves */
        if (chown((const char *) name, ccf->user, -1) == -1) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                          "evbill: chown(\"%s\", %d) failed; workers "
                          "may not be able to open the store", name,
                          (int) ccf->user);
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "evbill: \"%s\" was owned by uid %d, handed to the "
                      "worker user", name, (int) fi.st_uid);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_evbill_init_process(ngx_cycle_t *cycle)
{
    char                     err[512];
    ngx_core_conf_t         *ccf;
    ngx_evbill_main_conf_t  *mcf;
    unsigned                 readers;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_evbill_module);

    if (mcf == NULL || mcf->store_path == NULL) {
        return NGX_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    /* old and new workers overlap during reload; each holds one slot */
    readers = (unsigned) ngx_max(126, ccf->worker_processes * 4 + 16);

    if (evb_store_open(&mcf->store, (char *) mcf->store_path->name.data,
                       mcf->map_size, readers, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "evbill: cannot open store \"%V\": %s",
                      &mcf->store_path->name, err);
        return NGX_ERROR;
    }

    if (ngx_evbill_writer_init(cycle, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * One worker sweeps: the store is shared, so a second sweeper would
     * only read the same due sessions again.  The master respawns a
     * crashed worker with the same number, so the sweep survives it.
     */
    if ((mcf->apis & NGX_EVBILL_API_CHARGER) && ngx_worker == 0) {
        mcf->sweep_event.handler = ngx_evbill_sweep_handler;
        mcf->sweep_event.data = mcf;
        mcf->sweep_event.log = cycle->log;
        mcf->sweep_event.cancelable = 1;

        ngx_add_timer(&mcf->sweep_event,
                      ngx_min(mcf->idle_timeout / 2 + 1, 60000));
    }

    return NGX_OK;
}


static void
ngx_evbill_exit_process(ngx_cycle_t *cycle)
{
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_evbill_module);

    if (mcf == NULL || mcf->store == NULL) {
        return;
    }

    /* a writer thread may still be inside a transaction: let exit reap */
    if (ngx_evbill_writer_busy(mcf)) {
        return;
    }

    evb_store_close(mcf->store);
    mcf->store = NULL;
}
