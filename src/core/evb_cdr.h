/*
 * OCPI 2.2.1 CDR rendering.
 */

#ifndef EVB_CDR_H
#define EVB_CDR_H

#include "evb_core.h"
#include "evb_model.h"
#include "evb_rate.h"
#include "evb_party.h"


typedef struct {
    evb_str_t            country_code;    /* evbill_cpo */
    evb_str_t            party_id;
    evb_str_t            id;              /* the CDR id (<= 36 chars) */
    const evb_session_t *session;
    const evb_charger_t *charger;         /* doc holds location, evse,
                                             connector */
    const evb_session_start_t  *start;    /* cdr_token from the token
                                             record; NULL: the CPO's
                                             with the uid */
    evb_str_t            invoice_reference_id;   /* len 0: none */
    evb_str_t            tariff_json;     /* the tariff as stored */
    const evb_period_t  *periods;
    size_t               nperiods;
    evb_msec_t           end;             /* session end */
    const evb_rate_result_t  *result;
    evb_msec_t           last_updated;
} evb_cdr_t;


/*
 * The CDR object: country_code, party_id, id, start_date_time,
 * end_date_time, session_id, cdr_token {country_code, party_id, uid, type,
 * contract_id}, auth_method, cdr_location (from the charger: location
 * fields, evse_uid, evse_id, connector_id, connector_standard,
 * connector_format, connector_power_type), currency, tariffs,
 * charging_periods [{start_date_time, dimensions [{type, volume}],
 * tariff_id}], total_cost, total_fixed_cost, total_energy,
 * total_energy_cost, total_time, total_time_cost, total_parking_time,
 * total_parking_cost, total_reservation_cost, invoice_reference_id
 * (when invoiced), last_updated.
 * Volumes are exact decimals (kWh, hours, A, kW).  Returns 0 or -1 if
 * the charger doc cannot be read.
 */
int evb_cdr_render(evb_buf_t *b, evb_arena_t *a, const evb_cdr_t *cdr);


#endif /* EVB_CDR_H */
