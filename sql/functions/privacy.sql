-- functions/privacy.sql -- forget's scrub of the free-form JSON kept in `extra` (repeatable).

-- The text, or its replacement when it is one of the needles (the replacement at the same
-- place). Whole strings only, as a run does (src/store_forget.c): a run knows a forgotten
-- identity or name only by its pseudonym, so it recognises a string that is one, never one
-- that holds it among other words; matching more here would be undone by the next run that
-- fetches the row again.
CREATE OR REPLACE FUNCTION livekit.text_scrub(p_text text, p_needles text[], p_replacements text[])
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT COALESCE(p_replacements[array_position(p_needles, p_text)], p_text)
$fn$;
COMMENT ON FUNCTION livekit.text_scrub(text, text[], text[]) IS
    'The text, or its replacement when it is one of the needles';

-- A jsonb value with text_scrub applied to every string and every key, at every depth.
CREATE OR REPLACE FUNCTION livekit.jsonb_scrub(p_value jsonb, p_needles text[], p_replacements text[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
    CASE jsonb_typeof(p_value)
    WHEN 'object' THEN
        RETURN COALESCE((SELECT jsonb_object_agg(livekit.text_scrub(key, p_needles, p_replacements),
                                                 livekit.jsonb_scrub(value, p_needles, p_replacements))
                         FROM jsonb_each(p_value)), '{}'::jsonb);
    WHEN 'array' THEN
        RETURN COALESCE((SELECT jsonb_agg(livekit.jsonb_scrub(value, p_needles, p_replacements)
                                          ORDER BY n)
                         FROM jsonb_array_elements(p_value) WITH ORDINALITY AS e(value, n)),
                        '[]'::jsonb);
    WHEN 'string' THEN
        RETURN to_jsonb(livekit.text_scrub(p_value #>> '{}', p_needles, p_replacements));
    ELSE
        RETURN p_value;
    END CASE;
END
$fn$;
COMMENT ON FUNCTION livekit.jsonb_scrub(jsonb, text[], text[]) IS
    'A jsonb value with every string and key that is one of the needles replaced (text_scrub), at every depth: forget rewrites extra with it';

-- Whether a jsonb value may mention a needle: a cheap test on its text before jsonb_scrub (a
-- needle is looked for as jsonb writes it inside a string: quotes and backslashes escaped).
CREATE OR REPLACE FUNCTION livekit.jsonb_mentions(p_value jsonb, p_needles text[])
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT EXISTS (SELECT 1 FROM unnest(p_needles) AS n(needle), to_jsonb(n.needle::text) AS q(j)
                   WHERE strpos(p_value::text, substr(q.j::text, 2, length(q.j::text) - 2)) > 0)
$fn$;
COMMENT ON FUNCTION livekit.jsonb_mentions(jsonb, text[]) IS
    'Whether the text of a jsonb value holds one of the needles as jsonb writes it in a string';
