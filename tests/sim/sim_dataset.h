/* sim_dataset.h -- the simulator's deterministic dataset: sessions, participants, connections.
 *
 * Nothing is stored: every value is a hash of (seed, project, day, session index, field), so
 * any session can be rebuilt in O(1) from its id and the same inputs always give the same
 * bytes. A record (struct sim_record) is one JSON object of the API as a list of fields, each
 * carrying the exact JSON text served for it (quirks included) and what the archive must store
 * for it (the column text, or the value that goes to `extra`). sim_json serialises records to
 * the wire; sim_dataset_write_expected turns the very same records into the expected rows, so
 * the served JSON and the expected archive cannot drift apart.
 * Invariant: only the active state of sessions on the dataset's "today" depends on `today`.
 */
#ifndef SIM_DATASET_H
#define SIM_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upstream quirks the simulator can switch on (sim_quirks_parse). */
enum sim_quirk {
    SIM_Q_INT64_STRINGS = 1u << 0,
    SIM_Q_TIMESTAMP_FORMS = 1u << 1,
    SIM_Q_ZERO_TIMESTAMPS = 1u << 2,
    SIM_Q_UNKNOWN_FIELDS = 1u << 3,
    SIM_Q_NULLS = 1u << 4,
    SIM_Q_SHUFFLED_KEYS = 1u << 5,
    SIM_Q_ODD_STRINGS = 1u << 6,
    SIM_Q_BAD_VALUES = 1u << 7,
    SIM_Q_GZIP = 1u << 8,
    SIM_Q_CHUNKED = 1u << 9,
    SIM_Q_PRETTY = 1u << 10,
    SIM_Q_ALL = (1u << 11) - 1
};

#define SIM_MAX_PROJECTS 16
#define SIM_MAX_SESSIONS_PER_DAY 262143u /* 18 bits of the session id */
#define SIM_MAX_PARTICIPANTS 10000u      /* mean */
#define SIM_MAX_CONNECTIONS 1000000u     /* mean per session */
#define SIM_MAX_DAY 131071               /* 17 bits of the session id: 2328-11-10 */
#define SIM_MAX_DAYS 7                   /* days with sessions: today-6 .. today */

/* The dataset's parameters; filled by the caller, then sim_dataset_init. Plain struct. */
struct sim_dataset {
    uint64_t seed;
    const char *projects[SIM_MAX_PROJECTS]; /* borrowed (argv) */
    uint64_t project_seeds[SIM_MAX_PROJECTS];
    size_t n_projects;
    int64_t today;             /* days since 1970-01-01 */
    int64_t first_day;         /* today - days + 1: the oldest day that has sessions */
    uint32_t sessions_per_day; /* every (project, day), unless day_sessions says otherwise */
    /* Sessions of (project, today - offset): sim_dataset_init fills it with sessions_per_day,
     * the caller may then change entries (--project-sessions, --day-sessions). Read it with
     * sim_dataset_sessions, which also knows the days without sessions. */
    uint32_t day_sessions[SIM_MAX_PROJECTS][SIM_MAX_DAYS];
    uint32_t participants; /* mean participants per session */
    uint32_t connections;  /* mean connections per session */
    uint32_t active_today; /* the last N sessions of today are active */
    unsigned quirks;       /* enum sim_quirk bits */
    /* every session has exactly `participants` participants, each with exactly
     * max(1, connections / participants) connections (instead of the random spread) */
    bool exact_counts;
    /* one session in N ends on the next day, 00:01 to 06:00 (0: none) */
    uint32_t overnight;
    /* one session in N has no participants at all (0: none) */
    uint32_t empty_sessions;
    /* 0: the dataset as first served; N > 0: one session in three of every day changed
     * (another length, a startTime up to 18 h from createdAt), as on a later night */
    uint32_t revision;
    /* --hostile: a few deterministic sessions carry what PostgreSQL cannot hold, ids "." and
     * "..", a details roomId about another session (see enum sim_hostile) */
    bool hostile;
    /* --identity-echo: a participant whose identity and name are plain ("user-3", "User 3")
     * also carries them in attributes and metadata, and each of its connections in
     * participantIdentity and clientInfo (fields the archive keeps in extra) */
    bool identity_echo;
    /* --long-identity: the first participant of yesterday's session index 1 has an identity of
     * 20,000 bytes, longer than a PostgreSQL index entry can be (the archive loses that
     * session alone; the expected rows still hold it) */
    bool long_identity;
    /* room names drawn from this many ("room-0" .. ), 500 by default; 0: a room of its own
     * per session ("call-N", N unique over the project's days), as apps that name a room
     * after each call do */
    uint32_t room_names;
};

/* Derives the per-project seeds and fills day_sessions from sessions_per_day; call after
 * filling seed, projects, today, first_day and sessions_per_day. Cannot fail. */
void sim_dataset_init(struct sim_dataset *ds);

/* How many sessions the project has on day (days since 1970-01-01): 0 outside
 * [first_day, today]. Cannot fail. */
uint32_t sim_dataset_sessions(const struct sim_dataset *ds, size_t project, int64_t day);

/* "all", "none" or comma-separated names. 0, or -1 with the bad name in err. */
int sim_quirks_parse(unsigned *out, const char *text, char *err, size_t errlen);

/* Strict YYYY-MM-DD (a real calendar date, 1970..2328) to days since 1970-01-01: 0 or -1. */
int sim_date_parse(int64_t *out, const char *text);
/* days since 1970-01-01 to "YYYY-MM-DD" and a NUL. Cannot fail. */
void sim_date_format(char out[11], int64_t day);
/* Index of project id in ds->projects, or -1. */
int sim_dataset_project(const struct sim_dataset *ds, const char *project);

/* A point in time: seconds since the epoch and nanoseconds. */
struct sim_time {
    int64_t sec;
    int32_t nsec;
};

/* --hostile: what a session carries. Index 0 of every day: strings (offset from today even)
 * or numbers (odd); index 1 of today-1 / today-2 / today-3: id ".", id "..", a details
 * roomId about another session; index 1 of today-4: an id with terminal escapes and a
 * newline (SIM_HOSTILE_ID). */
#define SIM_HOSTILE_ID "RM_\x1b[31mX\x1b[0m\nlkarchive: forged line"

enum sim_hostile {
    SIM_H_NONE = 0,
    SIM_H_STRINGS,
    SIM_H_NUMBERS,
    SIM_H_DOT,
    SIM_H_DOTDOT,
    SIM_H_MISMATCH,
    SIM_H_ID
};

/* One session's core values, from which every record of it is built. */
struct sim_session {
    const struct sim_dataset *ds;
    size_t project;
    int64_t day;
    uint32_t index;
    uint64_t seed;
    char id[48];              /* "RM_" + 12 characters (--hostile: see enum sim_hostile) */
    bool active;              /* only ever true on ds->today */
    bool huge;                /* the day's ~200 KB room name (odd-strings) */
    enum sim_hostile hostile; /* SIM_H_NONE unless --hostile */
    uint64_t room;            /* the room name's number: "room-N", or "call-N" (room_names 0) */
    struct sim_time created, ended;
    struct sim_time start; /* details startTime: created, unless --revision moved it */
    uint32_t n_participants;
    uint32_t n_connections; /* over all participants */
};

/* One participant's core values (filled by sim_build_participant). */
struct sim_participant {
    uint32_t k;
    uint64_t seed;
    bool active; /* still connected: no leftAt, and no leftAt on its last connection */
    struct sim_time joined, left;
    uint32_t n_connections;
    bool echo; /* --identity-echo: its connections echo its identity */
};

/* Columns of the expected-row files, in file order (tests/sim/README.md). */
/* clang-format off */
enum sim_session_col {
    SC_PROJECT, SC_SESSION_ID, SC_ROOM_NAME, SC_CREATED_AT, SC_ENDED_AT, SC_LAST_ACTIVE,
    SC_BANDWIDTH_IN, SC_BANDWIDTH_OUT, SC_EGRESS, SC_NUM_PARTICIPANTS, SC_NUM_ACTIVE,
    SC_START_TIME, SC_END_TIME, SC_BANDWIDTH, SC_CONNECTION_MINUTES, SC_DETAILS_NUM_PARTICIPANTS,
    SC_LIST_DAY, SC_EXTRA, SC_COUNT
};
enum sim_participant_col {
    PC_PROJECT, PC_SESSION_ID, PC_IDENTITY, PC_NAME, PC_JOINED_AT, PC_LEFT_AT, PC_REGION,
    PC_CONNECTION_TYPE, PC_SDK_VERSION, PC_CAMERA, PC_MICROPHONE, PC_SCREEN_SHARE,
    PC_SCREEN_SHARE_AUDIO, PC_EXTRA, PC_COUNT
};
enum sim_connection_col {
    CC_PROJECT, CC_SESSION_ID, CC_CONNECTION_ID, CC_IDENTITY, CC_JOINED_AT, CC_LEFT_AT, CC_EXTRA,
    CC_COUNT
};
/* clang-format on */

/* A field whose value is not plain text but nested records, emitted by the serialiser. */
enum sim_nest {
    SIM_NEST_NONE = 0,
    SIM_NEST_PARTICIPANTS,
    SIM_NEST_PUBLISHED,
    SIM_NEST_CONNECTIONS
};

#define SIM_MAX_FIELDS 24

/* One member of a JSON object. Texts are offsets into the record's buffer (it may move). */
struct sim_field {
    const char *key;             /* static; served as is (plain ASCII unless --hostile) */
    const char *extra_key;       /* the key as `extra` holds it (JSON text), NULL: key */
    enum sim_nest nest;          /* SIM_NEST_NONE: the value is json_off/json_len */
    bool present;                /* false: the member is absent from the object */
    int col;                     /* expected column it fills, or -1 */
    bool col_set;                /* false: the column is NULL (\N) */
    bool in_extra;               /* the member goes to the row's `extra` */
    size_t json_off, json_len;   /* the value as served */
    size_t col_off, col_len;     /* decoded column text, when col_set */
    size_t extra_off, extra_len; /* the JSON value stored in `extra`, when in_extra */
};

/* A JSON object to serve, and what it means for the archive. init/dispose, reused. */
struct sim_record {
    struct sim_field fields[SIM_MAX_FIELDS];
    size_t n_fields;
    uint64_t order_seed; /* 0: canonical key order; else the seed of a shuffle */
    char *buf;
    size_t len, cap;
    bool failed; /* out of memory while building */
};

void sim_record_init(struct sim_record *r);
void sim_record_dispose(struct sim_record *r); /* contents only; cannot fail */
/* Pointer to a text of the record's buffer (valid until the record is rebuilt). */
const char *sim_record_text(const struct sim_record *r, size_t off);

/* The session (project, day, index); index < sim_dataset_sessions(project, day). Cannot fail. */
void sim_session_init(struct sim_session *out, const struct sim_dataset *ds, size_t project,
                      int64_t day, uint32_t index);
/* The session with this id in this project, if it exists in the dataset's days: 0 or -1. */
int sim_session_lookup(struct sim_session *out, const struct sim_dataset *ds, size_t project,
                       const char *id);

/* Builders: (re)fill r with the record. 0, or -1 when out of memory. */
int sim_build_list_session(struct sim_record *r, const struct sim_session *s);
int sim_build_details(struct sim_record *r, const struct sim_session *s);
/* Also fills *out, which sim_build_published and sim_build_connection need. */
int sim_build_participant(struct sim_record *r, struct sim_participant *out,
                          const struct sim_session *s, uint32_t k);
int sim_build_published(struct sim_record *r, const struct sim_session *s,
                        const struct sim_participant *p);
int sim_build_connection(struct sim_record *r, const struct sim_session *s,
                         const struct sim_participant *p, uint32_t c);

/* Whether the list response wrapper of this page carries an unknown member, and where. */
bool sim_list_wrapper_extra(const struct sim_dataset *ds, uint64_t page_seed, bool *first);

/* Writes sessions.tsv, participants.tsv and participant_connections.tsv into dir (created
 * if missing) for every project and day of the window. 0, or -1 with a message in err. */
int sim_dataset_write_expected(const struct sim_dataset *ds, const char *dir, char *err,
                               size_t errlen);

/* splitmix64 finaliser of (a, b): the simulator's only source of randomness. */
uint64_t sim_hash(uint64_t a, uint64_t b);

#endif
