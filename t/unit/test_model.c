/*
 * Records: request parsers and their problems, idempotency comparisons,
 * renderers' exact output, problem rendering.
 */

#include <stdlib.h>

#include "tap.h"
#include "../../src/core/evb_model.h"


static evb_arena_t        *arena;
static char                detail[256];
static evb_field_error_t   errs[EVB_FIELD_ERRORS_MAX];
static size_t              nerrs;


/* the pointer a detail's field name stands for: "readings[2].seq" is
 * "/readings/2/seq" */
static const char *
ptr_of(const char *field)
{
    static char  buf[128];
    size_t       n;

    n = 0;
    buf[n++] = '/';

    for ( ; *field && n + 1 < sizeof(buf); field++) {
        if (*field == '.' || *field == '[') {
            buf[n++] = '/';

        } else if (*field != ']') {
            buf[n++] = *field;
        }
    }

    buf[n] = '\0';

    return buf;
}


/* the first error of the list is the refusal: its problem, its pointer */
static void
first_error_is(evb_problem_e want, const char *field)
{
    const char  *ptr;

    ptr = ptr_of(field);

    ok(nerrs >= 1 && errs[0].problem == want
       && strcmp(errs[0].pointer, ptr) == 0,
       "errors[0] is %s at %s (%zu errors, first %s at %s)",
       evb_problem_info(want)->name, ptr, nerrs,
       nerrs ? evb_problem_info(errs[0].problem)->name : "-",
       nerrs ? errs[0].pointer : "-");
}


static evb_json_t *
jsn(const char *text, size_t len)
{
    char         err[128];
    evb_json_t  *v;

    if (text == NULL) {
        return NULL;
    }

    if (evb_json_parse(arena, text, len, EVB_JSON_MAX_DEPTH, &v,
                       err, sizeof(err))
        != EVB_JSON_OK)
    {
        printf("# test JSON does not parse: %s: %s\n", err, text);
        return NULL;
    }

    return v;
}


static evb_json_t *
js(const char *text)
{
    return jsn(text, strlen(text));
}


#define START_BASE                                                        \
    "\"session_id\":\"S-1\",\"connector_id\":2,\"id_token\":\"04A1B2\","  \
    "\"timestamp\":\"2026-11-25T17:16:06.123+01:00\",\"meter_start_wh\":1000"


static evb_problem_e
start(const char *body, evb_start_t *out)
{
    evb_start_t  dummy;

    detail[0] = '\0';
    nerrs = 0;

    return evb_parse_start(arena, js(body), out ? out : &dummy, detail,
                           sizeof(detail), errs, &nerrs);
}


static void
start_bad(const char *body, evb_problem_e want, const char *field)
{
    is_int(start(body, NULL), want, "start %s -> %s", body,
           evb_problem_info(want)->name);
    ok(strncmp(detail, field, strlen(field)) == 0
       && detail[strlen(field)] == ':', "detail names %s: %s", field,
       detail);
    first_error_is(want, field);
}


static evb_problem_e
readings(const char *body, evb_reading_t **r, size_t *n)
{
    size_t          dn;
    evb_reading_t  *dr;

    detail[0] = '\0';
    nerrs = 0;

    return evb_parse_readings(arena, js(body), r ? r : &dr, n ? n : &dn,
                              detail, sizeof(detail), errs, &nerrs);
}


static void
reading_bad(const char *body, evb_problem_e want, const char *field)
{
    is_int(readings(body, NULL, NULL), want, "readings %s -> %s", body,
           evb_problem_info(want)->name);
    ok(strncmp(detail, field, strlen(field)) == 0
       && detail[strlen(field)] == ':', "detail names %s: %s", field,
       detail);
    first_error_is(want, field);
}


static void
stop_bad(const char *body, evb_problem_e want, const char *field)
{
    evb_stop_t  s;

    nerrs = 0;
    is_int(evb_parse_stop(arena, js(body), &s, detail, sizeof(detail), errs,
                          &nerrs),
           want, "stop %s -> %s", body, evb_problem_info(want)->name);
    ok(strncmp(detail, field, strlen(field)) == 0
       && detail[strlen(field)] == ':', "detail names %s: %s", field,
       detail);
    first_error_is(want, field);
}


/* a 32-byte secret, 0x00..0x1f */
#define SECRET_B64  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

#define LOC_BASE                                                          \
    "\"id\":\"LOC1\",\"name\":\"Depot \\\"Nord\\\"\",\"address\":"        \
    "\"Hauptstra\xc3\x9f" "e 1\",\"city\":\"K\xc3\xb6ln\","               \
    "\"postal_code\":\"50667\",\"country\":\"DEU\""

#define COORD_OK  "\"coordinates\":{\"latitude\":\"50.93812\","           \
                  "\"longitude\":\"-6.943210\"}"

#define CON_OK    "\"connector\":{\"standard\":\"IEC_62196_T2\","         \
                  "\"format\":\"SOCKET\",\"power_type\":\"AC_3_PHASE\","  \
                  "\"max_electric_power\":22000}"


static char  cbody[2048];


static const char *
charger_body(const char *loc_extra, const char *coord, const char *tz,
    const char *rest)
{
    snprintf(cbody, sizeof(cbody),
             "{\"location\":{" LOC_BASE "%s,%s,\"time_zone\":\"%s\"},"
             "\"evse_uid\":\"E1\",\"evse_id\":\"DE*ABC*E1\",%s}",
             loc_extra, coord, tz, rest);
    return cbody;
}


static evb_problem_e
charger(const char *body, evb_charger_t *out)
{
    evb_str_t      id = evb_str_lit("CP-1");
    evb_charger_t  dummy;

    detail[0] = '\0';
    nerrs = 0;

    return evb_parse_charger(arena, js(body), id, out ? out : &dummy,
                             detail, sizeof(detail), errs, &nerrs);
}


static void
charger_bad(const char *body, evb_problem_e want, const char *field)
{
    is_int(charger(body, NULL), want, "charger -> %s (%s)",
           evb_problem_info(want)->name, field);
    ok(strncmp(detail, field, strlen(field)) == 0
       && detail[strlen(field)] == ':', "detail names %s: %s", field,
       detail);
    first_error_is(want, field);
}


static void
test_start(void)
{
    evb_start_t    s;
    evb_problem_e  rc;

    rc = start("{" START_BASE "}", &s);
    is_int(rc, EVB_OK, "start: minimal");
    is_str(s.session_id.data, s.session_id.len, "S-1", "session_id");
    is_int(s.connector_id, 2, "connector_id");
    is_str(s.id_token.data, s.id_token.len, "04A1B2", "id_token");
    is_int(s.token_type, EVB_TOKEN_RFID, "token_type defaults to RFID");
    is_int(s.timestamp, 1795626966123LL - 3600000, "timestamp with offset");
    is_int(s.meter_start_wh, 1000, "meter_start_wh");
    is_int(s.tariff_id.len, 0, "no tariff");
    is_int(s.ocmf.len, 0, "no ocmf");

    rc = start("{" START_BASE ",\"token_type\":\"APP_USER\",\"tariff_id\":"
               "\"T1\",\"ocmf\":\"OCMF|{}|{}\",\"extra\":[1,2]}", &s);
    is_int(rc, EVB_OK, "start: all fields and an unknown one");
    is_int(s.token_type, EVB_TOKEN_APP_USER, "token_type APP_USER");
    is_str(s.tariff_id.data, s.tariff_id.len, "T1", "tariff_id");
    is_str(s.ocmf.data, s.ocmf.len, "OCMF|{}|{}", "ocmf");

    rc = start("{" START_BASE ",\"tariff_id\":null,\"token_type\":null}", &s);
    is_int(rc, EVB_OK, "optional null is absent");
    is_int(s.token_type, EVB_TOKEN_RFID, "null token_type defaults");

    rc = start("{\"session_id\":\"S\",\"connector_id\":4294967295,"
               "\"id_token\":\"x\",\"timestamp\":\"2026-01-01T00:00:00Z\","
               "\"meter_start_wh\":9223372036854}", &s);
    is_int(rc, EVB_OK, "start: upper bounds");
    is_int(s.meter_start_wh, EVB_REGISTER_MAX_WH, "meter_start_wh max");

    /* registers rating cannot represent (10^-9 kWh in int64) */
    is_int(start("{\"session_id\":\"S\",\"connector_id\":1,"
                 "\"id_token\":\"x\",\"timestamp\":\"2026-01-01T00:00:00Z\","
                 "\"meter_start_wh\":9223372036855}", NULL),
           EVB_P_OUT_OF_RANGE, "start: meter_start_wh above the register max");
    is_int(s.connector_id, 4294967295U, "connector_id max");

    is_int(start("[1]", NULL), EVB_P_INVALID_TYPE, "start: root array");
    is_int(start("\"x\"", NULL), EVB_P_INVALID_TYPE, "start: root string");

    start_bad("{\"connector_id\":2}", EVB_P_MISSING_FIELD, "session_id");
    start_bad("{\"session_id\":\"S\"}", EVB_P_MISSING_FIELD, "connector_id");
    start_bad("{\"session_id\":\"a/b\",\"connector_id\":1}",
              EVB_P_INVALID_VALUE, "session_id");
    start_bad("{\"session_id\":\"\",\"connector_id\":1}",
              EVB_P_INVALID_VALUE, "session_id");
    start_bad("{\"session_id\":7}", EVB_P_INVALID_TYPE, "session_id");
    start_bad("{\"session_id\":null}", EVB_P_INVALID_TYPE, "session_id");
    start_bad("{\"session_id\":\"S\",\"connector_id\":\"2\"}",
              EVB_P_INVALID_TYPE, "connector_id");
    start_bad("{\"session_id\":\"S\",\"connector_id\":2.0}",
              EVB_P_NOT_AN_INTEGER, "connector_id");
    start_bad("{\"session_id\":\"S\",\"connector_id\":0}",
              EVB_P_INVALID_VALUE, "connector_id");
    start_bad("{\"session_id\":\"S\",\"connector_id\":4294967296}",
              EVB_P_OUT_OF_RANGE, "connector_id");
    start_bad("{\"session_id\":\"S\",\"connector_id\":1e2}",
              EVB_P_NOT_AN_INTEGER, "connector_id");
    start_bad("{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"\"}",
              EVB_P_INVALID_VALUE, "id_token");
    start_bad("{" START_BASE ",\"token_type\":\"rfid\"}",
              EVB_P_INVALID_VALUE, "token_type");
    start_bad("{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"x\","
              "\"timestamp\":\"2026-02-30T00:00:00Z\"}",
              EVB_P_INVALID_VALUE, "timestamp");
    start_bad("{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"x\","
              "\"timestamp\":1}", EVB_P_INVALID_TYPE, "timestamp");
    start_bad("{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"x\","
              "\"timestamp\":\"2026-01-01T00:00:00Z\"}",
              EVB_P_MISSING_FIELD, "meter_start_wh");
    start_bad("{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"x\","
              "\"timestamp\":\"2026-01-01T00:00:00Z\",\"meter_start_wh\":-1}",
              EVB_P_INVALID_VALUE, "meter_start_wh");
    start_bad("{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"x\","
              "\"timestamp\":\"2026-01-01T00:00:00Z\","
              "\"meter_start_wh\":9223372036854775808}",
              EVB_P_OUT_OF_RANGE, "meter_start_wh");
    start_bad("{" START_BASE ",\"tariff_id\":\"\"}",
              EVB_P_INVALID_VALUE, "tariff_id");
    start_bad("{" START_BASE ",\"ocmf\":\"\"}", EVB_P_INVALID_VALUE, "ocmf");
    start_bad("{" START_BASE ",\"ocmf\":{}}", EVB_P_INVALID_TYPE, "ocmf");
}


static void
test_id_token_max(void)
{
    char  body[600], tok[300];

    /* the token reaches the CDR's cdr_token.uid: OCPI CiString(36) */
    memset(tok, 'A', 256);
    tok[36] = '\0';
    snprintf(body, sizeof(body),
             "{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"%s\","
             "\"timestamp\":\"2026-01-01T00:00:00Z\",\"meter_start_wh\":0}",
             tok);
    is_int(start(body, NULL), EVB_OK, "id_token of 36 bytes");

    tok[36] = 'A';
    tok[37] = '\0';
    snprintf(body, sizeof(body),
             "{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"%s\","
             "\"timestamp\":\"2026-01-01T00:00:00Z\",\"meter_start_wh\":0}",
             tok);
    start_bad(body, EVB_P_INVALID_VALUE, "id_token");

    /* session_id too: CiString(36) */
    snprintf(body, sizeof(body),
             "{\"session_id\":\"%s\",\"connector_id\":1,\"id_token\":\"T\","
             "\"timestamp\":\"2026-01-01T00:00:00Z\",\"meter_start_wh\":0}",
             tok);
    start_bad(body, EVB_P_INVALID_VALUE, "session_id");
    tok[36] = '\0';
    snprintf(body, sizeof(body),
             "{\"session_id\":\"%s\",\"connector_id\":1,\"id_token\":\"T\","
             "\"timestamp\":\"2026-01-01T00:00:00Z\",\"meter_start_wh\":0}",
             tok);
    is_int(start(body, NULL), EVB_OK, "session_id of 36 bytes");

    /* a token with a control character never reaches a CDR */
    start_bad("{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":"
              "\"A\\u0007B\",\"timestamp\":\"2026-01-01T00:00:00Z\","
              "\"meter_start_wh\":0}", EVB_P_INVALID_VALUE, "id_token");

    memset(tok, 'A', 256);
    tok[256] = '\0';
    snprintf(body, sizeof(body),
             "{\"session_id\":\"S\",\"connector_id\":1,\"id_token\":\"%s\","
             "\"timestamp\":\"2026-01-01T00:00:00Z\",\"meter_start_wh\":0}",
             tok);
    start_bad(body, EVB_P_INVALID_VALUE, "id_token");
}


#define RD(seq)  "{\"seq\":" #seq ",\"timestamp\":\"2026-01-01T00:00:0" #seq \
                 "Z\",\"energy_wh\":" #seq "00}"


static void
test_readings(void)
{
    char            big[80000], *p;
    size_t          n, i;
    evb_problem_e   rc;
    evb_reading_t  *r;

    rc = readings("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00.5Z\","
                  "\"energy_wh\":1200}", &r, &n);
    is_int(rc, EVB_OK, "single reading");
    is_int(n, 1, "one reading");
    is_int(r[0].seq, 1, "seq");
    is_int(r[0].timestamp, 1767225600500LL, "timestamp");
    is_int(r[0].energy_wh, 1200, "energy_wh");
    is_int(r[0].state, EVB_READING_CHARGING, "state defaults to charging");
    ok(!r[0].has_power && !r[0].has_current && r[0].ocmf.len == 0,
       "no optional fields");

    rc = readings("{\"seq\":7,\"timestamp\":\"2026-01-01T00:00:00Z\","
                  "\"energy_wh\":0,\"state\":\"parked\",\"power_w\":0,"
                  "\"current_a\":16.25,\"ocmf\":\"OCMF|x\"}", &r, &n);
    is_int(rc, EVB_OK, "reading with every field");
    is_int(r[0].state, EVB_READING_PARKED, "parked");
    ok(r[0].has_power && r[0].power_w == 0, "power_w 0");
    ok(r[0].has_current && r[0].current_ua == 16250000, "current_a exact");
    is_str(r[0].ocmf.data, r[0].ocmf.len, "OCMF|x", "ocmf");

    rc = readings("{\"readings\":[" RD(1) "," RD(2) "," RD(5) "]}", &r, &n);
    is_int(rc, EVB_OK, "batch of 3");
    is_int(n, 3, "three readings");
    ok(n == 3 && r[2].seq == 5 && r[2].energy_wh == 500, "third reading");

    reading_bad("{\"readings\":[" RD(1) "," RD(3) "," RD(2) "]}",
                EVB_P_SEQ_ORDER, "readings[2].seq");
    ok(strstr(detail, "2") && strstr(detail, "3"), "seq order detail: %s",
       detail);
    reading_bad("{\"readings\":[" RD(1) "," RD(1) "]}", EVB_P_SEQ_ORDER,
                "readings[1].seq");
    reading_bad("{\"readings\":[]}", EVB_P_INVALID_VALUE, "readings");
    reading_bad("{\"readings\":{}}", EVB_P_INVALID_TYPE, "readings");
    reading_bad("{\"readings\":null}", EVB_P_INVALID_TYPE, "readings");
    reading_bad("{\"readings\":[" RD(1) ",5]}", EVB_P_INVALID_TYPE,
                "readings[1]");
    reading_bad("{\"readings\":[" RD(1) "," RD(2) ",{\"seq\":3,"
                "\"timestamp\":\"2026-01-01T00:00:00Z\",\"energy_wh\":-1}]}",
                EVB_P_INVALID_VALUE, "readings[2].energy_wh");
    ok(strstr(detail, "must be an integer from 0 to 9223372036854") != NULL,
       "detail wording: %s", detail);

    reading_bad("{\"timestamp\":\"2026-01-01T00:00:00Z\",\"energy_wh\":1}",
                EVB_P_MISSING_FIELD, "seq");
    reading_bad("{\"seq\":0,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1}", EVB_P_INVALID_VALUE, "seq");
    reading_bad("{\"seq\":1,\"energy_wh\":1}", EVB_P_MISSING_FIELD,
                "timestamp");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01\",\"energy_wh\":1}",
                EVB_P_INVALID_VALUE, "timestamp");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\"}",
                EVB_P_MISSING_FIELD, "energy_wh");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1.5}", EVB_P_NOT_AN_INTEGER, "energy_wh");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":true}", EVB_P_INVALID_TYPE, "energy_wh");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1,\"state\":\"idle\"}", EVB_P_INVALID_VALUE,
                "state");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1,\"power_w\":-5}", EVB_P_INVALID_VALUE,
                "power_w");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1,\"current_a\":\"16\"}", EVB_P_INVALID_TYPE,
                "current_a");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1,\"current_a\":-0.5}", EVB_P_INVALID_VALUE,
                "current_a");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1,\"current_a\":0.0000001}",
                EVB_P_INVALID_VALUE, "current_a");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":10000000000000}", EVB_P_OUT_OF_RANGE,
                "energy_wh");
    reading_bad("{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"energy_wh\":1,\"current_a\":1e30}",
                EVB_P_OUT_OF_RANGE, "current_a");
    reading_bad("{\"seq\":99999999999999999999,\"timestamp\":"
                "\"2026-01-01T00:00:00Z\",\"energy_wh\":1}",
                EVB_P_OUT_OF_RANGE, "seq");

    /* the batch limit */
    p = big;
    p += sprintf(p, "{\"readings\":[");
    for (i = 1; i <= EVB_BATCH_MAX + 1; i++) {
        p += sprintf(p, "%s{\"seq\":%zu,\"timestamp\":"
                     "\"2026-01-01T00:00:00Z\",\"energy_wh\":1}",
                     i > 1 ? "," : "", i);
        if (i == EVB_BATCH_MAX) {
            strcpy(p, "]}");
            is_int(readings(big, &r, &n), EVB_OK, "batch of %d",
                   EVB_BATCH_MAX);
            is_int(n, EVB_BATCH_MAX, "all read");
        }
    }
    strcpy(p, "]}");
    reading_bad(big, EVB_P_INVALID_VALUE, "readings");
}


static void
test_stop(void)
{
    evb_stop_t     s;
    evb_problem_e  rc;

    rc = evb_parse_stop(arena, js("{\"timestamp\":\"2026-01-01T01:00:00Z\","
                                  "\"meter_stop_wh\":5000}"),
                        &s, detail, sizeof(detail), NULL, NULL);
    is_int(rc, EVB_OK, "stop: minimal");
    is_int(s.timestamp, 1767229200000LL, "stop timestamp");
    is_int(s.meter_stop_wh, 5000, "meter_stop_wh");
    ok(s.reason.len == 0 && s.ocmf.len == 0, "no reason, no ocmf");

    rc = evb_parse_stop(arena, js("{\"timestamp\":\"2026-01-01T01:00:00Z\","
                                  "\"meter_stop_wh\":5000,\"reason\":"
                                  "\"EVDisconnected\",\"ocmf\":\"O\"}"),
                        &s, detail, sizeof(detail), NULL, NULL);
    is_int(rc, EVB_OK, "stop: full");
    is_str(s.reason.data, s.reason.len, "EVDisconnected", "reason");

    stop_bad("{\"meter_stop_wh\":1}", EVB_P_MISSING_FIELD, "timestamp");
    stop_bad("{\"timestamp\":\"2026-01-01T01:00:00Z\"}",
             EVB_P_MISSING_FIELD, "meter_stop_wh");
    stop_bad("{\"timestamp\":\"2026-01-01T01:00:00Z\",\"meter_stop_wh\":-1}",
             EVB_P_INVALID_VALUE, "meter_stop_wh");
    stop_bad("{\"timestamp\":\"2026-01-01T01:00:00Z\","
             "\"meter_stop_wh\":9223372036855}",
             EVB_P_OUT_OF_RANGE, "meter_stop_wh");
    stop_bad("{\"timestamp\":\"2026-01-01T01:00:00Z\",\"meter_stop_wh\":1,"
             "\"reason\":\"\"}", EVB_P_INVALID_VALUE, "reason");
    stop_bad("{\"timestamp\":\"2026-01-01T01:00:00Z\",\"meter_stop_wh\":1,"
             "\"reason\":\"caf\xc3\xa9\"}", EVB_P_INVALID_VALUE, "reason");
    stop_bad("{\"timestamp\":\"2026-01-01T01:00:00Z\",\"meter_stop_wh\":1,"
             "\"reason\":\"a\\nb\"}", EVB_P_INVALID_VALUE, "reason");
    stop_bad("{\"timestamp\":\"2026-01-01T01:00:00Z\",\"meter_stop_wh\":1,"
             "\"reason\":\"0123456789012345678901234567890123456789"
             "01234567890123456789012345\"}", EVB_P_INVALID_VALUE, "reason");
    is_int(evb_parse_stop(arena, js("[]"), &s, detail, sizeof(detail), NULL,
                          NULL),
           EVB_P_INVALID_TYPE, "stop: root array");
}


static void
test_charger(void)
{
    evb_buf_t        b;
    evb_charger_t    c;
    evb_problem_e    rc;
    evb_key_record_t kr[2];
    evb_str_t        kid = evb_str_lit("K9");
    evb_key_t        k;
    char             body[512];

    rc = charger(charger_body("", COORD_OK, "Europe/Berlin",
                              CON_OK ",\"tariff_id\":\"T-AC\","
                              "\"keys\":[{\"id\":\"K1\",\"secret\":\""
                              SECRET_B64 "\"}],\"unknown\":1"), &c);
    is_int(rc, EVB_OK, "charger: full");
    if (rc != EVB_OK) {
        printf("# %s\n", detail);
    }
    is_str(c.doc.data, c.doc.len,
           "{\"location\":{\"id\":\"LOC1\",\"name\":\"Depot \\\"Nord\\\"\","
           "\"address\":\"Hauptstra\xc3\x9f" "e 1\",\"city\":\"K\xc3\xb6ln\","
           "\"postal_code\":\"50667\",\"country\":\"DEU\",\"coordinates\":"
           "{\"latitude\":\"50.93812\",\"longitude\":\"-6.943210\"},"
           "\"time_zone\":\"Europe/Berlin\"},\"evse_uid\":\"E1\","
           "\"evse_id\":\"DE*ABC*E1\",\"connector\":{\"standard\":"
           "\"IEC_62196_T2\",\"format\":\"SOCKET\",\"power_type\":"
           "\"AC_3_PHASE\",\"max_electric_power\":22000},"
           "\"tariff_id\":\"T-AC\"}", "canonical doc");
    ok(js(c.doc.data) != NULL, "doc is valid JSON");
    is_str(c.tariff_id.data, c.tariff_id.len, "T-AC", "tariff_id");
    is_str(c.time_zone.data, c.time_zone.len, "Europe/Berlin", "time_zone");
    is_str(c.charger_id.data, c.charger_id.len, "CP-1", "charger_id");
    is_int(c.nkeys, 1, "one key");
    ok(c.nkeys == 1 && c.keys[0].secret_len == 32
       && c.keys[0].secret[0] == 0 && c.keys[0].secret[31] == 31,
       "secret decoded");
    is_str(c.nkeys ? c.keys[0].key_id.data : NULL,
           c.nkeys ? c.keys[0].key_id.len : 0, "K1", "key id");

    /* reordered input gives the same canonical doc */
    rc = charger("{\"connector\":{\"max_electric_power\":22000,"
                 "\"power_type\":\"AC_3_PHASE\",\"format\":\"SOCKET\","
                 "\"standard\":\"IEC_62196_T2\"},\"evse_id\":\"DE*ABC*E1\","
                 "\"evse_uid\":\"E1\",\"location\":{\"time_zone\":"
                 "\"Europe/Berlin\"," COORD_OK "," LOC_BASE "},"
                 "\"tariff_id\":\"T-AC\"}", &c);
    is_int(rc, EVB_OK, "charger: reordered");
    ok(strstr(c.doc.data ? c.doc.data : "", "{\"location\":{\"id\":"
              "\"LOC1\"") == c.doc.data, "field order fixed");
    is_int(c.nkeys, 0, "no keys");

    rc = charger(charger_body("", COORD_OK, "UTC", CON_OK), &c);
    is_int(rc, EVB_OK, "charger: no tariff, zone UTC");
    ok(c.doc.len > 20 && strstr(c.doc.data, ",\"tariff_id\":null}") != NULL,
       "tariff_id null in doc");
    is_int(c.tariff_id.len, 0, "no tariff_id");

    /* render */
    c.retired = 0;
    c.created_at = 1767225600000LL;
    c.updated_at = 1767225601000LL;
    c.doc.data = "{\"evse_uid\":\"E1\"}";
    c.doc.len = strlen(c.doc.data);
    memset(kr, 0, sizeof(kr));
    kr[0].key_id.data = "K1";
    kr[0].key_id.len = 2;
    kr[0].created_at = 1767225600000LL;
    kr[1].key_id.data = "K0";
    kr[1].key_id.len = 2;
    kr[1].retired = 1;
    kr[1].created_at = 0;
    kr[1].retired_at = 1767225600000LL;
    evb_buf_init(&b);
    evb_render_charger(&b, EVB_VIEW_ADMIN, &c, kr, 2);
    is_str(b.data, b.len,
           "{\"charger_id\":\"CP-1\",\"evse_uid\":\"E1\",\"retired\":false,"
           "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"updated_at\":"
           "\"2026-01-01T00:00:01.000Z\",\"keys\":[{\"id\":\"K1\",\"state\":"
           "\"active\",\"created_at\":\"2026-01-01T00:00:00.000Z\"},"
           "{\"id\":\"K0\",\"state\":\"retired\",\"created_at\":"
           "\"1970-01-01T00:00:00.000Z\",\"retired_at\":"
           "\"2026-01-01T00:00:00.000Z\"}]}", "render charger");
    ok(jsn(b.data, b.len) != NULL, "charger render parses");

    evb_buf_reset(&b);
    c.retired = 1;
    c.doc.data = "{}";
    c.doc.len = 2;
    evb_render_charger(&b, EVB_VIEW_ADMIN, &c, NULL, 0);
    is_str(b.data, b.len,
           "{\"charger_id\":\"CP-1\",\"retired\":true,\"created_at\":"
           "\"2026-01-01T00:00:00.000Z\",\"updated_at\":"
           "\"2026-01-01T00:00:01.000Z\",\"keys\":[]}",
           "render retired charger, empty doc");
    evb_buf_free(&b);

    /* problems */
    charger_bad("{}", EVB_P_MISSING_FIELD, "location");
    charger_bad("{\"location\":[]}", EVB_P_INVALID_TYPE, "location");
    charger_bad("{\"location\":{\"id\":\"L\"}}", EVB_P_MISSING_FIELD,
                "location.name");
    is_int(charger(charger_body(",\"x\":1", COORD_OK, "Etc/GMT+1", CON_OK),
                   NULL), EVB_OK, "zone Etc/GMT+1, unknown location field");
    charger_bad(charger_body(",\"x\":1", "\"coordinates\":{\"latitude\":"
                             "\"50.9381\",\"longitude\":\"6.94321\"}",
                             "Europe/Berlin", CON_OK),
                EVB_P_INVALID_VALUE, "location.coordinates.latitude");
    charger_bad(charger_body("", "\"coordinates\":{\"latitude\":"
                             "\"91.00000\",\"longitude\":\"6.94321\"}",
                             "Europe/Berlin", CON_OK),
                EVB_P_INVALID_VALUE, "location.coordinates.latitude");
    charger_bad(charger_body("", "\"coordinates\":{\"latitude\":"
                             "\"50.93812\",\"longitude\":\"1806.94321\"}",
                             "Europe/Berlin", CON_OK),
                EVB_P_INVALID_VALUE, "location.coordinates.longitude");
    charger_bad(charger_body("", "\"coordinates\":{\"latitude\":"
                             "50.93812,\"longitude\":\"6.94321\"}",
                             "Europe/Berlin", CON_OK),
                EVB_P_INVALID_TYPE, "location.coordinates.latitude");
    charger_bad(charger_body("", "\"coordinates\":{\"latitude\":"
                             "\"50.93812\"}", "Europe/Berlin", CON_OK),
                EVB_P_MISSING_FIELD, "location.coordinates.longitude");
    charger_bad(charger_body("", COORD_OK, "Europe/Nowhere", CON_OK),
                EVB_P_INVALID_VALUE, "location.time_zone");
    charger_bad(charger_body("", COORD_OK, "Europe/../../../etc/passwd",
                             CON_OK),
                EVB_P_INVALID_VALUE, "location.time_zone");
    charger_bad(charger_body("", COORD_OK, "Europe", CON_OK),
                EVB_P_INVALID_VALUE, "location.time_zone");
    charger_bad(charger_body("", COORD_OK, "/etc/passwd", CON_OK),
                EVB_P_INVALID_VALUE, "location.time_zone");
    charger_bad(charger_body("", COORD_OK, "Europe//Berlin", CON_OK),
                EVB_P_INVALID_VALUE, "location.time_zone");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin", "\"x\":1"),
                EVB_P_MISSING_FIELD, "connector");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             "\"connector\":{\"standard\":\"IEC_62196_T2\","
                             "\"format\":\"PLUG\",\"power_type\":\"DC\","
                             "\"max_electric_power\":1}"),
                EVB_P_INVALID_VALUE, "connector.format");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             "\"connector\":{\"standard\":\"IEC_62196_T2\","
                             "\"format\":\"CABLE\",\"power_type\":\"AC\","
                             "\"max_electric_power\":1}"),
                EVB_P_INVALID_VALUE, "connector.power_type");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             "\"connector\":{\"standard\":\"IEC_62196_T2\","
                             "\"format\":\"CABLE\",\"power_type\":\"DC\","
                             "\"max_electric_power\":1.5}"),
                EVB_P_NOT_AN_INTEGER, "connector.max_electric_power");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             "\"connector\":{\"standard\":\"IEC_62196_T2\","
                             "\"format\":\"CABLE\",\"power_type\":\"DC\"}"),
                EVB_P_MISSING_FIELD, "connector.max_electric_power");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             CON_OK ",\"tariff_id\":\"a/b\""),
                EVB_P_INVALID_VALUE, "tariff_id");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             CON_OK ",\"keys\":{}"),
                EVB_P_INVALID_TYPE, "keys");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             CON_OK ",\"keys\":[{\"id\":\"K1\",\"secret\":"
                             "\"" SECRET_B64 "\"},{\"id\":\"K1\",\"secret\":"
                             "\"" SECRET_B64 "\"}]"),
                EVB_P_INVALID_VALUE, "keys[1].id");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             CON_OK ",\"keys\":[{\"id\":\"K1\",\"secret\":"
                             "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\""
                             "}]"),
                EVB_P_INVALID_VALUE, "keys[0].secret");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             CON_OK ",\"keys\":[{\"id\":\"K1\",\"secret\":"
                             "\"not base64!\"}]"),
                EVB_P_INVALID_VALUE, "keys[0].secret");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             CON_OK ",\"keys\":[{\"secret\":\"" SECRET_B64
                             "\"}]"),
                EVB_P_MISSING_FIELD, "keys[0].id");
    charger_bad(charger_body("", COORD_OK, "Europe/Berlin",
                             CON_OK ",\"keys\":[1]"),
                EVB_P_INVALID_TYPE, "keys[0]");

    snprintf(body, sizeof(body), "{\"location\":{" LOC_BASE "}}");
    body[strstr(body, "DEU") - body + 2] = 'u';
    charger_bad(body, EVB_P_INVALID_VALUE, "location.country");

    /* the key body */
    rc = evb_parse_key(arena, js("{\"secret\":\"" SECRET_B64 "\"}"), kid, &k,
                       detail, sizeof(detail), NULL, NULL);
    is_int(rc, EVB_OK, "key: ok");
    ok(k.secret_len == 32 && k.secret[5] == 5, "key secret");
    is_str(k.key_id.data, k.key_id.len, "K9", "key id");
    rc = evb_parse_key(arena, js("{}"), kid, &k, detail, sizeof(detail), NULL,
                       NULL);
    is_int(rc, EVB_P_MISSING_FIELD, "key: no secret");
    rc = evb_parse_key(arena, js("{\"secret\":\"Zm9vYmFy\"}"), kid, &k,
                       detail, sizeof(detail), NULL, NULL);
    is_int(rc, EVB_P_INVALID_VALUE, "key: secret too short");
    rc = evb_parse_key(arena, js("{\"secret\":7}"), kid, &k, detail,
                       sizeof(detail), NULL, NULL);
    is_int(rc, EVB_P_INVALID_TYPE, "key: secret not a string");
}


static void
test_charger_limits(void)
{
    char  secret[300], body[2048];
    unsigned char  raw[200];
    size_t  n;

    memset(raw, 0xab, sizeof(raw));

    n = evb_base64_encode(raw, 128, secret);
    secret[n] = '\0';
    snprintf(body, sizeof(body), "{\"secret\":\"%s\"}", secret);
    {
        evb_key_t  k;
        evb_str_t  kid = evb_str_lit("K");

        is_int(evb_parse_key(arena, js(body), kid, &k, detail,
                             sizeof(detail), NULL, NULL), EVB_OK,
               "128-byte secret");
        is_int(k.secret_len, 128, "128 bytes decoded");

        n = evb_base64_encode(raw, 129, secret);
        secret[n] = '\0';
        snprintf(body, sizeof(body), "{\"secret\":\"%s\"}", secret);
        is_int(evb_parse_key(arena, js(body), kid, &k, detail,
                             sizeof(detail), NULL, NULL), EVB_P_INVALID_VALUE,
               "129-byte secret refused");

        n = evb_base64_encode(raw, 200, secret);
        secret[n] = '\0';
        snprintf(body, sizeof(body), "{\"secret\":\"%s\"}", secret);
        is_int(evb_parse_key(arena, js(body), kid, &k, detail,
                             sizeof(detail), NULL, NULL), EVB_P_INVALID_VALUE,
               "200-byte secret refused");

        kid.data = "a/b";
        kid.len = 3;
        n = evb_base64_encode(raw, 32, secret);
        secret[n] = '\0';
        snprintf(body, sizeof(body), "{\"secret\":\"%s\"}", secret);
        is_int(evb_parse_key(arena, js(body), kid, &k, detail,
                             sizeof(detail), NULL, NULL), EVB_P_INVALID_VALUE,
               "bad key id from the path");
    }
}


static void
fill_session(evb_session_t *s)
{
    memset(s, 0, sizeof(evb_session_t));
    s->charger_id.data = "CP-1";
    s->charger_id.len = 4;
    s->session_id.data = "S-1";
    s->session_id.len = 3;
    s->state = EVB_SESSION_ACTIVE;
    s->connector_id = 2;
    s->id_token.data = "04A1B2";
    s->id_token.len = 6;
    s->token_type = EVB_TOKEN_RFID;
    s->started_at = 1795626966123LL - 3600000;
    s->meter_start_wh = 1000;
    s->last_seq = 0;
    s->last_energy_wh = 1000;
}


static void
test_matches(void)
{
    evb_start_t    req;
    evb_stop_t     st;
    evb_session_t  s;
    evb_reading_t  a, b;

    fill_session(&s);
    is_int(start("{" START_BASE "}", &req), EVB_OK, "start for matching");

    ok(evb_start_matches(&req, &s), "same start matches");
    s.connector_id = 3;
    ok(!evb_start_matches(&req, &s), "other connector");
    fill_session(&s);
    s.id_token.len = 5;
    ok(!evb_start_matches(&req, &s), "other id_token");
    fill_session(&s);
    s.token_type = EVB_TOKEN_OTHER;
    ok(!evb_start_matches(&req, &s), "other token_type");
    fill_session(&s);
    s.started_at++;
    ok(!evb_start_matches(&req, &s), "other timestamp");
    fill_session(&s);
    s.meter_start_wh = 999;
    ok(!evb_start_matches(&req, &s), "other meter_start");
    fill_session(&s);
    s.start_ocmf.data = "O";
    s.start_ocmf.len = 1;
    ok(!evb_start_matches(&req, &s), "stored ocmf, request none");

    /* tariffs */
    fill_session(&s);
    s.tariff_id.data = "T-DEF";
    s.tariff_id.len = 5;
    ok(evb_start_matches(&req, &s), "charger default tariff, none in req");
    s.tariff_from_request = 1;
    ok(!evb_start_matches(&req, &s), "request tariff stored, none in req");

    is_int(start("{" START_BASE ",\"tariff_id\":\"T-DEF\"}", &req), EVB_OK,
           "start with tariff");
    ok(evb_start_matches(&req, &s), "same request tariff");
    s.tariff_from_request = 0;
    ok(!evb_start_matches(&req, &s), "same id but from the charger default");
    s.tariff_from_request = 1;
    s.tariff_id.data = "T-OTH";
    ok(!evb_start_matches(&req, &s), "other request tariff");

    /* stop */
    fill_session(&s);
    s.state = EVB_SESSION_STOPPED;
    s.stopped_at = 1767229200000LL;
    s.meter_stop_wh = 5000;
    s.stop_reason.data = "local";
    s.stop_reason.len = 5;

    evb_parse_stop(arena, js("{\"timestamp\":\"2026-01-01T01:00:00Z\","
                             "\"meter_stop_wh\":5000}"), &st, detail,
                   sizeof(detail), NULL, NULL);
    ok(evb_stop_matches(&st, &s), "absent reason matches stored local");
    s.stop_reason.data = "Remote";
    s.stop_reason.len = 6;
    ok(!evb_stop_matches(&st, &s), "absent reason vs Remote");
    st.reason.data = "Remote";
    st.reason.len = 6;
    ok(evb_stop_matches(&st, &s), "same reason");
    st.meter_stop_wh++;
    ok(!evb_stop_matches(&st, &s), "other meter_stop");
    st.meter_stop_wh--;
    st.timestamp++;
    ok(!evb_stop_matches(&st, &s), "other stop time");
    st.timestamp--;
    st.ocmf.data = "O";
    st.ocmf.len = 1;
    ok(!evb_stop_matches(&st, &s), "other stop ocmf");
    s.stop_ocmf = st.ocmf;
    ok(evb_stop_matches(&st, &s), "same stop ocmf");
    s.state = EVB_SESSION_ACTIVE;
    ok(!evb_stop_matches(&st, &s), "active session never matches a stop");

    /* readings */
    memset(&a, 0, sizeof(a));
    a.seq = 3;
    a.timestamp = 1000;
    a.energy_wh = 50;
    b = a;
    ok(evb_reading_equal(&a, &b), "equal readings");
    b.power_w = 7;
    ok(evb_reading_equal(&a, &b), "power_w ignored without has_power");
    b.has_power = 1;
    ok(!evb_reading_equal(&a, &b), "has_power differs");
    a.has_power = 1;
    a.power_w = 7;
    ok(evb_reading_equal(&a, &b), "same power");
    b.power_w = 8;
    ok(!evb_reading_equal(&a, &b), "other power");
    b = a;
    b.has_current = 1;
    ok(!evb_reading_equal(&a, &b), "has_current differs");
    a.has_current = 1;
    a.current_ua = 1;
    ok(!evb_reading_equal(&a, &b), "other current");
    b = a;
    b.state = EVB_READING_PARKED;
    ok(!evb_reading_equal(&a, &b), "other state");
    b = a;
    b.energy_wh++;
    ok(!evb_reading_equal(&a, &b), "other energy");
    b = a;
    b.timestamp++;
    ok(!evb_reading_equal(&a, &b), "other time");
    b = a;
    b.ocmf.data = "x";
    b.ocmf.len = 1;
    ok(!evb_reading_equal(&a, &b), "other ocmf");
}


static void
test_render(void)
{
    evb_buf_t      b;
    evb_session_t  s;
    evb_reading_t  r[3];

    evb_buf_init(&b);

    memset(r, 0, sizeof(r));
    r[0].seq = 1;
    r[0].timestamp = 1767225600500LL;
    r[0].energy_wh = 1200;
    evb_render_reading(&b, &r[0]);
    is_str(b.data, b.len,
           "{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00.500Z\","
           "\"energy_wh\":1200,\"state\":\"charging\"}", "minimal reading");

    r[1] = r[0];
    r[1].seq = 2;
    r[1].state = EVB_READING_PARKED;
    r[1].has_power = 1;
    r[1].power_w = 11000;
    r[1].has_current = 1;
    r[1].current_ua = 16250000;
    r[1].ocmf.data = "OCMF|\"x\"";
    r[1].ocmf.len = 8;
    evb_buf_reset(&b);
    evb_render_reading(&b, &r[1]);
    is_str(b.data, b.len,
           "{\"seq\":2,\"timestamp\":\"2026-01-01T00:00:00.500Z\","
           "\"energy_wh\":1200,\"state\":\"parked\",\"power_w\":11000,"
           "\"current_a\":16.25,\"ocmf\":\"OCMF|\\\"x\\\"\"}",
           "full reading");

    r[2] = r[0];
    r[2].has_current = 1;
    r[2].current_ua = 16000000;
    evb_buf_reset(&b);
    evb_render_reading(&b, &r[2]);
    ok(b.len && strstr(b.data, "\"current_a\":16}") != NULL,
       "current 16 without fraction");
    r[2].current_ua = 1;
    evb_buf_reset(&b);
    evb_render_reading(&b, &r[2]);
    ok(b.len && strstr(b.data, "\"current_a\":0.000001}") != NULL,
       "current 0.000001");
    r[2].current_ua = 0;
    evb_buf_reset(&b);
    evb_render_reading(&b, &r[2]);
    ok(b.len && strstr(b.data, "\"current_a\":0}") != NULL, "current 0");
    r[2].current_ua = 230100000;
    evb_buf_reset(&b);
    evb_render_reading(&b, &r[2]);
    ok(b.len && strstr(b.data, "\"current_a\":230.1}") != NULL,
       "current 230.1");

    fill_session(&s);
    s.last_seq = 2;
    s.last_energy_wh = 1700;
    evb_buf_reset(&b);
    evb_render_session(&b, EVB_VIEW_ADMIN, &s, NULL, 0, 0);
    is_str(b.data, b.len,
           "{\"charger_id\":\"CP-1\",\"session_id\":\"S-1\",\"state\":"
           "\"active\",\"connector_id\":2,\"id_token\":\"04A1B2\","
           "\"token_type\":\"RFID\",\"tariff_id\":null,\"started_at\":"
           "\"2026-11-25T16:16:06.123Z\",\"stopped_at\":null,"
           "\"stop_reason\":null,\"meter_start_wh\":1000,"
           "\"meter_stop_wh\":null,\"energy_wh\":700,\"last_seq\":2,"
           "\"cost\":null}",
           "active session");

    s.state = EVB_SESSION_STOPPED;
    s.stopped_at = 1795626966123LL;
    s.meter_stop_wh = 2500;
    s.stop_reason.data = "local";
    s.stop_reason.len = 5;
    s.tariff_id.data = "T1";
    s.tariff_id.len = 2;
    s.token_type = EVB_TOKEN_AD_HOC_USER;
    s.start_ocmf.data = "A";
    s.start_ocmf.len = 1;
    s.stop_ocmf.data = "B";
    s.stop_ocmf.len = 1;
    evb_buf_reset(&b);
    evb_render_session(&b, EVB_VIEW_ADMIN, &s, r, 2, 1);
    is_str(b.data, b.len,
           "{\"charger_id\":\"CP-1\",\"session_id\":\"S-1\",\"state\":"
           "\"stopped\",\"connector_id\":2,\"id_token\":\"04A1B2\","
           "\"token_type\":\"AD_HOC_USER\",\"tariff_id\":\"T1\","
           "\"started_at\":\"2026-11-25T16:16:06.123Z\",\"stopped_at\":"
           "\"2026-11-25T17:16:06.123Z\",\"stop_reason\":\"local\","
           "\"meter_start_wh\":1000,\"meter_stop_wh\":2500,"
           "\"energy_wh\":1500,\"last_seq\":2,\"start_ocmf\":\"A\","
           "\"stop_ocmf\":\"B\",\"cost\":null,\"readings\":["
           "{\"seq\":1,\"timestamp\":\"2026-01-01T00:00:00.500Z\","
           "\"energy_wh\":1200,\"state\":\"charging\"},"
           "{\"seq\":2,\"timestamp\":\"2026-01-01T00:00:00.500Z\","
           "\"energy_wh\":1200,\"state\":\"parked\",\"power_w\":11000,"
           "\"current_a\":16.25,\"ocmf\":\"OCMF|\\\"x\\\"\"}]}",
           "stopped session with readings");
    ok(jsn(b.data, b.len) != NULL, "session render parses back");

    evb_buf_reset(&b);
    evb_render_session(&b, EVB_VIEW_ADMIN, &s, NULL, 0, 1);
    ok(b.len > 14 && memcmp(b.data + b.len - 15, ",\"readings\":[]}", 15)
       == 0, "empty readings array");

    is_str(evb_token_type_name(EVB_TOKEN_APP_USER), 8, "APP_USER",
           "token type name");

    evb_buf_free(&b);
}


static void
test_problem(void)
{
    int                        i, bad;
    evb_buf_t                  b;
    const evb_problem_info_t  *pi;

    bad = 0;

    for (i = 1; i < EVB_P_COUNT; i++) {
        pi = evb_problem_info((evb_problem_e) i);

        if (pi->name == NULL || pi->title == NULL || pi->status < 400
            || pi->status > 599)
        {
            bad++;
            printf("# problem %d incomplete\n", i);
        }
    }

    is_int(bad, 0, "every problem has a name, title and status");

    pi = evb_problem_info(EVB_P_SIG_COMPONENT);
    is_str(pi->name, strlen(pi->name), "signature-component-missing",
           "sig component name");
    is_int(pi->status, 401, "401");
    pi = evb_problem_info(EVB_P_OUT_OF_RANGE);
    is_str(pi->name, strlen(pi->name), "number-out-of-range", "range name");
    is_int(evb_problem_info(EVB_P_QUEUE_FULL)->status, 503, "queue full 503");
    is_int(evb_problem_info(EVB_P_STORE_FULL)->status, 507, "store full 507");
    is_int(evb_problem_info(EVB_P_SEQ_CONFLICT)->status, 409, "seq 409");
    is_int(evb_problem_info(EVB_P_SEQ_ORDER)->status, 400, "seq order 400");
    is_int(evb_problem_info(EVB_P_BODY_TOO_LARGE)->status, 413, "413");
    is_int(evb_problem_info(EVB_P_UNSUPPORTED_MEDIA)->status, 415, "415");
    is_int(evb_problem_info(EVB_P_METHOD_NOT_ALLOWED)->status, 405, "405");
    is_int(evb_problem_info(EVB_P_UNKNOWN_KEY)->status, 404, "404");
    is_int(evb_problem_info(EVB_P_INTERNAL)->status, 500, "500");
    is_int(evb_problem_info((evb_problem_e) 999)->status, 500,
           "unknown code is internal");

    evb_buf_init(&b);
    evb_problem_render(&b, EVB_P_MISSING_FIELD, "session_id: is \"required\"");
    is_str(b.data, b.len,
           "{\"type\":\"urn:evbill:problem:missing-field\",\"title\":"
           "\"Missing Field\",\"status\":400,\"detail\":\"session_id: is "
           "\\\"required\\\"\"}", "problem with detail");
    evb_buf_reset(&b);
    evb_problem_render(&b, EVB_P_STORE_FULL, NULL);
    is_str(b.data, b.len,
           "{\"type\":\"urn:evbill:problem:store-full\",\"title\":"
           "\"Store Full\",\"status\":507}", "problem without detail");
    evb_buf_free(&b);
}


static int
has_error(evb_problem_e p, const char *pointer)
{
    size_t  i;

    for (i = 0; i < nerrs; i++) {
        if (errs[i].problem == p && strcmp(errs[i].pointer, pointer) == 0) {
            return 1;
        }
    }

    return 0;
}


/* every bad field of a body is reported, each with its JSON Pointer */
static void
test_pointers(void)
{
    evb_key_t   k;
    evb_str_t   kid = evb_str_lit("K");
    evb_stop_t  st;

    /* a batch: fields of several readings, and the seq order */
    is_int(readings("{\"readings\":[" RD(1) ","
                    "{\"seq\":2,\"timestamp\":\"x\",\"energy_wh\":-1},"
                    "7," RD(3) "," RD(2) "]}", NULL, NULL),
           EVB_P_INVALID_VALUE, "batch: the first refusal's problem");
    is_str(detail, strlen(detail),
           "readings[1].timestamp: must be an RFC 3339 date-time "
           "with offset", "batch: the first refusal's detail");
    is_int(nerrs, 4, "batch: four errors");
    ok(has_error(EVB_P_INVALID_VALUE, "/readings/1/timestamp"),
       "/readings/1/timestamp");
    ok(has_error(EVB_P_INVALID_VALUE, "/readings/1/energy_wh"),
       "/readings/1/energy_wh");
    ok(has_error(EVB_P_INVALID_TYPE, "/readings/2"), "/readings/2");
    ok(has_error(EVB_P_SEQ_ORDER, "/readings/4/seq"), "/readings/4/seq");
    is_str(errs[1].detail, strlen(errs[1].detail),
           "must be an integer from 0 to 9223372036854",
           "an error's detail is the sentence without the field");

    /* one reading at the root */
    is_int(readings("{\"seq\":\"1\",\"energy_wh\":1.5,\"state\":\"x\","
                    "\"power_w\":-1,\"current_a\":\"2\",\"ocmf\":\"\"}",
                    NULL, NULL),
           EVB_P_INVALID_TYPE, "one reading: seq first");
    is_int(nerrs, 7, "one reading: seven errors");
    ok(has_error(EVB_P_INVALID_TYPE, "/seq")
       && has_error(EVB_P_MISSING_FIELD, "/timestamp")
       && has_error(EVB_P_NOT_AN_INTEGER, "/energy_wh")
       && has_error(EVB_P_INVALID_VALUE, "/state")
       && has_error(EVB_P_INVALID_VALUE, "/power_w")
       && has_error(EVB_P_INVALID_TYPE, "/current_a")
       && has_error(EVB_P_INVALID_VALUE, "/ocmf"),
       "one reading: every field at its pointer");

    /* the body itself */
    is_int(readings("[1]", NULL, NULL), EVB_P_INVALID_TYPE, "an array body");
    ok(nerrs == 1 && errs[0].pointer[0] == '\0',
       "the whole body: the empty pointer");

    /* session start */
    is_int(start("{\"connector_id\":0,\"id_token\":\"\","
                 "\"token_type\":\"X\",\"timestamp\":1,"
                 "\"meter_start_wh\":-5,\"tariff_id\":\"a/b\"}", NULL),
           EVB_P_MISSING_FIELD, "start: session_id first");
    is_str(detail, strlen(detail), "session_id: is required",
           "start: its detail");
    is_int(nerrs, 7, "start: seven errors");
    ok(has_error(EVB_P_MISSING_FIELD, "/session_id")
       && has_error(EVB_P_INVALID_VALUE, "/connector_id")
       && has_error(EVB_P_INVALID_VALUE, "/id_token")
       && has_error(EVB_P_INVALID_VALUE, "/token_type")
       && has_error(EVB_P_INVALID_TYPE, "/timestamp")
       && has_error(EVB_P_INVALID_VALUE, "/meter_start_wh")
       && has_error(EVB_P_INVALID_VALUE, "/tariff_id"),
       "start: every field at its pointer");

    /* stop */
    nerrs = 0;
    is_int(evb_parse_stop(arena, js("{\"meter_stop_wh\":\"1\","
                                    "\"reason\":\"a\\u0001\"}"), &st,
                          detail, sizeof(detail), errs, &nerrs),
           EVB_P_MISSING_FIELD, "stop: timestamp first");
    is_int(nerrs, 3, "stop: three errors");
    ok(has_error(EVB_P_MISSING_FIELD, "/timestamp")
       && has_error(EVB_P_INVALID_TYPE, "/meter_stop_wh")
       && has_error(EVB_P_INVALID_VALUE, "/reason"),
       "stop: every field at its pointer");

    /* charger: nested objects and keys */
    is_int(charger("{\"location\":{\"id\":\"L\",\"name\":\"N\","
                   "\"address\":\"A\",\"city\":\"C\",\"postal_code\":\"P\","
                   "\"country\":\"de\",\"coordinates\":{\"latitude\":\"x\","
                   "\"longitude\":\"0.00000\"},\"time_zone\":\"Nowhere\"},"
                   "\"evse_id\":\"E\",\"connector\":{\"standard\":\"S\","
                   "\"format\":\"SOCKET\",\"power_type\":\"AC_1_PHASE\","
                   "\"max_electric_power\":-1},"
                   "\"keys\":[{\"id\":\"k1\",\"secret\":\"" SECRET_B64 "\"},"
                   "{\"id\":\"k1\",\"secret\":\"eA==\"},3]}", NULL),
           EVB_P_INVALID_VALUE, "charger: country first");
    is_str(detail, strlen(detail),
           "location.country: must be an ISO 3166-1 alpha-3 code",
           "charger: its detail");
    ok(has_error(EVB_P_INVALID_VALUE, "/location/country")
       && has_error(EVB_P_INVALID_VALUE, "/location/coordinates/latitude")
       && has_error(EVB_P_INVALID_VALUE, "/location/time_zone")
       && has_error(EVB_P_MISSING_FIELD, "/evse_uid")
       && has_error(EVB_P_INVALID_VALUE, "/connector/max_electric_power")
       && has_error(EVB_P_INVALID_VALUE, "/connector/standard")
       && has_error(EVB_P_INVALID_VALUE, "/keys/1/id")
       && has_error(EVB_P_INVALID_VALUE, "/keys/1/secret")
       && has_error(EVB_P_INVALID_TYPE, "/keys/2"),
       "charger: every field at its pointer (%zu errors)", nerrs);
    is_int(nerrs, 9, "charger: nine errors");

    /* a key */
    nerrs = 0;
    is_int(evb_parse_key(arena, js("{\"secret\":1}"), kid, &k, detail,
                         sizeof(detail), errs, &nerrs),
           EVB_P_INVALID_TYPE, "key: a number secret");
    ok(nerrs == 1 && strcmp(errs[0].pointer, "/secret") == 0,
       "key: /secret");

    /* at most EVB_FIELD_ERRORS_MAX are listed; the first ones */
    {
        size_t  i;
        char    big[4096];
        size_t  n;

        n = (size_t) snprintf(big, sizeof(big), "{\"readings\":[");

        for (i = 0; i < 40; i++) {
            n += (size_t) snprintf(big + n, sizeof(big) - n, "%s{}",
                                   i ? "," : "");
        }

        snprintf(big + n, sizeof(big) - n, "]}");

        is_int(readings(big, NULL, NULL), EVB_P_MISSING_FIELD,
               "40 empty readings");
        is_int(nerrs, EVB_FIELD_ERRORS_MAX, "the list is bounded");
        is_str(errs[0].pointer, strlen(errs[0].pointer), "/readings/0/seq",
               "it starts at the first");
    }
}


int
main(void)
{
    arena = evb_arena_create(16384);

    test_start();
    test_id_token_max();
    test_readings();
    test_stop();
    test_charger();
    test_charger_limits();
    test_matches();
    test_render();
    test_problem();
    test_pointers();

    evb_arena_destroy(arena);

    tap_plan(tap_n);

    return tap_done();
}
