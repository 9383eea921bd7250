/*
 * evbill ops: what every op shares (see evb_ops.h).
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "evb_ops.h"


evb_problem_e
evb_refuse(evb_op_t *op, evb_problem_e p, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(op->w.detail, sizeof(op->w.detail), fmt, ap);
    va_end(ap);

    /* EVB_OK is no refusal: never let a refusal pass as success */
    return p == EVB_OK ? EVB_P_INTERNAL : p;
}


evb_problem_e
evb_op_store_error(evb_op_t *op, int rc)
{
    if (rc == EVB_ST_NOTFOUND) {
        /* an index or record missing where the rules need it: damage */
        return evb_refuse(op, EVB_P_STORE_UNAVAILABLE,
                          "a stored record is missing");
    }

    return evb_tx_error(&op->w, rc);
}


void
evb_op_base_init(evb_op_t *op, evb_op_kind_e kind, evb_wop_run_pt run,
    evb_wop_clear_pt clear, evb_msec_t now, evb_arena_t *a)
{
    op->w.run = run;
    op->w.clear = clear;
    op->w.problem = EVB_OK;
    op->w.detail[0] = '\0';
    op->kind = kind;
    op->now = now;
    op->arena = a;
}


/* a bound for a detail: "365 d", "6 h", "300 s" */
void
evb_span_text(char *buf, size_t len, evb_msec_t ms)
{
    if (ms % 86400000 == 0) {
        snprintf(buf, len, "%lld d", (long long) (ms / 86400000));

    } else if (ms % 3600000 == 0) {
        snprintf(buf, len, "%lld h", (long long) (ms / 3600000));

    } else if (ms % 1000 == 0) {
        snprintf(buf, len, "%lld s", (long long) (ms / 1000));

    } else {
        snprintf(buf, len, "%lld ms", (long long) ms);
    }
}
