/*
 * The answers of the HTTP APIs, rendered from records for a view.  A
 * view is who reads the answer: the admin API sees every field; the
 * driver API (to come) will not see key ids or store-internal fields.
 * Handlers fetch, then call one of these: they assemble no JSON.
 */

#ifndef EVB_RENDER_H
#define EVB_RENDER_H

#include "evb_core.h"
#include "evb_model.h"


/* A named count of a flat status object ({"chargers": 3, ...}). */
typedef struct {
    const char       *name;
    uint64_t          value;
} evb_counter_t;


/* One key of a charger: {"charger_id", "id", "state", "created_at",
 * "retired_at"?} */
void evb_render_charger_key(evb_buf_t *b, evb_view_e view,
    evb_str_t charger_id, const evb_key_record_t *k);

/* A page of sessions (without readings): {"items": [...], "next":
 * cursor or null}; next "" is null. */
void evb_render_session_page(evb_buf_t *b, evb_view_e view,
    const evb_session_t *items, size_t n, const char *next);

/* One stored tariff version: {"tariff_id", "version", "created_at",
 * "tariff": the stored document verbatim} */
void evb_render_tariff_version(evb_buf_t *b, evb_view_e view,
    evb_str_t tariff_id, uint32_t version, evb_msec_t created_at,
    evb_str_t tariff);

/* The answer to a batch of readings: {"accepted", "duplicates",
 * "last_seq", "cost": the live cost or null, "cost_error"?} */
void evb_render_readings_result(evb_buf_t *b, evb_view_e view,
    uint64_t accepted, uint64_t duplicates, const evb_session_t *s);

/* {"name": value, ...} in the given order */
void evb_render_counters(evb_buf_t *b, evb_view_e view,
    const evb_counter_t *c, size_t n);


#endif /* EVB_RENDER_H */
