/*
 * OCPI 2.2.1 CDR rendering: every field read back from the output.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_cdr.h"
#include "../../src/core/evb_meter.h"


static const char  tariff_json[] =
    "{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"T1\","
    "\"currency\":\"EUR\",\"last_updated\":\"2026-01-01T00:00:00Z\","
    "\"elements\":["
    "{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":6.00,"
    "\"vat\":20.0,\"step_size\":1}],"
    "\"restrictions\":{\"min_duration\":5400}},"
    "{\"price_components\":[{\"type\":\"TIME\",\"price\":2.00,"
    "\"vat\":20.0,\"step_size\":1}],"
    "\"restrictions\":{\"start_time\":\"17:00\",\"end_time\":\"20:00\"}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.30,"
    "\"vat\":20.0,\"step_size\":1}],"
    "\"restrictions\":{\"min_kwh\":5.0}},"
    "{\"price_components\":["
    "{\"type\":\"FLAT\",\"price\":0.50,\"vat\":20.0,\"step_size\":0},"
    "{\"type\":\"ENERGY\",\"price\":0.20,\"vat\":20.0,\"step_size\":1},"
    "{\"type\":\"TIME\",\"price\":1.00,\"vat\":20.0,\"step_size\":1},"
    "{\"type\":\"PARKING_TIME\",\"price\":3.00,\"vat\":20.0,"
    "\"step_size\":1}]}"
    "]}";

/* the canonical charger doc, as evb_parse_charger writes it */
static const char  charger_doc[] =
    "{\"location\":{\"id\":\"LOC1\",\"name\":\"Depot \\\"Nord\\\"\","
    "\"address\":\"Hafenstra\xc3\x9f" "e 1\",\"city\":\"Hamburg\","
    "\"postal_code\":\"20457\",\"country\":\"DEU\","
    "\"coordinates\":{\"latitude\":\"53.54100\","
    "\"longitude\":\"9.98400\"},\"time_zone\":\"Europe/Berlin\"},"
    "\"evse_uid\":\"EVSE-7\",\"evse_id\":\"DE*EVB*E7\","
    "\"connector\":{\"standard\":\"IEC_62196_T2\",\"format\":\"SOCKET\","
    "\"power_type\":\"AC_3_PHASE\",\"max_electric_power\":22000},"
    "\"tariff_id\":\"T1\"}";


static const evb_json_t *
path(const evb_json_t *v, const char *p)
{
    char         key[64];
    size_t       n;
    const char  *dot;

    while (v != NULL && *p) {
        dot = strchr(p, '.');
        n = dot ? (size_t) (dot - p) : strlen(p);

        if (n >= sizeof(key)) {
            return NULL;
        }

        memcpy(key, p, n);
        key[n] = '\0';

        if (v->type == EVB_JSON_ARRAY && key[0] >= '0' && key[0] <= '9') {
            n = (size_t) atoi(key);
            v = n < v->u.arr.n ? v->u.arr.items[n] : NULL;

        } else {
            v = evb_json_get(v, key);
        }

        p += strlen(key);
        p += *p == '.';
    }

    return v;
}


/* the string, or a number's literal, at p */
static const char *
sval(const evb_json_t *root, const char *p, size_t *len)
{
    const evb_json_t  *v;

    v = path(root, p);

    if (v == NULL
        || (v->type != EVB_JSON_STRING && v->type != EVB_JSON_NUMBER))
    {
        *len = 0;
        return NULL;
    }

    *len = v->u.str.len;
    return v->u.str.data;
}


#define is_at(root, p, want, jt)                                       \
    do {                                                                 \
        size_t       l_;                                                 \
        const char  *s_ = sval(root, p, &l_);                            \
        const evb_json_t  *v_ = path(root, p);                           \
        is_str(s_, l_, want, "%s = %s", p, want);                        \
        if (v_ && v_->type != (jt)) {                                  \
            ok(0, "%s has the JSON type", p);                            \
        }                                                                \
    } while (0)

#define S  EVB_JSON_STRING
#define N  EVB_JSON_NUMBER


/* the dimension of a type in a period, or NULL */
static const evb_json_t *
dim(const evb_json_t *root, size_t period, const char *type)
{
    char               p[64];
    size_t             i;
    const evb_json_t  *dims, *t;

    snprintf(p, sizeof(p), "charging_periods.%zu.dimensions", period);
    dims = path(root, p);

    if (dims == NULL || dims->type != EVB_JSON_ARRAY) {
        return NULL;
    }

    for (i = 0; i < dims->u.arr.n; i++) {
        t = evb_json_get(dims->u.arr.items[i], "type");

        if (t && t->type == EVB_JSON_STRING && strcmp(t->u.str.data, type) == 0)
        {
            return evb_json_get(dims->u.arr.items[i], "volume");
        }
    }

    return NULL;
}


#define is_dim(root, period, ty, want)                                 \
    do {                                                                 \
        const evb_json_t  *d_ = dim(root, period, ty);                   \
        ok(d_ != NULL && d_->type == EVB_JSON_NUMBER,                    \
           "period %d has %s", period, ty);                              \
        if (d_ != NULL) {                                                \
            is_str(d_->u.str.data, d_->u.str.len, want,                  \
                   "period %d %s = %s", period, ty, want);               \
        } else {                                                         \
            ok(0, "period %d %s = %s", period, ty, want);                \
        }                                                                \
    } while (0)


typedef struct {
    evb_period_t  p[16];
    size_t        n;
} col_t;


static void
collect(void *data, const evb_period_t *p, evb_msec_t end)
{
    col_t  *c = data;

    if (c->n < 16) {
        c->p[c->n++] = *p;
    }
}


/*
 * Readings -> meter -> CDR -> the dry run of the CDR's own periods: the
 * same total as the meter's.  Durations are multiples of 36 s so the
 * CDR's hours are exact: 16:42 start, 10 kWh/h to 17:36 (cuts at 17:00
 * and at 5 kWh, 17:12), parked to 18:30 (cut at 90 min, 18:12).
 */
static void
dry_run_of_cdr(evb_arena_t *a, evb_cdr_t *cdr, evb_session_t *sess,
    const evb_rate_ctx_t *ctx)
{
    char                 err[256];
    size_t               nerr, i;
    int64_t              v;
    evb_buf_t            b, in, out;
    evb_msec_t           start;
    evb_json_t          *root, *ans;
    const evb_json_t    *x;
    evb_meter_t          m;
    evb_reading_t        r;
    evb_problem_e        rc;
    evb_policy_t         pol;
    evb_rate_result_t    fin;
    evb_tariff_error_t   errors[EVB_TARIFF_ERRORS_MAX];
    static col_t         c;
    evb_str_t            none = { NULL, 0 };

    static const struct {
        int64_t  t, wh;
        int      state;
    } rd[] = {
        { 54 * 60000, 9000, EVB_READING_CHARGING },
        { 90 * 60000, 9000, EVB_READING_PARKED },
        { 108 * 60000, 9000, EVB_READING_PARKED },
    };

    evb_buf_init(&b);
    evb_buf_init(&in);
    evb_buf_init(&out);

    (void) evb_time_parse_rfc3339("2026-03-10T15:42:00Z", 20, &start);

    rc = evb_meter_init(&m, ctx, start, 0, none);

    for (i = 0; rc == EVB_OK && i < 3; i++) {
        memset(&r, 0, sizeof(r));
        r.seq = i + 1;
        r.timestamp = start + rd[i].t;
        r.energy_wh = rd[i].wh;
        r.state = rd[i].state;
        rc = evb_meter_reading(&m, ctx, &r, collect, &c);
    }

    if (rc == EVB_OK) {
        rc = evb_meter_finish(&m, ctx, start + rd[2].t, rd[2].wh, collect, &c,
                              &fin);
    }

    is_int(rc, EVB_OK, "meter: readings to periods");
    is_int(c.n, 5, "meter: five periods");
    /* 2.20 energy + 1.50 time + 3.60 parking + 0.50 flat */
    is_int(fin.total_cost.excl, 7800000, "meter: total excl");

    sess->started_at = start;
    cdr->periods = c.p;
    cdr->nperiods = c.n;
    cdr->end = start + rd[2].t;
    cdr->result = &fin;

    root = NULL;

    if (evb_cdr_render(&b, a, cdr) != 0
        || evb_json_parse(a, b.data, b.len, 32, &root, err, sizeof(err))
           != EVB_JSON_OK)
    {
        root = NULL;
    }

    ok(root != NULL, "CDR of the meter's periods");

    if (root == NULL) {
        goto done;
    }

    evb_buf_appends(&in, "{\"time_zone\":\"Europe/Berlin\",\"tariffs\":");
    evb_json_write(&in, evb_json_get(root, "tariffs"));
    evb_buf_appends(&in, ",\"session\":{\"start_date_time\":");
    evb_json_write(&in, evb_json_get(root, "start_date_time"));
    evb_buf_appends(&in, ",\"end_date_time\":");
    evb_json_write(&in, evb_json_get(root, "end_date_time"));
    evb_buf_appends(&in, ",\"charging_periods\":");
    evb_json_write(&in, evb_json_get(root, "charging_periods"));
    evb_buf_appends(&in, "}}");

    if (evb_json_parse(a, in.data, in.len, 32, &root, err, sizeof(err))
        != EVB_JSON_OK)
    {
        ok(0, "dry-run input parses: %s", err);
        goto done;
    }

    memset(&pol, 0, sizeof(pol));
    nerr = 0;
    err[0] = '\0';
    rc = evb_rate_dry_run(a, root, &pol, &out, errors, &nerr, err,
                          sizeof(err));
    is_int(rc, EVB_OK, "dry run of the CDR's periods %s", err);

    ans = NULL;

    if (rc != EVB_OK
        || evb_json_parse(a, out.data, out.len, 32, &ans, err, sizeof(err))
           != EVB_JSON_OK)
    {
        ok(0, "dry-run answer parses");
        goto done;
    }

    x = path(ans, "total_cost.excl_vat");
    ok(x != NULL && evb_json_fixed(x, 6, &v) == EVB_NUM_OK
       && v == fin.total_cost.excl,
       "dry run total excl == meter's");
    x = path(ans, "total_cost.incl_vat");
    ok(x != NULL && evb_json_fixed(x, 6, &v) == EVB_NUM_OK
       && v == fin.total_cost.incl,
       "dry run total incl == meter's");
    x = path(ans, "total_energy");
    ok(x != NULL && evb_json_fixed(x, 9, &v) == EVB_NUM_OK
       && v == fin.total_energy,
       "dry run energy == meter's");

done:

    evb_buf_free(&b);
    evb_buf_free(&in);
    evb_buf_free(&out);
}


/*
 * A CDR re-rates to its own totals: readings -> meter -> CDR -> the dry
 * run of the CDR (tariffs, start, end, periods), and every rounded
 * total_*_cost of the re-rate equals the CDR's.  Time volumes are
 * printed at 10^-9 h and snapped back to the ms, so a step_size cannot
 * add a step.  nr readings every step_ms, each adding wh Wh, parked in
 * blocks when park_every > 0.
 */
typedef struct {
    evb_period_t  p[512];
    size_t        n;
} bigcol_t;


static void
bigcollect(void *data, const evb_period_t *p, evb_msec_t end)
{
    bigcol_t  *c = data;

    if (c->n < 512) {
        c->p[c->n] = *p;
    }

    c->n++;
}


static void
rerate_case(evb_arena_t *a, evb_cdr_t *cdr, evb_session_t *sess,
    const char *name, const char *tariff, const char *start_s, int nr,
    int64_t step_ms, int64_t wh, int park_every, const char *want_total)
{
    int                  i, k, same;
    char                 err[256], key[64];
    size_t               nerr, l1;
    int64_t              x, y;
    evb_buf_t            b, in, out;
    evb_msec_t           start;
    evb_json_t          *root, *troot, *ans, *req;
    const evb_json_t    *u, *v;
    const char          *s1;
    evb_meter_t          m;
    evb_reading_t        r;
    evb_problem_e        rc;
    evb_policy_t         pol;
    evb_tariff_t         t;
    evb_rate_ctx_t       ctx;
    evb_rate_result_t    fin;
    evb_tariff_error_t   errors[EVB_TARIFF_ERRORS_MAX];
    static bigcol_t      c;
    evb_str_t            none = { NULL, 0 };

    static const char   *tot[] = {
        "total_cost", "total_energy_cost", "total_time_cost",
        "total_parking_cost", "total_fixed_cost", "total_reservation_cost"
    };

    evb_buf_init(&b);
    evb_buf_init(&in);
    evb_buf_init(&out);
    memset(&c, 0, sizeof(c));

    if (evb_json_parse(a, tariff, strlen(tariff), 32, &troot, err,
                       sizeof(err))
        != EVB_JSON_OK
        || evb_tariff_parse(a, troot, &t, errors, &nerr) != EVB_OK
        || evb_time_parse_rfc3339(start_s, strlen(start_s), &start) != 0)
    {
        ok(0, "%s: fixture", name);
        goto done;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.tariffs = &t;
    ctx.ntariffs = 1;
    ctx.tz = evb_tz_get("Europe/Berlin", err, sizeof(err));
    ctx.policy.rounding = EVB_ROUND_HALF_UP;

    rc = evb_meter_init(&m, &ctx, start, 0, none);

    for (i = 1; rc == EVB_OK && i <= nr; i++) {
        memset(&r, 0, sizeof(r));
        r.seq = (uint64_t) i;
        r.timestamp = start + i * step_ms;
        k = park_every > 0 && (i / park_every) % 2 == 1;
        r.state = k ? EVB_READING_PARKED : EVB_READING_CHARGING;
        r.energy_wh = (m.last_energy / 1000000) + (k ? 0 : wh);
        rc = evb_meter_reading(&m, &ctx, &r, bigcollect, &c);
    }

    if (rc == EVB_OK) {
        rc = evb_meter_finish(&m, &ctx, start + nr * step_ms,
                              m.last_energy / 1000000, bigcollect, &c,
                              &fin);
    }

    if (rc != EVB_OK || c.n > 512) {
        ok(0, "%s: meter (%d, %zu periods)", name, (int) rc, c.n);
        goto done;
    }

    sess->started_at = start;
    sess->stopped_at = start + nr * step_ms;
    cdr->tariff_json.data = tariff;
    cdr->tariff_json.len = strlen(tariff);
    cdr->periods = c.p;
    cdr->nperiods = c.n;
    cdr->end = start + nr * step_ms;
    cdr->result = &fin;

    root = NULL;

    if (evb_cdr_render(&b, a, cdr) != 0
        || evb_json_parse(a, b.data, b.len, 32, &root, err, sizeof(err))
           != EVB_JSON_OK)
    {
        ok(0, "%s: CDR renders", name);
        goto done;
    }

    s1 = sval(root, "total_cost.excl_vat", &l1);
    is_str(s1, l1, want_total, "%s: CDR total_cost %s (%zu periods)", name,
           want_total, c.n);

    evb_buf_appends(&in, "{\"time_zone\":\"Europe/Berlin\",\"tariffs\":");
    evb_json_write(&in, evb_json_get(root, "tariffs"));
    evb_buf_appends(&in, ",\"session\":{\"start_date_time\":");
    evb_json_write(&in, evb_json_get(root, "start_date_time"));
    evb_buf_appends(&in, ",\"end_date_time\":");
    evb_json_write(&in, evb_json_get(root, "end_date_time"));
    evb_buf_appends(&in, ",\"charging_periods\":");
    evb_json_write(&in, evb_json_get(root, "charging_periods"));
    evb_buf_appends(&in, "}}");

    memset(&pol, 0, sizeof(pol));
    nerr = 0;
    err[0] = '\0';

    if (evb_json_parse(a, in.data, in.len, 32, &req, err, sizeof(err))
        != EVB_JSON_OK
        || evb_rate_dry_run(a, req, &pol, &out, errors, &nerr, err,
                            sizeof(err)) != EVB_OK
        || evb_json_parse(a, out.data, out.len, 32, &ans, err, sizeof(err))
           != EVB_JSON_OK)
    {
        ok(0, "%s: re-rate of the CDR: %s", name, err);
        goto done;
    }

    same = 1;

    for (i = 0; i < 6; i++) {
        for (k = 0; k < 2; k++) {
            snprintf(key, sizeof(key), "%s.%s", tot[i],
                     k ? "incl_vat" : "excl_vat");
            u = path(root, key);
            snprintf(key, sizeof(key), "rounded.%s.%s", tot[i],
                     k ? "incl_vat" : "excl_vat");
            v = path(ans, key);

            if ((u == NULL) != (v == NULL)
                || (u != NULL
                    && (evb_json_fixed(u, 6, &x) != EVB_NUM_OK
                        || evb_json_fixed(v, 6, &y) != EVB_NUM_OK
                        || x != y)))
            {
                printf("# %s: %s differs\n", name, key);
                same = 0;
            }
        }
    }

    ok(same, "%s: the re-rate's rounded totals are the CDR's, all six",
       name);

    v = path(ans, "total_cost.excl_vat");
    ok(v != NULL && evb_json_fixed(v, 6, &x) == EVB_NUM_OK
       && x == fin.total_cost.excl,
       "%s: the re-rate's exact total is the meter's", name);

done:

    evb_buf_free(&b);
    evb_buf_free(&in);
    evb_buf_free(&out);
}


static evb_json_t *
render(evb_arena_t *a, const evb_cdr_t *cdr, evb_buf_t *b)
{
    char         err[256];
    evb_json_t  *root;

    evb_buf_reset(b);

    if (evb_cdr_render(b, a, cdr) != 0 || b->oom) {
        return NULL;
    }

    if (evb_json_parse(a, b->data, b->len, 32, &root, err, sizeof(err))
        != EVB_JSON_OK)
    {
        printf("# %s\n# %.*s\n", err, (int) b->len, b->data);
        return NULL;
    }

    return root;
}


int
main(void)
{
    char                err[256];
    size_t              i, nerr;
    evb_buf_t           b, w;
    evb_cdr_t           cdr;
    evb_json_t         *root, *troot;
    const evb_json_t   *v;
    evb_msec_t          start, end;
    evb_arena_t        *a;
    evb_period_t        p[3];
    evb_tariff_t        tariff;
    evb_charger_t       charger;
    evb_session_t       sess;
    evb_rate_ctx_t      ctx;
    evb_problem_e       rc;
    evb_rate_state_t    st;
    evb_rate_result_t   res;
    evb_tariff_error_t  errors[EVB_TARIFF_ERRORS_MAX];
    evb_str_t           none = { NULL, 0 };

    static const struct {
        evb_token_type_e   type;
        const char        *name;
        const char        *auth;
    } tokens[] = {
        { EVB_TOKEN_APP_USER, "APP_USER", "COMMAND" },
        { EVB_TOKEN_AD_HOC_USER, "AD_HOC_USER", "COMMAND" },
        { EVB_TOKEN_OTHER, "OTHER", "WHITELIST" },
    };

    tap_plan(119);

    a = evb_arena_create(65536);
    if (a == NULL) {
        return 1;
    }

    evb_buf_init(&b);
    evb_buf_init(&w);

    if (evb_json_parse(a, tariff_json, sizeof(tariff_json) - 1, 32, &troot,
                       err, sizeof(err))
        != EVB_JSON_OK
        || evb_tariff_parse(a, troot, &tariff, errors, &nerr) != EVB_OK)
    {
        printf("Bail out! test tariff\n");
        return 1;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.tariffs = &tariff;
    ctx.ntariffs = 1;
    ctx.tz = evb_tz_get("Europe/Berlin", err, sizeof(err));

    if (ctx.tz == NULL
        || evb_time_parse_rfc3339("2026-03-10T15:40:00Z", 20, &start) != 0)
    {
        printf("Bail out! zone or time\n");
        return 1;
    }

    /* 16:40-17:00 charging, 9 ms charging at 17:00 (a half 10^-6 h:
     * rounds up), 30 min parked */
    memset(p, 0, sizeof(p));
    p[0].start = start;
    p[0].energy = 1500000000;
    p[0].time = 20LL * 60 * 1000000;
    p[0].has_min_current = 1;
    p[0].has_max_current = 1;
    p[0].has_min_power = 1;
    p[0].has_max_power = 1;
    p[0].min_current = 13500000;
    p[0].max_current = 16000000;
    p[0].min_power = 9200000;
    p[0].max_power = 11040000;
    p[1].start = start + 20 * 60000;
    p[1].energy = 1000000;
    p[1].time = 9000;
    p[2].start = p[1].start + 9;
    p[2].parking = 30LL * 60 * 1000000;
    end = p[2].start + 30 * 60000;

    rc = evb_rate_init(&st, &ctx, start, none, 0);

    for (i = 0; rc == EVB_OK && i < 3; i++) {
        rc = evb_rate_add(&st, &ctx, &p[i], i < 2 ? p[i + 1].start : end,
                          NULL);
    }

    if (rc == EVB_OK) {
        rc = evb_rate_result(&st, &ctx, &res, NULL);
    }

    is_int(rc, EVB_OK, "the periods rate");

    memset(&charger, 0, sizeof(charger));
    charger.charger_id.data = "CH1";
    charger.charger_id.len = 3;
    charger.doc.data = charger_doc;
    charger.doc.len = sizeof(charger_doc) - 1;

    memset(&sess, 0, sizeof(sess));
    sess.charger_id = charger.charger_id;
    sess.session_id.data = "S-42";
    sess.session_id.len = 4;
    sess.state = EVB_SESSION_STOPPED;
    sess.connector_id = 2;
    sess.id_token.data = "04A2B3C4D5";
    sess.id_token.len = 10;
    sess.token_type = EVB_TOKEN_RFID;
    sess.started_at = start;
    sess.stopped_at = end;
    sess.meter_start_wh = 1000;
    sess.meter_stop_wh = 2501;

    memset(&cdr, 0, sizeof(cdr));
    cdr.country_code.data = "DE";
    cdr.country_code.len = 2;
    cdr.party_id.data = "EVB";
    cdr.party_id.len = 3;
    cdr.id.data = "CH1-S-42";
    cdr.id.len = 8;
    cdr.session = &sess;
    cdr.charger = &charger;
    cdr.tariff_json.data = tariff_json;
    cdr.tariff_json.len = sizeof(tariff_json) - 1;
    cdr.periods = p;
    cdr.nperiods = 3;
    cdr.end = end;
    cdr.result = &res;
    cdr.last_updated = end + 1500;

    root = render(a, &cdr, &b);
    ok(root != NULL && root->type == EVB_JSON_OBJECT,
       "renders a JSON object");

    if (root == NULL) {
        printf("Bail out! no CDR\n");
        return 1;
    }

    is_at(root, "country_code", "DE", S);
    is_at(root, "party_id", "EVB", S);
    is_at(root, "id", "CH1-S-42", S);
    is_at(root, "start_date_time", "2026-03-10T15:40:00.000Z", S);
    is_at(root, "end_date_time", "2026-03-10T16:30:00.009Z", S);
    is_at(root, "session_id", "S-42", S);
    is_at(root, "last_updated", "2026-03-10T16:30:01.509Z", S);

    is_at(root, "cdr_token.country_code", "DE", S);
    is_at(root, "cdr_token.party_id", "EVB", S);
    is_at(root, "cdr_token.uid", "04A2B3C4D5", S);
    is_at(root, "cdr_token.type", "RFID", S);
    is_at(root, "cdr_token.contract_id", "04A2B3C4D5", S);
    is_at(root, "auth_method", "WHITELIST", S);

    is_at(root, "cdr_location.id", "LOC1", S);
    is_at(root, "cdr_location.name", "Depot \"Nord\"", S);
    is_at(root, "cdr_location.address", "Hafenstra\xc3\x9f" "e 1", S);
    is_at(root, "cdr_location.city", "Hamburg", S);
    is_at(root, "cdr_location.postal_code", "20457", S);
    is_at(root, "cdr_location.country", "DEU", S);
    is_at(root, "cdr_location.coordinates.latitude", "53.54100", S);
    is_at(root, "cdr_location.coordinates.longitude", "9.98400", S);
    is_at(root, "cdr_location.evse_uid", "EVSE-7", S);
    is_at(root, "cdr_location.evse_id", "DE*EVB*E7", S);
    is_at(root, "cdr_location.connector_id", "2", S);
    is_at(root, "cdr_location.connector_standard", "IEC_62196_T2", S);
    is_at(root, "cdr_location.connector_format", "SOCKET", S);
    is_at(root, "cdr_location.connector_power_type", "AC_3_PHASE", S);
    ok(path(root, "cdr_location.time_zone") == NULL
       && path(root, "cdr_location.max_electric_power") == NULL,
       "no fields CdrLocation does not have");

    is_at(root, "currency", "EUR", S);

    v = path(root, "tariffs");
    ok(v != NULL && v->type == EVB_JSON_ARRAY && v->u.arr.n == 1,
       "tariffs: one");
    evb_buf_reset(&w);

    if (v != NULL && v->type == EVB_JSON_ARRAY && v->u.arr.n == 1) {
        evb_json_write(&w, v->u.arr.items[0]);
    }

    is_str(w.data, w.len, tariff_json, "the tariff verbatim");

    v = path(root, "charging_periods");
    ok(v != NULL && v->type == EVB_JSON_ARRAY && v->u.arr.n == 3,
       "three charging periods");

    is_at(root, "charging_periods.0.start_date_time",
          "2026-03-10T15:40:00.000Z", S);
    is_at(root, "charging_periods.1.start_date_time",
          "2026-03-10T16:00:00.000Z", S);
    is_at(root, "charging_periods.2.start_date_time",
          "2026-03-10T16:00:00.009Z", S);
    is_at(root, "charging_periods.0.tariff_id", "T1", S);
    is_at(root, "charging_periods.2.tariff_id", "T1", S);

    is_dim(root, 0, "ENERGY", "1.5");
    is_dim(root, 0, "TIME", "0.333333333");
    is_dim(root, 0, "MIN_CURRENT", "13.5");
    is_dim(root, 0, "MAX_CURRENT", "16");
    is_dim(root, 0, "MIN_POWER", "9.2");
    is_dim(root, 0, "MAX_POWER", "11.04");
    ok(dim(root, 0, "PARKING_TIME") == NULL, "period 0: no parking");

    is_dim(root, 1, "ENERGY", "0.001");
    is_dim(root, 1, "TIME", "0.0000025");
    ok(dim(root, 1, "MIN_POWER") == NULL && dim(root, 1, "MAX_CURRENT")
       == NULL, "period 1: no MIN/MAX without measurements");

    is_dim(root, 2, "ENERGY", "0");
    is_dim(root, 2, "PARKING_TIME", "0.5");
    ok(dim(root, 2, "TIME") == NULL, "period 2: no TIME");

    is_at(root, "total_energy", "1.501", N);
    /* 3000.009 s = 0.83333583.. h */
    is_at(root, "total_time", "0.833335833", N);
    is_at(root, "total_parking_time", "0.5", N);

    is_at(root, "total_cost.excl_vat", "2.63", N);
    is_at(root, "total_cost.incl_vat", "3.16", N);
    is_at(root, "total_energy_cost.excl_vat", "0.30", N);
    is_at(root, "total_energy_cost.incl_vat", "0.36", N);
    is_at(root, "total_time_cost.excl_vat", "0.33", N);
    is_at(root, "total_time_cost.incl_vat", "0.40", N);
    is_at(root, "total_parking_cost.excl_vat", "1.50", N);
    is_at(root, "total_parking_cost.incl_vat", "1.80", N);
    is_at(root, "total_fixed_cost.excl_vat", "0.50", N);
    is_at(root, "total_fixed_cost.incl_vat", "0.60", N);
    ok(path(root, "total_reservation_cost.excl_vat") != NULL,
       "total_reservation_cost present");

    /* the other token types */
    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        sess.token_type = tokens[i].type;
        root = render(a, &cdr, &b);
        ok(root != NULL, "renders with %s", tokens[i].name);

        if (root == NULL) {
            continue;
        }

        is_at(root, "cdr_token.type", tokens[i].name, S);
        is_at(root, "auth_method", tokens[i].auth, S);
    }

    sess.token_type = EVB_TOKEN_RFID;

    /* a period naming another tariff keeps it */
    p[1].tariff_id.data = "T9";
    p[1].tariff_id.len = 2;
    root = render(a, &cdr, &b);
    ok(root != NULL, "renders with a period tariff_id");

    if (root != NULL) {
        is_at(root, "charging_periods.1.tariff_id", "T9", S);
        is_at(root, "charging_periods.0.tariff_id", "T1", S);
    }

    /* no periods at all: still one (OCPI requires 1..*) */
    cdr.nperiods = 0;
    root = render(a, &cdr, &b);
    v = root ? path(root, "charging_periods") : NULL;
    ok(v != NULL && v->type == EVB_JSON_ARRAY && v->u.arr.n == 1,
       "no periods: one empty period");

    if (root != NULL) {
        is_at(root, "charging_periods.0.start_date_time",
              "2026-03-10T15:40:00.000Z", S);
        is_dim(root, 0, "ENERGY", "0");
        is_dim(root, 0, "TIME", "0");
    }

    cdr.nperiods = 3;

    /* a start record (issue 9): cdr_token from the token record; and
     * the invoice's number once invoiced */
    {
        evb_session_start_t  sst;

        memset(&sst, 0, sizeof(sst));
        sst.token_country.data = "NL";
        sst.token_country.len = 2;
        sst.token_party.data = "ABC";
        sst.token_party.len = 3;
        sst.contract_id.data = "NL-ABC-C1-X";
        sst.contract_id.len = 11;
        cdr.start = &sst;
        cdr.invoice_reference_id.data = "INV-2026-000001";
        cdr.invoice_reference_id.len = 15;

        root = render(a, &cdr, &b);
        ok(root != NULL, "renders with a start record");

        if (root != NULL) {
            is_at(root, "cdr_token.country_code", "NL", S);
            is_at(root, "cdr_token.party_id", "ABC", S);
            is_at(root, "cdr_token.contract_id", "NL-ABC-C1-X", S);
            is_at(root, "invoice_reference_id", "INV-2026-000001", S);
        }

        /* a token record without issuer: the CPO's, its contract id */
        sst.token_country.len = 0;
        sst.token_party.len = 0;
        cdr.invoice_reference_id.len = 0;

        root = render(a, &cdr, &b);

        if (root != NULL) {
            is_at(root, "cdr_token.country_code", "DE", S);
            is_at(root, "cdr_token.contract_id", "NL-ABC-C1-X", S);
        }

        ok(root != NULL && path(root, "invoice_reference_id") == NULL,
           "not invoiced: no invoice_reference_id");

        cdr.start = NULL;
    }

    /* an unreadable charger doc: -1, buffer as before */
    evb_buf_reset(&b);
    evb_buf_appends(&b, "prefix");
    charger.doc.data = "{\"location\":{\"id\":\"L\"}}";
    charger.doc.len = strlen(charger.doc.data);
    is_int(evb_cdr_render(&b, a, &cdr), -1, "a doc without address fails");
    is_str(b.data, b.len, "prefix", "and leaves the buffer as it was");

    charger.doc.data = "not json";
    charger.doc.len = 8;
    is_int(evb_cdr_render(&b, a, &cdr), -1, "a doc that is not JSON fails");

    charger.doc.data = charger_doc;
    charger.doc.len = sizeof(charger_doc) - 1;
    dry_run_of_cdr(a, &cdr, &sess, &ctx);

    /* 10 minutes of TIME at 6.00/h in 60 s steps: 1.00, not 1.10 */
    rerate_case(a, &cdr, &sess, "10 min, TIME step 60",
        "{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"T6\","
        "\"currency\":\"EUR\",\"last_updated\":\"2026-01-01T00:00:00Z\","
        "\"elements\":[{\"price_components\":[{\"type\":\"TIME\","
        "\"price\":6.00,\"step_size\":60}]}]}",
        "2026-03-10T15:40:00Z", 10, 60000, 100, 0, "1.00");

    /* 2,999 readings 15 s apart (0.004166.. h), parked 10 min in every
     * 20 (74 steps of 300 s), energy with a peak window, VAT */
    rerate_case(a, &cdr, &sess, "long session, parking, step 300",
        "{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"T7\","
        "\"currency\":\"EUR\",\"last_updated\":\"2026-01-01T00:00:00Z\","
        "\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.45,"
        "\"vat\":19,\"step_size\":1}],"
        "\"restrictions\":{\"start_time\":\"18:00\",\"end_time\":\"20:00\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.35,"
        "\"vat\":19,\"step_size\":1},{\"type\":\"TIME\",\"price\":1.20,"
        "\"vat\":19,\"step_size\":300},{\"type\":\"PARKING_TIME\","
        "\"price\":0.90,\"vat\":19,\"step_size\":300},{\"type\":\"FLAT\","
        "\"price\":0.50,\"vat\":19,\"step_size\":0}]}]}",
        "2026-03-10T15:40:00Z", 2999, 15000, 3, 40, "15.31");

    evb_buf_free(&b);
    evb_buf_free(&w);
    evb_arena_destroy(a);

    return tap_done();
}
