/*
 * evbill ops: tariffs.  Versions are immutable; a PUT with other JSON
 * adds the next version, the same JSON again is a replay.
 */

#include <string.h>

#include "evb_ops.h"


static void
evb_op_put_tariff_clear(evb_wop_t *w)
{
    evb_op_put_tariff_t  *o = (evb_op_put_tariff_t *) w;

    o->version = 0;
    o->created = 0;
}


static evb_problem_e
evb_op_put_tariff_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                   rc;
    uint32_t              version;
    evb_str_t             latest;
    evb_op_put_tariff_t  *o = (evb_op_put_tariff_t *) w;

    if (!evb_id_valid(o->tariff_id.data, o->tariff_id.len)
        || o->tariff_json.len == 0)
    {
        return evb_refuse(&o->op, EVB_P_INTERNAL, "no tariff given");
    }

    rc = evb_tx_get_tariff(tx, o->op.arena, o->tariff_id, 0, &latest,
                           &version, NULL);

    if (rc == 0) {
        /* a replayed PUT is not a new version */
        if (latest.len == o->tariff_json.len
            && memcmp(latest.data, o->tariff_json.data, latest.len) == 0)
        {
            o->version = version;
            return EVB_OK;
        }

        version++;

    } else if (rc == EVB_ST_NOTFOUND) {
        version = 1;

    } else {
        return evb_op_store_error(&o->op, rc);
    }

    rc = evb_tx_put_tariff(tx, o->tariff_id, version, o->op.now,
                           o->tariff_json);
    if (rc != 0) {
        return evb_op_store_error(&o->op, rc);
    }

    o->version = version;
    o->created = (version == 1);

    return EVB_OK;
}


void
evb_op_put_tariff_init(evb_op_put_tariff_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_PUT_TARIFF, evb_op_put_tariff_run,
                     evb_op_put_tariff_clear, now, a);
}
