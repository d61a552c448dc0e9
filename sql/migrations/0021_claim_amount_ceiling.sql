-- 0021: the ceiling on what an insurer's callback may approve for one
-- claim (issue 15, finding 7: an approval of 9,999,999,999.99 yuan was
-- accepted). A payment is bounded by the approval itself.

INSERT INTO bank.setting (name, value, description) VALUES
    ('claim_max_approved_yuan', 1000000, 'R26 (ours): the most an insurer''s callback may approve for one claim, in yuan; more is refused naming the amount')
ON CONFLICT (name) DO NOTHING;
