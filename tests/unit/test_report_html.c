/* test_report_html.c -- unit tests for the report's page (report_fmt.c, report_html.c,
 * report_svg.c, report_tables.c) without a database: escaping of hostile text, numbers and
 * days for people, and a page built from hand-made figures (its CSP, one data point per day
 * and chart, no markup from the archive's strings, an empty archive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_internal.h"
#include "store_report.h"

/* What f wrote into a string the caller frees. */
static char *captured(void (*f)(FILE *, const void *), const void *arg)
{
    static char *text; /* static: open_memstream keeps their addresses until fclose */
    static size_t size;
    FILE *out;

    text = NULL;
    out = open_memstream(&text, &size);

    assert_non_null(out);
    f(out, arg);
    fclose(out);
    return text;
}

static void escape_it(FILE *out, const void *s)
{
    report_escape(out, s, 0);
}

static void escape_short(FILE *out, const void *s)
{
    report_escape(out, s, 3);
}

static void escapes_markup_quotes_and_control_characters(void **state)
{
    (void)state;
    char *a = captured(escape_it, "<script>alert('x')</script>&\"\x1b[31m\n\x7f");
    char *b = captured(escape_short, "\xC3\xA9t\xC3\xA9s\xF0\x9F\x98\x80");

    assert_string_equal(a, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
                           "&#xFFFD;[31m&#xFFFD;&#xFFFD;");
    assert_string_equal(b, "\xC3\xA9t\xC3\xA9\xE2\x80\xA6"); /* three characters, then … */
    free(a);
    free(b);
}

static void formats_numbers_and_days_for_people(void **state)
{
    (void)state;
    char out[64];

    report_fmt(out, sizeof out, 0, 0);
    assert_string_equal(out, "0");
    report_fmt(out, sizeof out, 999, 0);
    assert_string_equal(out, "999");
    report_fmt(out, sizeof out, 1000, 0);
    assert_string_equal(out, "1,000");
    report_fmt(out, sizeof out, 1234567.891, 2);
    assert_string_equal(out, "1,234,567.89");
    report_fmt(out, sizeof out, -12345, 0);
    assert_string_equal(out, "-12,345");
    report_fmt_compact(out, sizeof out, 950);
    assert_string_equal(out, "950");
    report_fmt_compact(out, sizeof out, 1500);
    assert_string_equal(out, "1.5k");
    report_fmt_compact(out, sizeof out, 20000);
    assert_string_equal(out, "20k");
    report_fmt_compact(out, sizeof out, 3400000);
    assert_string_equal(out, "3.4M");
    report_fmt_day(out, sizeof out, "2026-12-07", 0);
    assert_string_equal(out, "7 Dec 2026");
    report_fmt_day(out, sizeof out, "2026-01-31", 1);
    assert_string_equal(out, "31 Jan");
}

static void number(struct report_number *n, const char *text)
{
    snprintf(n->text, sizeof n->text, "%s", text);
    n->value = strtod(text, NULL);
}

static void page_of(FILE *out, const void *data)
{
    report_write_html(out, data, "2026-11-20 08:00 UTC");
}

static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void page_has_a_csp_a_point_per_day_and_no_markup_from_the_archive(void **state)
{
    (void)state;
    struct report_day days[3] = {{.day = "2026-11-18", .health = "complete"},
                                 {.day = "2026-11-19", .health = "gap"},
                                 {.day = "2026-11-20", .health = "pending"}};
    struct report_item rooms[1] = {{.label = "<img src=x onerror=alert(1)>", .dimension = "room"}};
    struct report_project project = {
        .project = "p_<b>", .days = days, .day_count = 3, .rooms = rooms, .room_count = 1};
    struct report_data data = {
        .first_day = "2026-11-18", .today = "2026-11-20", .projects = &project, .count = 1};
    char *page;

    for (int i = 0; i < 3; i++) {
        number(&days[i].billable, i == 2 ? "0" : "61");
        number(&days[i].minutes, "60.02");
        number(&days[i].sessions, "2");
        number(&days[i].peak, "1");
    }
    number(&rooms[0].minutes, "120.04");
    number(&rooms[0].count, "2");
    page = captured(page_of, &data);
    assert_non_null(strstr(page, "content=\"default-src 'none';"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "<b>"));
    assert_non_null(strstr(page, "&lt;img src=x onerror=alert(1)&gt;"));
    assert_non_null(strstr(page, "data-project=\"p_&lt;b&gt;\""));
    /* four series of three days, three calendar cells */
    assert_int_equal(count(page, "data-day=\""), 4 * 3 + 3);
    assert_non_null(strstr(page, "data-day=\"2026-11-19\" data-health=\"gap\""));
    assert_non_null(strstr(page, "No sessions archived this month yet"));
    free(page);
}

static void an_empty_archive_says_so(void **state)
{
    (void)state;
    struct report_data data = {.first_day = "2026-11-20", .today = "2026-11-20"};
    char *page = captured(page_of, &data);

    assert_non_null(strstr(page, "id=\"empty\""));
    assert_non_null(strstr(page, "</html>"));
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_markup_quotes_and_control_characters),
        cmocka_unit_test(formats_numbers_and_days_for_people),
        cmocka_unit_test(page_has_a_csp_a_point_per_day_and_no_markup_from_the_archive),
        cmocka_unit_test(an_empty_archive_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
