-- functions/privacy.sql -- forget's scrub of the free-form JSON kept in `extra` (repeatable).

-- text with every needle in it replaced: a needle of 4 characters or more wherever it occurs
-- (an e-mail inside a sentence), a shorter one only when it is the whole text (forgetting "al"
-- must not rewrite every "al" of the archive).
CREATE OR REPLACE FUNCTION livekit.text_scrub(p_text text, p_needles text[], p_replacement text)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
    v_needle text;
BEGIN
    FOREACH v_needle IN ARRAY p_needles LOOP
        IF p_text = v_needle THEN
            RETURN p_replacement;
        ELSIF length(v_needle) >= 4 THEN
            p_text := replace(p_text, v_needle, p_replacement);
        END IF;
    END LOOP;
    RETURN p_text;
END
$fn$;
COMMENT ON FUNCTION livekit.text_scrub(text, text[], text) IS
    'A text with every needle (of 4 characters or more; a shorter one only as the whole text) replaced by the replacement';

-- A jsonb value with text_scrub applied to every string and every key, at every depth.
CREATE OR REPLACE FUNCTION livekit.jsonb_scrub(p_value jsonb, p_needles text[], p_replacement text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
    CASE jsonb_typeof(p_value)
    WHEN 'object' THEN
        RETURN COALESCE((SELECT jsonb_object_agg(livekit.text_scrub(key, p_needles, p_replacement),
                                                 livekit.jsonb_scrub(value, p_needles, p_replacement))
                         FROM jsonb_each(p_value)), '{}'::jsonb);
    WHEN 'array' THEN
        RETURN COALESCE((SELECT jsonb_agg(livekit.jsonb_scrub(value, p_needles, p_replacement)
                                          ORDER BY n)
                         FROM jsonb_array_elements(p_value) WITH ORDINALITY AS e(value, n)),
                        '[]'::jsonb);
    WHEN 'string' THEN
        RETURN to_jsonb(livekit.text_scrub(p_value #>> '{}', p_needles, p_replacement));
    ELSE
        RETURN p_value;
    END CASE;
END
$fn$;
COMMENT ON FUNCTION livekit.jsonb_scrub(jsonb, text[], text) IS
    'A jsonb value with every string and key scrubbed of the needles (text_scrub), at every depth: forget rewrites other rows'' extra with it';

-- Whether a jsonb value may mention a needle: a cheap test on its text before jsonb_scrub (a
-- needle is looked for as jsonb writes it inside a string: quotes and backslashes escaped).
CREATE OR REPLACE FUNCTION livekit.jsonb_mentions(p_value jsonb, p_needles text[])
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT EXISTS (SELECT 1 FROM unnest(p_needles) AS n(needle), to_jsonb(n.needle::text) AS q(j)
                   WHERE strpos(p_value::text, substr(q.j::text, 2, length(q.j::text) - 2)) > 0)
$fn$;
COMMENT ON FUNCTION livekit.jsonb_mentions(jsonb, text[]) IS
    'Whether the text of a jsonb value holds one of the needles as jsonb writes it in a string';
