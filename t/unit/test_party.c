/*
 * Who is billed, in src/core: the customer and token parsers (every
 * refusal at its pointer), the text rules shared with the charger and
 * start parsers (OCPI limits, XML 1.0 characters), the ISO 3166-1 list,
 * the connector standards, the token key, and the renderers.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_party.h"


static evb_arena_t        *arena;
static char                detail[256];
static evb_field_error_t   errs[EVB_FIELD_ERRORS_MAX];
static size_t              nerrs;


static evb_str_t
S(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


static evb_json_t *
js(const char *text)
{
    evb_json_t  *root;

    if (evb_json_parse(arena, text, strlen(text), 8, &root, NULL, 0)
        != EVB_JSON_OK)
    {
        return NULL;
    }

    return root;
}


static int
has_error(evb_problem_e p, const char *ptr)
{
    size_t  i;

    for (i = 0; i < nerrs; i++) {
        if (errs[i].problem == p && strcmp(errs[i].pointer, ptr) == 0) {
            return 1;
        }
    }

    return 0;
}


#define CUST(extra)                                                       \
    "{\"name\":\"M\xc3\xbcller GmbH\",\"email\":\"a@b.de\","              \
    "\"address\":{\"street\":\"S 1\",\"city\":\"K\","                     \
    "\"postal_code\":\"50667\",\"country\":\"DE\"},"                      \
    "\"invoicing\":\"per_session\"" extra "}"


static evb_problem_e
customer(const char *body, evb_customer_t *c)
{
    evb_customer_t  dummy;

    nerrs = 0;
    detail[0] = '\0';

    return evb_parse_customer(arena, js(body), S("C-1"), c ? c : &dummy,
                              detail, sizeof(detail), errs, &nerrs);
}


static void
customer_bad(const char *body, evb_problem_e want, const char *ptr)
{
    is_int(customer(body, NULL), want, "customer %s -> %s", ptr,
           evb_problem_info(want)->name);
    ok(nerrs >= 1 && errs[0].problem == want
       && strcmp(errs[0].pointer, ptr) == 0,
       "  errors[0] at %s (%zu errors, first %s)", ptr, nerrs,
       nerrs ? errs[0].pointer : "-");
}


static void
test_customer(void)
{
    evb_buf_t       b;
    evb_customer_t  c;

    is_int(customer(CUST(""), &c), EVB_OK, "a minimal customer");
    is_int(c.payment_terms_days, EVB_TERMS_UNSET, "terms: the seller's");
    is_str(c.language.data, c.language.len, "en", "language: en");
    is_int(c.invoicing, EVB_INVOICING_PER_SESSION, "per_session");

    is_int(customer(CUST(",\"vat_id\":\"DE123456789\","
                         "\"payment_terms_days\":0,\"language\":\"de\"")
                    , &c),
           EVB_OK, "every optional field");
    is_int(c.payment_terms_days, 0, "terms 0");
    is_str(c.buyer.vat_id.data, c.buyer.vat_id.len, "DE123456789",
           "vat_id");

    evb_buf_init(&b);
    c.created_at = 0;
    c.updated_at = 0;
    evb_render_customer(&b, EVB_VIEW_ADMIN, &c);
    is_str(b.data, b.len,
           "{\"customer_id\":\"C-1\",\"name\":\"M\xc3\xbcller GmbH\","
           "\"email\":\"a@b.de\",\"address\":{\"street\":\"S 1\","
           "\"city\":\"K\",\"postal_code\":\"50667\",\"country\":\"DE\"},"
           "\"vat_id\":\"DE123456789\",\"invoicing\":\"per_session\","
           "\"payment_terms_days\":0,\"language\":\"de\","
           "\"retired\":false,\"created_at\":\"1970-01-01T00:00:00.000Z\","
           "\"updated_at\":\"1970-01-01T00:00:00.000Z\"}",
           "render: every field");
    evb_buf_free(&b);

    customer_bad(CUST(",\"language\":\"fr\""), EVB_P_INVALID_VALUE,
                 "/language");
    customer_bad(CUST(",\"payment_terms_days\":366"), EVB_P_OUT_OF_RANGE,
                 "/payment_terms_days");
    customer_bad(CUST(",\"payment_terms_days\":\"3\""), EVB_P_INVALID_TYPE,
                 "/payment_terms_days");
    customer_bad(CUST(",\"payment_terms_days\":1.5"), EVB_P_NOT_AN_INTEGER,
                 "/payment_terms_days");
    customer_bad(CUST(",\"vat_id\":\"de1\""), EVB_P_INVALID_VALUE,
                 "/vat_id");
    customer_bad(CUST(",\"x~y\":1"), EVB_P_INVALID_VALUE, "/x~0y");
    customer_bad("{\"email\":\"a@b\"}", EVB_P_MISSING_FIELD, "/name");
    is_int((long long) nerrs, 3, "  name, address, invoicing missing");
    customer_bad("{\"name\":\"A\\u0001\"}", EVB_P_INVALID_VALUE, "/name");
    customer_bad("[]", EVB_P_INVALID_TYPE, "");
    is_str(detail, strlen(detail), "the body must be a JSON object",
           "  its detail");

    is_int(customer("{\"name\":\"A\",\"email\":\"a@b\",\"address\":"
                    "{\"street\":\"S\",\"city\":\"\\u0085\","
                    "\"country\":\"QQ\"},\"invoicing\":\"x\"}", NULL),
           EVB_P_INVALID_VALUE, "nested: first refusal");
    is_str(detail, strlen(detail), "address.city: must be 1 to 100 "
           "characters without control characters, U+FFFE or U+FFFF",
           "  the detail names address.city");
    ok(has_error(EVB_P_INVALID_VALUE, "/address/city")
       && has_error(EVB_P_INVALID_VALUE, "/address/country")
       && has_error(EVB_P_INVALID_VALUE, "/invoicing"),
       "  every bad field at its pointer");

    nerrs = 0;
    is_int(evb_parse_customer(arena, js(CUST("")), S("a/b"), &c, detail,
                              sizeof(detail), errs, &nerrs),
           EVB_P_INVALID_VALUE, "a bad id from the path");
    is_int((long long) nerrs, 0, "  no pointer (not the body's)");
}


static evb_problem_e
token(const char *uid, const char *body, evb_token_rec_t *t)
{
    evb_token_rec_t  dummy;

    nerrs = 0;
    detail[0] = '\0';

    return evb_parse_token(arena, js(body), S(uid), t ? t : &dummy, detail,
                           sizeof(detail), errs, &nerrs);
}


static void
test_token(void)
{
    evb_buf_t        b;
    evb_token_rec_t  t;

    is_int(token("04A2", "{\"customer_id\":\"C-1\",\"type\":\"RFID\"}", &t),
           EVB_OK, "a minimal token");
    is_int(token("04A2", "{\"customer_id\":\"C-1\",\"type\":\"APP_USER\","
                 "\"contract_id\":\"NL-ABC-C1-X\",\"issuer\":"
                 "{\"country_code\":\"NL\",\"party_id\":\"AB1\"}}", &t),
           EVB_OK, "every field");
    is_int(t.type, EVB_TOKEN_APP_USER, "type");

    evb_buf_init(&b);
    evb_render_token(&b, EVB_VIEW_ADMIN, &t);
    is_str(b.data, b.len,
           "{\"uid\":\"04A2\",\"type\":\"APP_USER\",\"customer_id\":\"C-1\","
           "\"contract_id\":\"NL-ABC-C1-X\",\"issuer\":{\"country_code\":"
           "\"NL\",\"party_id\":\"AB1\"},\"created_at\":"
           "\"1970-01-01T00:00:00.000Z\",\"updated_at\":"
           "\"1970-01-01T00:00:00.000Z\"}", "render: every field");
    evb_buf_free(&b);

    is_int(token("04A2", "{\"customer_id\":\"C-1\",\"type\":\"CARD\","
                 "\"issuer\":{\"country_code\":\"NLD\",\"party_id\":\"A\"},"
                 "\"contract_id\":\"\"}", NULL),
           EVB_P_INVALID_VALUE, "bad token fields");
    ok(has_error(EVB_P_INVALID_VALUE, "/type")
       && has_error(EVB_P_INVALID_VALUE, "/issuer/country_code")
       && has_error(EVB_P_INVALID_VALUE, "/issuer/party_id")
       && has_error(EVB_P_INVALID_VALUE, "/contract_id")
       && nerrs == 4, "  each at its pointer (%zu)", nerrs);

    evb_buf_init(&b);
    evb_render_token_deleted(&b, EVB_VIEW_ADMIN, S("04A2"));
    is_str(b.data, b.len, "{\"uid\":\"04A2\",\"deleted\":true}",
           "render: a deleted token");
    evb_buf_free(&b);

    is_int(token("0123456789012345678901234567890123456", "{}", NULL),
           EVB_P_INVALID_VALUE, "a uid of 37");
    is_int(token("012345678901234567890123456789012345",
                 "{\"customer_id\":\"C\",\"type\":\"OTHER\"}", NULL),
           EVB_OK, "a uid of 36");
}


static void
test_rules(void)
{
    char    key[EVB_OCPI_ID_MAX];
    size_t  n;

    ok(evb_text_ok(S("K\xc3\xb6ln"), 4), "text: 4 characters in 5 bytes");
    ok(!evb_text_ok(S("K\xc3\xb6ln"), 3), "text: over the limit");
    ok(!evb_text_ok(S(""), 3), "text: empty");
    ok(!evb_text_ok(S("a\tb"), 9), "text: tab");
    ok(!evb_text_ok(S("a\x7f"), 9), "text: DEL");
    ok(!evb_text_ok(S("a\xc2\x85"), 9), "text: C1 (U+0085)");
    ok(evb_text_ok(S("a\xc2\xa0"), 9), "text: U+00A0 is fine");
    ok(!evb_text_ok(S("a\xef\xbf\xbe"), 9), "text: U+FFFE");
    ok(!evb_text_ok(S("a\xef\xbf\xbf"), 9), "text: U+FFFF");
    ok(evb_text_ok(S("a\xef\xbf\xbd"), 9), "text: U+FFFD is fine");

    ok(evb_ocpi_string_ok(S("DE*EXA*E1"), 36), "CiString: printable");
    ok(!evb_ocpi_string_ok(S("caf\xc3\xa9"), 36), "CiString: not ASCII");

    ok(evb_connector_standard_ok(S("IEC_62196_T2_COMBO")),
       "ConnectorType: IEC_62196_T2_COMBO");
    ok(evb_connector_standard_ok(S("DOMESTIC_O")), "ConnectorType: DOMESTIC_O");
    ok(evb_connector_standard_ok(S("IEC_60309_2_single_16")),
       "ConnectorType: mixed case as OCPI spells it");
    ok(!evb_connector_standard_ok(S("T2")), "ConnectorType: T2 is not");
    ok(!evb_connector_standard_ok(S("iec_62196_t2")),
       "ConnectorType: case matters");

    ok(evb_country_alpha2_ok(S("AD")) && evb_country_alpha2_ok(S("ZW"))
       && evb_country_alpha2_ok(S("DE")) && evb_country_alpha2_ok(S("GR")),
       "alpha-2: first, last, DE, GR");
    ok(!evb_country_alpha2_ok(S("XX")) && !evb_country_alpha2_ok(S("EL"))
       && !evb_country_alpha2_ok(S("de")) && !evb_country_alpha2_ok(S("D")),
       "alpha-2: XX, EL, de, D are not");
    is_str(evb_country_alpha2(S("DEU")), 2, "DE", "alpha-3 DEU -> DE");
    is_str(evb_country_alpha2(S("NLD")), 2, "NL", "alpha-3 NLD -> NL");
    ok(evb_country_alpha2(S("XXX")) == NULL, "alpha-3 XXX: none");

    n = evb_token_key(S("04a2-bC"), key);
    is_str(key, n, "04A2-BC", "token key: upper case");
    is_int((long long) evb_token_key(S(""), key), 0, "token key: empty");
}


static void
test_start_members(void)
{
    evb_buf_t            b;
    evb_session_start_t  st;

    memset(&st, 0, sizeof(st));
    st.token_uid = S("U1");
    st.token_type = EVB_TOKEN_RFID;

    evb_buf_init(&b);
    evb_render_session_start_members(&b, EVB_VIEW_ADMIN, &st, S("DE"),
                                     S("EXA"));
    is_str(b.data, b.len,
           ",\"customer_id\":null,\"cdr_token\":{\"country_code\":\"DE\","
           "\"party_id\":\"EXA\",\"uid\":\"U1\",\"type\":\"RFID\","
           "\"contract_id\":\"U1\"},\"token_known\":false",
           "an unknown token: the CPO's, the uid as contract id");
    evb_buf_free(&b);

    st.customer_id = S("C-1");
    st.token_known = 1;
    st.contract_id = S("NL-ABC-1");
    st.token_country = S("NL");
    st.token_party = S("ABC");

    evb_buf_init(&b);
    evb_render_session_start_members(&b, EVB_VIEW_ADMIN, &st, S("DE"),
                                     S("EXA"));
    is_str(b.data, b.len,
           ",\"customer_id\":\"C-1\",\"cdr_token\":{\"country_code\":\"NL\","
           "\"party_id\":\"ABC\",\"uid\":\"U1\",\"type\":\"RFID\","
           "\"contract_id\":\"NL-ABC-1\"},\"token_known\":true",
           "a known token: its issuer and contract id");
    evb_buf_free(&b);

    evb_buf_init(&b);
    evb_buf_appends(&b, "{\"session_id\":\"S\"}");
    st.customer_id.len = 0;
    evb_render_session_add_start(&b, EVB_VIEW_ADMIN, &st, S("DE"),
                                 S("EXA"));
    is_str(b.data, b.len,
           "{\"session_id\":\"S\",\"customer_id\":null,\"cdr_token\":"
           "{\"country_code\":\"NL\",\"party_id\":\"ABC\",\"uid\":\"U1\","
           "\"type\":\"RFID\",\"contract_id\":\"NL-ABC-1\"},"
           "\"token_known\":true}",
           "added to a session object");
    evb_buf_free(&b);
}


static void
test_place(void)
{
    evb_place_t          pl;
    evb_session_start_t  st;

    static const char  doc[] =
        "{\"location\":{\"id\":\"LOC1\",\"name\":\"Depot\","
        "\"address\":\"Hafenstra\xc3\x9f" "e 1\",\"city\":\"Hamburg\","
        "\"postal_code\":\"20457\",\"country\":\"DEU\","
        "\"coordinates\":{\"latitude\":\"53.54100\","
        "\"longitude\":\"9.98400\"},\"time_zone\":\"Europe/Berlin\"},"
        "\"evse_uid\":\"E1\",\"evse_id\":\"DE*EXA*E1\",\"connector\":"
        "{\"standard\":\"IEC_62196_T2\",\"format\":\"SOCKET\","
        "\"power_type\":\"AC_3_PHASE\",\"max_electric_power\":22000},"
        "\"tariff_id\":null}";

    memset(&st, 0, sizeof(st));
    st.charger_doc = S(doc);

    is_int(evb_session_start_place(arena, &st, &pl), 0, "place: reads");
    is_str(pl.name.data, pl.name.len, "Depot", "place: name");
    is_str(pl.address.data, pl.address.len, "Hafenstra\xc3\x9f" "e 1",
           "place: address");
    is_str(pl.country.data, pl.country.len, "DEU", "place: alpha-3");
    is_str(evb_country_alpha2(pl.country), 2, "DE", "place: as alpha-2");
    is_str(pl.evse_uid.data, pl.evse_uid.len, "E1", "place: evse_uid");
    is_str(pl.connector_standard.data, pl.connector_standard.len,
           "IEC_62196_T2", "place: connector standard");

    st.charger_doc = S("{\"location\":{}}");
    is_int(evb_session_start_place(arena, &st, &pl), -1,
           "place: a doc without its fields");
    st.charger_doc = S("");
    is_int(evb_session_start_place(arena, &st, &pl), -1, "place: none");
}


int
main(void)
{
    arena = evb_arena_create(65536);
    if (arena == NULL) {
        return 1;
    }

    test_customer();
    test_token();
    test_rules();
    test_start_members();
    test_place();

    tap_plan(tap_n);
    evb_arena_destroy(arena);

    return tap_done();
}
