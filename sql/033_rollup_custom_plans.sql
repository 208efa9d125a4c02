-- 033_rollup_custom_plans.sql -- the rollup's statements are planned for each call, never from a
-- plan cached while the tables were tiny: a day of 50,000 sessions after six days of 10 (or a big
-- project after a small one, in one run) otherwise kept the first days' plan and ran for minutes
-- (ci/bench.sh, shapes (e) and (f)). One planning per archived day costs nothing next to it.
ALTER FUNCTION livekit.rollup_refresh(text, date[]) SET plan_cache_mode = force_custom_plan;
ALTER FUNCTION livekit.rollup_days_of_sessions(text, text[]) SET plan_cache_mode = force_custom_plan;
