/*
 * tests/unit/debs14/test_parse.c: one line to one row (apps/debs14/parse.c): every rule of
 * the grammar and every reason, the fast parser against the reference, the canonical form
 * and the rejects.csv line. The reader is test_reader.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps/debs14/parse.h"

/* Parses s with both parsers; they must agree on the result and on the row. */
static int parse2(const char *s, size_t n, struct strom_debs_row *row)
{
    struct strom_debs_row ref;
    int rc = strom_debs_parse_line(s, n, row);

    assert_int_equal(strom_debs_parse_line_ref(s, n, &ref), rc);
    if (!rc)
        assert_memory_equal(row, &ref, offsetof(struct strom_debs_row, property) + 1);
    return rc;
}

static int parse(const char *s, struct strom_debs_row *row)
{
    return parse2(s, strlen(s), row);
}

/* The reason for "1,1377986401,<value>,1,11,0,0", or 0 with *v set. */
static int value_of(const char *value, uint64_t *v)
{
    struct strom_debs_row row;
    char line[256];
    int rc;

    snprintf(line, sizeof line, "1,1377986401,%s,1,11,0,0", value);
    rc = parse(line, &row);
    if (!rc)
        *v = row.value;
    return rc;
}

static void test_real_line(void **unused)
{
    struct strom_debs_row row;
    (void)unused;

    memset(&row, 0xaa, sizeof row);
    assert_int_equal(parse("2,1377986401,19.927,1,11,0,0", &row), 0);
    assert_int_equal(row.id, 2);
    assert_int_equal(row.ts, 1377986401);
    assert_int_equal(row.value, 19927);
    assert_int_equal(row.property, 1);
    assert_int_equal(row.plug, 11);
    assert_int_equal(row.household, 0);
    assert_int_equal(row.house, 0);
    assert_int_equal(parse("33628,1377986484,3.216,0,2,7,4", &row), 0);
    assert_int_equal(row.id, 33628);
    assert_int_equal(row.value, 3216);
    assert_int_equal(row.property, 0);
    assert_int_equal(row.plug, 2);
    assert_int_equal(row.household, 7);
    assert_int_equal(row.house, 4);
}

static void test_values(void **unused)
{
    uint64_t v = 12345;
    (void)unused;

    assert_int_equal(value_of("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(value_of("24.81", &v), 0);
    assert_int_equal(v, 24810);
    assert_int_equal(value_of("68.451", &v), 0);
    assert_int_equal(v, 68451);
    assert_int_equal(value_of("1.5", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(value_of("1.50", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(value_of("1.500", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(value_of("0.001", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(value_of("007.070", &v), 0);
    assert_int_equal(v, 7070);
    assert_int_equal(value_of("000000000000000000000000000000042", &v), 0);
    assert_int_equal(v, 42000);
    /* the bound parse.h fixes: 2^53 - 1 thousandths */
    assert_int_equal(value_of("9007199254740.991", &v), 0);
    assert_int_equal(v, 9007199254740991ULL);
    assert_int_equal(value_of("9007199254740.992", &v), STROM_DEBS_R_VALUE_RANGE);
    assert_int_equal(value_of("9007199254741", &v), STROM_DEBS_R_VALUE_RANGE);
    assert_int_equal(value_of("99999999999999999999999999", &v), STROM_DEBS_R_VALUE_RANGE);
    assert_int_equal(value_of("9007199254740.99", &v), 0);
    assert_int_equal(v, 9007199254740990ULL);
}

static void test_value_rejects(void **unused)
{
    static const char *syntax[] = {"1.",  ".5",   "-1",  "+1", "1e3", " 1",   "1 ",   "1.2.3",
                                   "1,5", "0x10", "1.a", "a",  ".",   "1.-5", "1.5 ", "\xff"};
    uint64_t v;
    (void)unused;

    for (size_t i = 0; i < sizeof syntax / sizeof *syntax; i++) {
        int rc = value_of(syntax[i], &v);

        /* "1,5" makes 8 fields */
        if (strcmp(syntax[i], "1,5") == 0)
            assert_int_equal(rc, STROM_DEBS_R_MANY_FIELDS);
        else if (rc != STROM_DEBS_R_VALUE_SYNTAX)
            fail_msg("value \"%s\": reason %d, not syntax", syntax[i], rc);
    }
    assert_int_equal(value_of("", &v), STROM_DEBS_R_VALUE_EMPTY);
    assert_int_equal(value_of("1.2345", &v), STROM_DEBS_R_VALUE_DECIMALS);
    assert_int_equal(value_of("0.0000", &v), STROM_DEBS_R_VALUE_DECIMALS);
    assert_int_equal(value_of("1.2345x", &v), STROM_DEBS_R_VALUE_SYNTAX);
    /* syntax before decimals before range */
    assert_int_equal(value_of("99999999999999999.12345", &v), STROM_DEBS_R_VALUE_DECIMALS);
}

static void test_u32_fields(void **unused)
{
    struct strom_debs_row row;
    (void)unused;

    assert_int_equal(parse("2147483648,1,0,0,4294967295,2147483649,3000000000", &row), 0);
    assert_int_equal(row.id, 2147483648u);
    assert_int_equal(row.ts, 1);
    assert_int_equal(row.plug, 4294967295u);
    assert_int_equal(row.household, 2147483649u);
    assert_int_equal(row.house, 3000000000u);
    assert_int_equal(parse("4294967295,4294967295,1,1,0,0,0", &row), 0);
    assert_int_equal(row.id, 4294967295u);
    assert_int_equal(row.ts, 4294967295u);
    assert_int_equal(parse("007,0001377986401,1,1,00011,000,00000000000000000000000009", &row), 0);
    assert_int_equal(row.id, 7);
    assert_int_equal(row.ts, 1377986401);
    assert_int_equal(row.plug, 11);
    assert_int_equal(row.house, 9);
    assert_int_equal(parse("4294967296,1,1,1,0,0,0", &row), STROM_DEBS_R_ID_RANGE);
    assert_int_equal(parse("1,4294967296,1,1,0,0,0", &row), STROM_DEBS_R_TS_RANGE);
    assert_int_equal(parse("1,1,1,1,4294967296,0,0", &row), STROM_DEBS_R_PLUG_RANGE);
    assert_int_equal(parse("1,1,1,1,0,99999999999999999999999,0", &row),
                     STROM_DEBS_R_HOUSEHOLD_RANGE);
    assert_int_equal(parse("1,1,1,1,0,0,4294967296", &row), STROM_DEBS_R_HOUSE_RANGE);
    assert_int_equal(parse(",1,1,1,0,0,0", &row), STROM_DEBS_R_ID_EMPTY);
    assert_int_equal(parse("1,,1,1,0,0,0", &row), STROM_DEBS_R_TS_EMPTY);
    assert_int_equal(parse("1,1,1,1,,0,0", &row), STROM_DEBS_R_PLUG_EMPTY);
    assert_int_equal(parse("1,1,1,1,0,,0", &row), STROM_DEBS_R_HOUSEHOLD_EMPTY);
    assert_int_equal(parse("1,1,1,1,0,0,", &row), STROM_DEBS_R_HOUSE_EMPTY);
    assert_int_equal(parse("-1,1,1,1,0,0,0", &row), STROM_DEBS_R_ID_DIGITS);
    assert_int_equal(parse(" 1,1,1,1,0,0,0", &row), STROM_DEBS_R_ID_DIGITS);
    assert_int_equal(parse("1,1e9,1,1,0,0,0", &row), STROM_DEBS_R_TS_DIGITS);
    assert_int_equal(parse("1,1.0,1,1,0,0,0", &row), STROM_DEBS_R_TS_DIGITS);
    assert_int_equal(parse("1,1,1,1,a,0,0", &row), STROM_DEBS_R_PLUG_DIGITS);
    assert_int_equal(parse("1,1,1,1,0,+0,0", &row), STROM_DEBS_R_HOUSEHOLD_DIGITS);
    assert_int_equal(parse("1,1,1,1,0,0,0 ", &row), STROM_DEBS_R_HOUSE_DIGITS);
    /* digits before range, within a field; fields from left to right */
    assert_int_equal(parse("99999999999x,1,1,1,0,0,0", &row), STROM_DEBS_R_ID_DIGITS);
    assert_int_equal(parse("4294967296,x,1,1,0,0,0", &row), STROM_DEBS_R_ID_RANGE);
    assert_int_equal(parse("1,1,x,1,0,0,", &row), STROM_DEBS_R_VALUE_SYNTAX);
}

static void test_property(void **unused)
{
    struct strom_debs_row row;
    (void)unused;

    assert_int_equal(parse("1,1,1,0,0,0,0", &row), 0);
    assert_int_equal(row.property, 0);
    assert_int_equal(parse("1,1,1,1,0,0,0", &row), 0);
    assert_int_equal(row.property, 1);
    assert_int_equal(parse("1,1,1,01,0,0,0", &row), 0); /* digits are digits */
    assert_int_equal(row.property, 1);
    assert_int_equal(parse("1,1,1,000,0,0,0", &row), 0);
    assert_int_equal(row.property, 0);
    assert_int_equal(parse("1,1,1,2,0,0,0", &row), STROM_DEBS_R_PROPERTY_RANGE);
    assert_int_equal(parse("1,1,1,10,0,0,0", &row), STROM_DEBS_R_PROPERTY_RANGE);
    assert_int_equal(parse("1,1,1,99999999999,0,0,0", &row), STROM_DEBS_R_PROPERTY_RANGE);
    assert_int_equal(parse("1,1,1,,0,0,0", &row), STROM_DEBS_R_PROPERTY_EMPTY);
    assert_int_equal(parse("1,1,1,x,0,0,0", &row), STROM_DEBS_R_PROPERTY_DIGITS);
    assert_int_equal(parse("1,1,1,1.0,0,0,0", &row), STROM_DEBS_R_PROPERTY_DIGITS);
}

static void test_fields_and_ends(void **unused)
{
    struct strom_debs_row row;
    (void)unused;

    assert_int_equal(parse("", &row), STROM_DEBS_R_FEW_FIELDS);
    assert_int_equal(parse("\r", &row), STROM_DEBS_R_FEW_FIELDS);
    assert_int_equal(parse("1,1,1,1,0,0", &row), STROM_DEBS_R_FEW_FIELDS);      /* 6 */
    assert_int_equal(parse("1,1,1,1,0,0,0,0", &row), STROM_DEBS_R_MANY_FIELDS); /* 8 */
    assert_int_equal(parse("1,1,1,1,0,0,0,", &row), STROM_DEBS_R_MANY_FIELDS);
    assert_int_equal(parse(",,,,,,", &row), STROM_DEBS_R_ID_EMPTY); /* 7 empty fields */
    assert_int_equal(parse("abc", &row), STROM_DEBS_R_FEW_FIELDS);  /* count first */
    /* one CR at the end is not part of the line; a second one is */
    assert_int_equal(parse("1,2,3.5,1,4,5,6\r", &row), 0);
    assert_int_equal(row.house, 6);
    assert_int_equal(row.value, 3500);
    assert_int_equal(parse("1,2,3.5,1,4,5,6\r\r", &row), STROM_DEBS_R_HOUSE_DIGITS);
    assert_int_equal(parse("1,2,3.5,1,4,5\r,6", &row), STROM_DEBS_R_HOUSEHOLD_DIGITS);
    assert_int_equal(parse("1,2,3.5,1,4,5,6\n", &row), STROM_DEBS_R_HOUSE_DIGITS);
    /* NUL is a byte like any other that is not in the grammar */
    assert_int_equal(parse2("1,2,3\0,1,4,5,6", 15, &row), STROM_DEBS_R_VALUE_SYNTAX);
    assert_int_equal(parse2("1,2,3,1,4,5,6\0", 14, &row), STROM_DEBS_R_HOUSE_DIGITS);
    /* only n bytes are read: the line need not end in memory */
    assert_int_equal(parse2("1,2,3,1,4,5,67", 13, &row), 0);
    assert_int_equal(row.house, 6);
}

static void test_reason_names(void **unused)
{
    (void)unused;

    assert_string_equal(strom_debs_reason_name(STROM_DEBS_R_MANY_FIELDS), "too many fields");
    assert_string_equal(strom_debs_reason_name(STROM_DEBS_R_ID_RANGE), "id not a 32-bit number");
    assert_string_equal(strom_debs_reason_name(STROM_DEBS_R_LATE), "late");
    assert_string_equal(strom_debs_reason_name(0), "unknown reason");
    assert_string_equal(strom_debs_reason_name(STROM_DEBS_REASON_COUNT), "unknown reason");
    assert_int_equal(STROM_DEBS_REASON_COUNT, 28);
    /* all distinct, and safe in a CSV field unquoted */
    for (int i = 1; i < STROM_DEBS_REASON_COUNT; i++) {
        const char *s = strom_debs_reason_name(i);

        assert_string_not_equal(s, "unknown reason");
        assert_null(strpbrk(s, ",\"\\\n\r"));
        for (int j = 1; j < i; j++)
            assert_string_not_equal(s, strom_debs_reason_name(j));
    }
}

static void test_format_row(void **unused)
{
    static const struct {
        struct strom_debs_row row;
        const char *text;
    } cases[] = {
        {{1, 1377986401, 68451, 11, 0, 0, 0, 0, 0}, "1,1377986401,68.451,0,11,0,0"},
        {{2, 2, 24810, 1, 2, 3, 1, 0, 0}, "2,2,24.81,1,1,2,3"},
        {{3, 3, 1500, 0, 0, 0, 1, 0, 0}, "3,3,1.5,1,0,0,0"},
        {{4, 4, 0, 0, 0, 0, 0, 0, 0}, "4,4,0,0,0,0,0"},
        {{5, 5, 7000, 0, 0, 0, 1, 0, 0}, "5,5,7,1,0,0,0"},
        {{6, 6, 1, 0, 0, 0, 1, 0, 0}, "6,6,0.001,1,0,0,0"},
        {{7, 7, 1010, 0, 0, 0, 1, 0, 0}, "7,7,1.01,1,0,0,0"},
        {{4294967295u, 4294967295u, STROM_DEBS_VALUE_MAX, 4294967295u, 4294967295u, 4294967295u, 1, 0, 0},
         "4294967295,4294967295,9007199254740.991,1,4294967295,4294967295,4294967295"},
    };
    char buf[STROM_DEBS_ROW_MAX + 1];
    struct strom_debs_row back;
    (void)unused;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = strom_debs_format_row(buf, &cases[i].row);

        assert_true(n <= STROM_DEBS_ROW_MAX);
        buf[n] = 0;
        assert_string_equal(buf, cases[i].text);
        memset(&back, 0, sizeof back);
        assert_int_equal(parse2(buf, n, &back), 0);
        assert_memory_equal(&back, &cases[i].row, offsetof(struct strom_debs_row, property) + 1);
    }
}

static void test_format_reject(void **unused)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    char big[2000];
    (void)unused;

    assert_non_null(f);
    assert_int_equal(
        strom_debs_format_reject(f, 17, STROM_DEBS_R_VALUE_DECIMALS, "1,2,1.2345,1,0,0,0", 18), 0);
    assert_int_equal(strom_debs_format_reject(f, 1, STROM_DEBS_R_FEW_FIELDS, "", 0), 0);
    assert_int_equal(strom_debs_format_reject(f, 18446744073709551615ULL, STROM_DEBS_R_ID_DIGITS,
                                              "\"a\"\\b\r\n\t\0\x7f\x80\xff~ ", 14),
                     0);
    assert_int_equal(fflush(f), 0);
    assert_string_equal(out, "17,value has more than 3 decimals,\"1,2,1.2345,1,0,0,0\"\n"
                             "1,too few fields,\"\"\n"
                             "18446744073709551615,id not digits,"
                             "\"\"\"a\"\"\\\\b\\x0d\\x0a\\x09\\x00\\x7f\\x80\\xff~ \"\n");
    /* long lines cross the internal buffer; still one line, each byte once */
    memset(big, '"', sizeof big);
    fclose(f);
    free(out);
    f = open_memstream(&out, &len);
    assert_int_equal(strom_debs_format_reject(f, 5, STROM_DEBS_R_LINE_TOO_LONG, big, sizeof big),
                     0);
    fclose(f);
    assert_int_equal(len, strlen("5,line too long,\"") + 2 * sizeof big + 2);
    assert_int_equal(strchr(out, '\n') - out, (long)len - 1);
    free(out);
    /* and with the longest escape, 4 bytes for 1 (once wrote past its buffer) */
    memset(big, '\xff', sizeof big);
    f = open_memstream(&out, &len);
    assert_int_equal(strom_debs_format_reject(f, 5, STROM_DEBS_R_LINE_TOO_LONG, big, sizeof big),
                     0);
    fclose(f);
    assert_int_equal(len, strlen("5,line too long,\"") + 4 * sizeof big + 2);
    assert_memory_equal(out + len - 6, "\\xff\"\n", 6);
    free(out);
}

/* A cheap deterministic generator, so that a failure can be repeated. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Lines near the grammar: mutate good lines byte by byte; the fast parser must always agree
 * with the reference (parse2 checks), and some mutations must still be good lines. */
static void test_fast_agrees_with_ref(void **unused)
{
    static const char *seeds[] = {"1,1377986401,68.451,0,11,0,0", "4294967295,0,0,1,0,0,0",
                                  "12,1377986402,0.5,1,2,7,4\r", "9,9,9007199254740.991,0,1,2,3"};
    static const char alphabet[] = "0123456789.,\r-e 9";
    struct strom_debs_row row;
    uint64_t s = 88172645463325252ULL;
    int good = 0, bad = 0;
    (void)unused;

    for (int i = 0; i < 200000; i++) {
        char line[64];
        size_t n = strlen(seeds[i % 4]);
        int edits = 1 + (int)(rnd(&s) % 3);

        memcpy(line, seeds[i % 4], n);
        while (edits--) {
            size_t at = rnd(&s) % (n + 1);
            char c = alphabet[rnd(&s) % (sizeof alphabet - 1)];
            switch (rnd(&s) % 3) {
            case 0: /* replace */
                if (at < n)
                    line[at] = c;
                break;
            case 1: /* insert */
                if (n < sizeof line - 1) {
                    memmove(line + at + 1, line + at, n - at);
                    line[at] = c;
                    n++;
                }
                break;
            default: /* delete */
                if (at < n) {
                    memmove(line + at, line + at + 1, n - at - 1);
                    n--;
                }
            }
        }
        if (parse2(line, n, &row))
            bad++;
        else
            good++;
    }
    assert_true(good > 10000);
    assert_true(bad > 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_line),     cmocka_unit_test(test_values),
        cmocka_unit_test(test_value_rejects), cmocka_unit_test(test_u32_fields),
        cmocka_unit_test(test_property),      cmocka_unit_test(test_fields_and_ends),
        cmocka_unit_test(test_reason_names),  cmocka_unit_test(test_format_row),
        cmocka_unit_test(test_format_reject), cmocka_unit_test(test_fast_agrees_with_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
