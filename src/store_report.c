/* store_report.c -- `lkarchive report`'s reads: the statements of src/queries/report.sql, one
 * per part of a project's page, in one REPEATABLE READ READ ONLY transaction (every figure of
 * the page from the same snapshot) with lkarchive.today set for livekit_bi.monthly_usage.
 * Rows are copied into the plain structs of store_report.h, each column read by name; numbers
 * keep the text the server wrote (the page's data- attributes carry it unchanged).
 */
#include "store_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pq.h"
#include "store_internal.h"
#include "store_sql.h"

static int nomem(struct lk_error *err)
{
    lk_error_set(err, LK_ENOMEM, "out of memory reading the report");
    return LK_ENOMEM;
}

/* The text of column `name` of row into n (NULL: "0"). */
static void number_of(struct report_number *n, const PGresult *res, int row, const char *name)
{
    int col = pq_column(res, name);
    const char *text = PQgetisnull(res, row, col) ? "0" : PQgetvalue(res, row, col);

    snprintf(n->text, sizeof n->text, "%s", text);
    n->value = strtod(n->text, NULL);
}

static void text_of(char *out, size_t size, const PGresult *res, int row, const char *name)
{
    snprintf(out, size, "%s", PQgetvalue(res, row, pq_column(res, name)));
}

/* A copy of column `name` of row (NULL stays NULL); *failed when out of memory. */
static char *dup_of(const PGresult *res, int row, const char *name, bool *failed)
{
    int col = pq_column(res, name);
    char *copy;

    if (PQgetisnull(res, row, col))
        return NULL;
    copy = strdup(PQgetvalue(res, row, col));
    if (copy == NULL)
        *failed = true;
    return copy;
}

/* Run one of the report's statements for project p; *out gets its rows (the caller clears). */
static int query(PGresult **out, struct store *st, const char *sql, const char *project,
                 const char *first_day, const char *today, struct lk_error *err)
{
    const char *params[3] = {project, first_day, today};

    return pq_exec(out, st->conn, PQ_TUPLES_OK, sql, 3, params, err, "read the report of %s",
                   project);
}

static int load_days(struct report_project *p, const PGresult *res, struct lk_error *err)
{
    int rows = PQntuples(res);

    p->days = calloc((size_t)rows + 1, sizeof *p->days);
    if (p->days == NULL)
        return nomem(err);
    for (int r = 0; r < rows; r++) {
        struct report_day *d = &p->days[r];

        text_of(d->day, sizeof d->day, res, r, "day");
        number_of(&d->billable, res, r, "billable");
        number_of(&d->minutes, res, r, "minutes");
        number_of(&d->sessions, res, r, "sessions");
        number_of(&d->peak, res, r, "peak");
        text_of(d->health, sizeof d->health, res, r, "health");
    }
    p->day_count = (size_t)rows;
    return 0;
}

static int load_months(struct report_project *p, const PGresult *res, struct lk_error *err)
{
    int rows = PQntuples(res);

    p->months = calloc((size_t)rows + 1, sizeof *p->months);
    if (p->months == NULL)
        return nomem(err);
    for (int r = 0; r < rows; r++) {
        struct report_month *m = &p->months[r];

        text_of(m->month, sizeof m->month, res, r, "month");
        number_of(&m->billable, res, r, "billable");
        number_of(&m->minutes, res, r, "minutes");
        number_of(&m->gb, res, r, "gb");
        number_of(&m->days_covered, res, r, "days_covered");
        number_of(&m->days_in_month, res, r, "days_in_month");
        m->projected_set = !PQgetisnull(res, r, pq_column(res, "projected"));
        number_of(&m->projected, res, r, "projected");
        number_of(&m->projected_gb, res, r, "projected_gb");
        number_of(&m->projection_days, res, r, "projection_days");
    }
    p->month_count = (size_t)rows;
    return 0;
}

/* Rooms (mix false: room_name, minutes, sessions) or the mix (dimension, value, other,
 * participants, minutes) into *items. */
static int load_items(struct report_item **items, size_t *count, const PGresult *res, bool mix,
                      struct lk_error *err)
{
    int rows = PQntuples(res);
    bool failed = false;

    *items = calloc((size_t)rows + 1, sizeof **items);
    if (*items == NULL)
        return nomem(err);
    for (int r = 0; r < rows; r++) {
        struct report_item *it = &(*items)[r];

        it->label = dup_of(res, r, mix ? "value" : "room_name", &failed);
        number_of(&it->minutes, res, r, "minutes");
        number_of(&it->count, res, r, mix ? "participants" : "sessions");
        if (mix) {
            text_of(it->dimension, sizeof it->dimension, res, r, "dimension");
            it->other = strcmp(PQgetvalue(res, r, pq_column(res, "other")), "t") == 0;
        } else {
            snprintf(it->dimension, sizeof it->dimension, "room");
        }
        *count = (size_t)r + 1;
    }
    return failed ? nomem(err) : 0;
}

/* Every part of one project's page. */
static int load_project(struct report_project *p, struct store *st, const char *first_day,
                        const char *today, struct lk_error *err)
{
    PGresult *res = NULL;
    int rc;

    rc = query(&res, st, store_sql_report_days, p->project, first_day, today, err);
    if (rc == 0)
        rc = load_days(p, res, err);
    PQclear(res);
    res = NULL;
    if (rc == 0)
        rc = query(&res, st, store_sql_report_months, p->project, first_day, today, err);
    if (rc == 0)
        rc = load_months(p, res, err);
    PQclear(res);
    res = NULL;
    if (rc == 0)
        rc = query(&res, st, store_sql_report_rooms, p->project, first_day, today, err);
    if (rc == 0)
        rc = load_items(&p->rooms, &p->room_count, res, false, err);
    PQclear(res);
    res = NULL;
    if (rc == 0)
        rc = query(&res, st, store_sql_report_mix, p->project, first_day, today, err);
    if (rc == 0)
        rc = load_items(&p->mix, &p->mix_count, res, true, err);
    PQclear(res);
    return rc;
}

/* The snapshot, the views' today, and the projects' ids into data. */
static int begin_report(struct report_data *data, struct store *st, char *const *configured,
                        size_t configured_count, const char *project, struct lk_error *err)
{
    PGresult *res = NULL;
    char *ids = NULL, **names = NULL;
    size_t count = 0;
    const char *today[1] = {data->today};
    int rc;

    rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                 0, NULL, err, "start the report's snapshot");
    if (rc == 0)
        rc = pq_exec(NULL, st->conn, PQ_TUPLES_OK,
                     "SELECT set_config('lkarchive.today', $1::date::text, true)", 1, today, err,
                     "set the report's day");
    if (rc == 0)
        rc = pq_text_array(&ids, configured, configured_count, err);
    if (rc == 0) {
        const char *params[2] = {ids, project};
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_report_projects, 2, params, err,
                     "list the report's projects");
    }
    if (rc == 0)
        rc = pq_column_strings(&names, &count, res, 0, NULL, NULL, err);
    if (rc == 0) {
        data->projects = calloc(count + 1, sizeof *data->projects);
        if (data->projects == NULL)
            rc = nomem(err);
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        data->projects[i].project = names[i];
        names[i] = NULL;
        data->count = i + 1;
    }
    pq_strings_free(names, count);
    free(ids);
    PQclear(res);
    return rc;
}

int store_report_load(struct report_data **out, struct store *st, char *const *configured,
                      size_t configured_count, const char *project, const char *first_day,
                      const char *today, struct lk_error *err)
{
    struct report_data *data = calloc(1, sizeof *data);
    int rc = data ? 0 : nomem(err);

    *out = NULL;
    if (rc == 0) {
        snprintf(data->first_day, sizeof data->first_day, "%s", first_day);
        snprintf(data->today, sizeof data->today, "%s", today);
        rc = begin_report(data, st, configured, configured_count, project, err);
    }
    for (size_t i = 0; rc == 0 && i < data->count; i++)
        rc = load_project(&data->projects[i], st, first_day, today, err);
    /* read only: ending it either way changes nothing */
    if (PQtransactionStatus(st->conn) != PQTRANS_IDLE)
        PQclear(PQexec(st->conn, "ROLLBACK"));
    if (rc == 0)
        *out = data;
    else
        store_report_free(data);
    return rc;
}

static void free_items(struct report_item *items, size_t count)
{
    for (size_t i = 0; items && i < count; i++)
        free(items[i].label);
    free(items);
}

void store_report_free(struct report_data *data)
{
    if (data == NULL)
        return;
    for (size_t i = 0; i < data->count; i++) {
        struct report_project *p = &data->projects[i];

        free(p->project);
        free(p->days);
        free(p->months);
        free_items(p->rooms, p->room_count);
        free_items(p->mix, p->mix_count);
    }
    free(data->projects);
    free(data);
}
