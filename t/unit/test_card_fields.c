/*
 * No card data in free text (issue 11), parser by parser: a card number
 * in a customer's name or address, a charger location's name or
 * address, a credit note's reason or the seller file's names and address
 * is refused with card-data-refused at its pointer, and neither the
 * detail nor the field errors repeat it; near misses pass; ids are not
 * free text.  (The void reason is checked by evb_op_void_run and the
 * admin handler: t/190-card-data.t.)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_pan.h"
#include "../../src/core/evb_party.h"
#include "../../src/core/evb_model.h"
#include "../../src/core/evb_invoice_make.h"


#define PAN       "4111 1111 1111 1111"
#define PAN_D     "4111111111111111"
#define NEAR      "4111 1111 1111 1112"      /* Luhn fails */

static evb_arena_t        *arena;
static char                detail[256];
static evb_field_error_t   errs[EVB_FIELD_ERRORS_MAX];
static size_t              nerrs;


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


/* no "4111" anywhere: neither the digits nor a group of them */
static int
clean(const char *s)
{
    return strstr(s, "4111") == NULL && strstr(s, "1111") == NULL;
}


static int
errors_clean(void)
{
    size_t  i;

    for (i = 0; i < nerrs; i++) {
        if (!clean(errs[i].pointer) || !clean(errs[i].detail)) {
            return 0;
        }
    }

    return 1;
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


/* customers */

static char  body[2048];

static evb_problem_e
customer(const char *name, const char *street, const char *city,
    const char *postal)
{
    evb_str_t       id = evb_str_lit("C-" PAN_D);
    evb_customer_t  c;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"email\":\"a@b.de\","
             "\"address\":{\"street\":\"%s\",\"city\":\"%s\","
             "\"postal_code\":\"%s\",\"country\":\"DE\"},"
             "\"invoicing\":\"per_session\"}", name, street, city, postal);

    detail[0] = '\0';
    nerrs = 0;

    return evb_parse_customer(arena, js(body), id, &c, detail,
                              sizeof(detail), errs, &nerrs);
}


static void
test_customer(void)
{
    size_t  i;

    static const struct {
        const char  *name, *street, *city, *postal, *ptr;
    } bad[] = {
        { "Erika " PAN, "Hauptstr. 1", "Berlin", "10115", "/name" },
        { "Erika", PAN_D, "Berlin", "10115", "/address/street" },
        { "Erika", "Hauptstr. 1", "Berlin 4111-1111-1111-1111", "10115",
          "/address/city" },
        { "Erika", "Hauptstr. 1", "Berlin", PAN_D, "/address/postal_code" },
    };

    /* the id is not free text: a customer id of digits is fine */
    is_int(customer("Erika Mustermann", "Hauptstr. 1", "Berlin", "10115"),
           EVB_OK, "customer: a good one (its id holds 16 digits)");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        is_int(customer(bad[i].name, bad[i].street, bad[i].city,
                        bad[i].postal),
               EVB_P_CARD_DATA, "customer: a card number in %s",
               bad[i].ptr);
        ok(has_error(EVB_P_CARD_DATA, bad[i].ptr), "customer: at %s",
           bad[i].ptr);
        ok(clean(detail) && errors_clean(), "customer %s: the detail "
           "does not repeat it: %s", bad[i].ptr, detail);
    }

    is_int(customer("Erika " NEAR, "Hauptstr. 1", "Berlin", "10115"),
           EVB_OK, "customer: a near miss in the name passes");
    is_int(customer("Erika", "Hauptstr. 1", "Berlin",
                    "411111111117"), EVB_OK,
           "customer: 12 digits in the postal code pass");

    /* a control character is an invalid value first */
    is_int(customer("Erika\\u0001 " PAN, "Hauptstr. 1", "Berlin", "10115"),
           EVB_P_INVALID_VALUE, "customer: a control character and a card "
           "number: invalid-value");
}


/* charger locations */

static evb_problem_e
charger(const char *name, const char *address, const char *city,
    const char *postal)
{
    evb_str_t      id = evb_str_lit("CP-" PAN_D);
    evb_charger_t  c;

    snprintf(body, sizeof(body), "{\"location\":{\"id\":\"L" PAN_D "\","
             "\"name\":\"%s\",\"address\":\"%s\",\"city\":\"%s\","
             "\"postal_code\":\"%s\",\"country\":\"DEU\","
             "\"coordinates\":{\"latitude\":\"50.93812\","
             "\"longitude\":\"-6.943210\"},\"time_zone\":\"Europe/Berlin\"},"
             "\"evse_uid\":\"E" PAN_D "\",\"evse_id\":\"DE*ABC*E1\","
             "\"connector\":{\"standard\":\"IEC_62196_T2\","
             "\"format\":\"SOCKET\",\"power_type\":\"AC_3_PHASE\","
             "\"max_electric_power\":22000}}", name, address, city, postal);

    detail[0] = '\0';
    nerrs = 0;

    return evb_parse_charger(arena, js(body), id, &c, detail,
                             sizeof(detail), errs, &nerrs);
}


static void
test_charger(void)
{
    size_t  i;

    static const struct {
        const char  *name, *address, *city, *postal, *ptr;
    } bad[] = {
        { "Depot " PAN, "Hafenstr. 1", "Berlin", "10115",
          "/location/name" },
        { "Depot", "Hafenstr. " PAN_D, "Berlin", "10115",
          "/location/address" },
        { "Depot", "Hafenstr. 1", PAN, "10115", "/location/city" },
    };

    /* location id, evse_uid and charger id are ids: digits are fine */
    is_int(charger("Depot", "Hafenstr. 1", "Berlin", "10115"), EVB_OK,
           "charger: a good one (ids with 16 digits)");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        is_int(charger(bad[i].name, bad[i].address, bad[i].city,
                       bad[i].postal),
               EVB_P_CARD_DATA, "charger: a card number in %s", bad[i].ptr);
        ok(has_error(EVB_P_CARD_DATA, bad[i].ptr), "charger: at %s",
           bad[i].ptr);
        ok(clean(detail) && errors_clean(), "charger %s: the detail does "
           "not repeat it: %s", bad[i].ptr, detail);
    }

    /* OCPI's postal code holds at most 10 characters: too short for a
     * card number */
    is_int(charger("Depot " NEAR, "Hafenstr. 1", "Berlin", "10115"), EVB_OK,
           "charger: a near miss in the name passes");
}


/* credit notes */

static evb_problem_e
credit(const char *json)
{
    evb_credit_req_t  req;

    detail[0] = '\0';

    return evb_credit_parse(arena, json, strlen(json), &req, detail,
                            sizeof(detail));
}


static void
test_credit(void)
{
    is_int(credit("{\"reason\":\"refund to card " PAN "\"}"), EVB_P_CARD_DATA,
           "credit: a card number in the reason");
    ok(strstr(detail, "\"reason\"") != NULL && clean(detail),
       "credit: the detail names the reason, not the number: %s", detail);
    is_int(credit("{\"reason\":\"card " PAN_D "\",\"lines\":[1]}"),
           EVB_P_CARD_DATA, "credit: with lines");
    is_int(credit("{\"reason\":\"wrong tariff, ticket " NEAR "\"}"), EVB_OK,
           "credit: a near miss passes");
    is_int(credit("{\"reason\":\"IBAN DE89 3704 0044 0532 0130 00\"}"),
           EVB_OK, "credit: an IBAN passes");
}


/* the seller file */

static int
seller(const char *name, const char *street, const char *city,
    const char *reason, char *err, size_t len)
{
    evb_invoice_conf_t  ic;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"address\":{"
             "\"street\":\"%s\",\"city\":\"%s\",\"postal_code\":\"10115\","
             "\"country\":\"DE\"},\"vat_id\":\"DE123456789\","
             "\"registration\":\"HRB 4111111111111111\","
             "\"iban\":\"DE89370400440532013000\",\"email\":\"a@b\","
             "\"phone\":\"4111 1111 1111 1111\",\"payment_terms_days\":14,"
             "\"time_zone\":\"Europe/Berlin\","
             "\"vat_exemption_reason\":\"%s\"}", name, street, city, reason);

    memset(&ic, 0, sizeof(ic));

    return evb_seller_parse(arena, body, strlen(body), &ic, err, len);
}


static void
test_seller(void)
{
    char  err[1024];

    is_int(seller("S GmbH", "A 1", "Berlin", "none", err, sizeof(err)), 0,
           "seller: good (registration and phone are not free text)");

    is_int(seller("S GmbH " PAN, "A 1", "Berlin", "none", err, sizeof(err)),
           -1, "seller: a card number in the name");
    ok(strstr(err, "\"name\" holds what looks like a card number")
       && clean(err), "seller: said without the number: %s", err);

    is_int(seller("S GmbH", "A " PAN_D, "Berlin " PAN, "x " PAN, err,
                  sizeof(err)),
           -1, "seller: card numbers in street, city and exemption reason");
    ok(strstr(err, "\"address.street\" holds")
       && strstr(err, "\"address.city\" holds")
       && strstr(err, "\"vat_exemption_reason\" holds") && clean(err),
       "seller: each field said, no number: %s", err);

    is_int(seller("S GmbH " NEAR, "A 1", "Berlin", "none", err,
                  sizeof(err)),
           0, "seller: a near miss passes");
}


int
main(void)
{
    arena = evb_arena_create(65536);
    if (arena == NULL) {
        return 1;
    }

    test_customer();
    test_charger();
    test_credit();
    test_seller();

    tap_plan(tap_n);
    evb_arena_destroy(arena);

    return tap_done();
}
