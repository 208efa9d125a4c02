// baseline.mjs -- the benchmark's baseline archiver, written the way LiveKit's docs suggest:
// mint a token with livekit-server-sdk, walk the list with fetch(), fetch each session's
// details one after another, and write every row with a parameterized
// INSERT ... ON CONFLICT through the `pg` package. No batching, no concurrency.
// Environment: LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_PROJECT_ID, LIVEKIT_ANALYTICS_URL,
// PGHOST/PGUSER/PGDATABASE, BASELINE_TODAY (YYYY-MM-DD), BASELINE_DAYS (default 7).
import { AccessToken } from 'livekit-server-sdk';
import pg from 'pg';

const base = process.env.LIVEKIT_ANALYTICS_URL;
const project = process.env.LIVEKIT_PROJECT_ID;
const today = new Date(`${process.env.BASELINE_TODAY}T00:00:00Z`);
const days = Number(process.env.BASELINE_DAYS || 7);
const limit = 100;

async function token() {
  const at = new AccessToken(process.env.LIVEKIT_API_KEY, process.env.LIVEKIT_API_SECRET, { identity: 'lk-analytics', ttl: '10m' });
  at.addGrant({ roomList: true });
  return at.toJwt();
}

// The API sends timestamps in several forms; the baseline turns them into ISO strings or null.
function ts(v) {
  if (v === null || v === undefined || v === '' || v === '0001-01-01T00:00:00Z') return null;
  if (typeof v === 'object') {
    const s = Number(v.seconds || 0), n = Number(v.nanos || 0);
    return s === 0 && n === 0 ? null : new Date(s * 1000 + n / 1e6).toISOString();
  }
  if (typeof v === 'number') return v === 0 ? null : new Date(v * 1000).toISOString();
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : v;
}
const int = (v) => (v === null || v === undefined || !/^-?\d+$/.test(String(v)) ? null : String(v));
const num = (v) => (v === null || v === undefined || !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(String(v)) ? null : String(v));
const bool = (v) => (typeof v === 'boolean' ? v : null);
const text = (v) => (v === null || v === undefined ? null : String(v).replaceAll('\u0000', '\uFFFD'));

// A token lives 10 minutes; a slow run outlasts it, so it is minted again after 5 (one token
// per run once failed with HTTP 401 in the middle of a 15-minute baseline).
let jwt = null, mintedAt = 0;
async function get(url) {
  if (Date.now() - mintedAt > 5 * 60 * 1000) {
    jwt = await token();
    mintedAt = Date.now();
  }
  const res = await fetch(url, { headers: { Authorization: `Bearer ${jwt}` } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

const client = new pg.Client(); // PGHOST, PGUSER, PGDATABASE ... as libpq reads them
await client.connect();
let requests = 0, rows = 0;
for (let d = days - 1; d >= 0; d--) {
  const day = new Date(today.getTime() - d * 86400000).toISOString().slice(0, 10);
  for (let page = 0; ; page++) {
    const list = await get(`${base}/api/project/${project}/sessions?page=${page}&limit=${limit}&start=${day}&end=${day}`);
    requests++;
    const sessions = list.sessions || [];
    for (const s of sessions) {
      await client.query(
        `INSERT INTO livekit.sessions (project_id, session_id, room_name, created_at, ended_at, last_active,
           bandwidth_in, bandwidth_out, egress, num_participants, num_active_participants, list_day)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
         ON CONFLICT (project_id, session_id) DO UPDATE SET room_name = excluded.room_name,
           created_at = excluded.created_at, ended_at = excluded.ended_at, last_active = excluded.last_active,
           bandwidth_in = excluded.bandwidth_in, bandwidth_out = excluded.bandwidth_out, egress = excluded.egress,
           num_participants = excluded.num_participants, num_active_participants = excluded.num_active_participants`,
        [project, s.sessionId, text(s.roomName), ts(s.createdAt), ts(s.endedAt), ts(s.lastActive),
          int(s.bandwidthIn), int(s.bandwidthOut), int(s.egress), int(s.numParticipants),
          int(s.numActiveParticipants), day]);
      rows++;
      const det = await get(`${base}/api/project/${project}/sessions/${encodeURIComponent(s.sessionId)}`);
      requests++;
      await client.query(
        `UPDATE livekit.sessions SET start_time = $3, end_time = $4, bandwidth = $5, connection_minutes = $6,
           details_num_participants = $7, details_archived = true WHERE project_id = $1 AND session_id = $2`,
        [project, s.sessionId, ts(det.startTime), ts(det.endTime), int(det.bandwidth), num(det.connectionMinutes),
          int(det.numParticipants)]);
      for (const p of det.participants || []) {
        const src = p.publishedSources || {};
        await client.query(
          `INSERT INTO livekit.participants (project_id, session_id, participant_identity, participant_name,
             joined_at, left_at, region, connection_type, sdk_version, published_camera_track,
             published_microphone_track, published_screen_share_track, published_screen_share_audio)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
           ON CONFLICT (project_id, session_id, participant_identity) DO UPDATE SET
             participant_name = excluded.participant_name, joined_at = excluded.joined_at, left_at = excluded.left_at,
             region = excluded.region, connection_type = excluded.connection_type, sdk_version = excluded.sdk_version,
             published_camera_track = excluded.published_camera_track,
             published_microphone_track = excluded.published_microphone_track,
             published_screen_share_track = excluded.published_screen_share_track,
             published_screen_share_audio = excluded.published_screen_share_audio`,
          [project, s.sessionId, text(p.participantIdentity), text(p.participantName), ts(p.joinedAt), ts(p.leftAt),
            text(p.region), text(p.connectionType), text(p.sdkVersion), bool(src.cameraTrack),
            bool(src.microphoneTrack), bool(src.screenShareTrack), bool(src.screenShareAudio)]);
        rows++;
        for (const c of p.sessions || []) {
          await client.query(
            `INSERT INTO livekit.participant_connections (project_id, session_id, connection_id,
               participant_identity, joined_at, left_at) VALUES ($1,$2,$3,$4,$5,$6)
             ON CONFLICT (project_id, session_id, connection_id) DO UPDATE SET
               participant_identity = excluded.participant_identity, joined_at = excluded.joined_at,
               left_at = excluded.left_at`,
            [project, s.sessionId, text(c.sessionId), text(p.participantIdentity), ts(c.joinedAt), ts(c.leftAt)]);
          rows++;
        }
      }
    }
    if (sessions.length < limit) break;
  }
}
await client.end();
console.log(JSON.stringify({ requests, rows }));
