-- api: accident claims (R26) as the volunteer and the insurer see them:
-- the report, the insurer's signed status callback, a claim's history.
-- Client applications (timebank_api) call them; insurers' callbacks
-- arrive through them.

-- R26, R5: the volunteer (or the agent institution acting for the
-- volunteer) reports an accident during a service.
CREATE OR REPLACE FUNCTION api.report_accident(
    service_id bigint, volunteer_id bigint, occurred_at timestamptz, place text, description text, documents text[] DEFAULT '{}'
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.service_for(service_id);
    PERFORM bank.person_for('volunteer_id', volunteer_id);
    IF occurred_at IS NULL THEN
        PERFORM bank.refuse('occurred_at', 'R26', 'occurred_at is required: when the accident happened');
    END IF;
    IF occurred_at > bank.clock_now() THEN
        PERFORM bank.refuse('occurred_at', 'R26', 'an accident is reported after it happened');
    END IF;
    IF NOT isfinite(occurred_at) THEN
        PERFORM bank.refuse('occurred_at', 'R26', 'an accident happened at a finite time');
    END IF;
    IF place IS NULL OR length(btrim(place)) NOT BETWEEN 1 AND 300 THEN
        PERFORM bank.refuse('place', 'R26', 'a report says where it happened (1 to 300 characters)');
    END IF;
    IF description IS NULL OR length(btrim(description)) NOT BETWEEN 1 AND 2000 THEN
        PERFORM bank.refuse('description', 'R26', 'a report says what happened (1 to 2000 characters)');
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(documents) d WHERE d IS NULL OR length(btrim(d)) NOT BETWEEN 1 AND 200) THEN
        PERFORM bank.refuse('documents', 'R26', 'documents are given by reference: 1 to 200 characters each');
    END IF;
    RETURN bank.submit('report_accident',
        jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id, 'occurred_at', occurred_at,
                           'place', btrim(place), 'description', btrim(description), 'documents', to_jsonb(coalesce(documents, '{}'))),
        'claims.validate', 'claims');
END
$$;
COMMENT ON FUNCTION api.report_accident(bigint, bigint, timestamptz, text, text, text[]) IS
'R26、R5：志愿者（或代理机构）报告服务期间发生的意外；理赔工作进程对照服务记录（已发布、已预约、已签到、在服务期间、当天有保险）核验，成立则向保险方申请理赔，否则注明原因拒绝，两者都有记录。 / R26, R5: the volunteer (or the agent institution for the volunteer) reports an accident during a service; the insurance-claim worker checks it against the record (published, booked, checked in, within the period, insured that day) and claims from the insurer, or refuses it with the reason; either way it is recorded.
参数 / Arguments:
- service_id: 发生意外的服务 / the service
- volunteer_id: 受伤的志愿者 / the injured volunteer
- occurred_at: 发生时间，不晚于现在 / when it happened, not in the future
- place: 地点，1 至 300 字 / where, 1 to 300 characters
- description: 经过，1 至 2000 字 / what happened, 1 to 2000 characters
- documents: 材料的引用，每项 1 至 200 字（默认为空）/ references to documents, 1 to 200 characters each (default none)
返回 / Returns: 请求编号；由 claims 工作进程执行（claims.validate），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the claims worker carries it out (claims.validate), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- volunteer_id R3: 无此人 / no person is registered with this id
- occurred_at R26: 为空、在未来或为无穷 / missing, in the future, or infinite
- place R26: 不是 1 至 300 字 / not 1 to 300 characters
- description R26: 不是 1 至 2000 字 / not 1 to 2000 characters
- documents R26: 有材料引用为空或超过 200 字 / a reference is empty or longer than 200 characters
- volunteer_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

-- R26: an insurer's status callback (docs/insurer-api.yaml, ClaimStatus)
-- from a gateway of the operator's own: the insurer's code, the body
-- exactly as sent, and the X-Timebank-Signature header. The insurance-claim
-- worker serves the documented endpoint itself (`--http-port`); both apply
-- the callback through bank.insurer_callback. Returns the claim's state
-- after it.
CREATE OR REPLACE FUNCTION api.claim_status_callback(insurer text, body text, signature text) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.state FROM bank.insurer_callback(insurer, body, signature) c
$$;
COMMENT ON FUNCTION api.claim_status_callback(text, text, text) IS
'R26：保险方的理赔状态回调（docs/insurer-api.yaml，ClaimStatus），供运营方自己的网关按收到的原样传入（保险理赔 worker 自身以 HTTP 提供同一接口：POST /timebank/claims/status，--http-port；两者都经 bank.insurer_callback）；签名错误不作任何改变，同一事件（event_id）重复只算一次。 / R26: an insurer''s status callback (docs/insurer-api.yaml, ClaimStatus), for a gateway of the operator''s own, as it received it (the insurance-claim worker serves the same over HTTP itself: POST /timebank/claims/status, --http-port; both apply it through bank.insurer_callback); a bad signature changes nothing, and the same event (event_id) twice is one change.
参数 / Arguments:
- insurer: 保险方代码（bank.insurer）/ the insurer''s code (bank.insurer)
- body: 回调正文，原样（JSON：event_id、claim_id、status，及 amount、reason、documents）/ the body exactly as sent (JSON: event_id, claim_id, status, and amount, reason, documents)
- signature: X-Timebank-Signature 头：sha256= 加正文在共享密钥下的 HMAC-SHA256（十六进制）/ the X-Timebank-Signature header: sha256= and the hex HMAC-SHA256 of the body under the insurer''s shared secret
返回 / Returns: 回调后理赔的状态（received、more_documents、approved、rejected、paid）；重复的事件返回当前状态 / the claim''s state after it (received, more_documents, approved, rejected, paid); an event seen before returns the state as it is.
拒绝 / Refusals: 保险方未知或签名不符：SQLSTATE 28000 invalid_authorization_specification（消息以 R26 开头，COLUMN 为 signature），两种情况答复相同 / an unknown insurer or a wrong signature: SQLSTATE 28000 invalid_authorization_specification (the message starts with R26, COLUMN signature), the same answer for both.
其余（SQLSTATE 22023，DETAIL 为 field: 字段）/ The rest (SQLSTATE 22023, the DETAIL field: <field>):
- body R26: 正文不是 PostgreSQL 能容纳的 JSON / the body is not JSON that PostgreSQL can hold
- event_id R26: 缺少事件编号，或不是 1 至 100 字 / no event id, or not 1 to 100 characters
- claim_id R26: 缺少理赔编号、不是 bigint 范围内的整数，或无发给此保险方的此理赔 / no claim id, not a whole number within bigint, or no claim sent to this insurer has it
- status R26: 不是上述五种状态，或不能从当前状态转入（paid 只能在 approved 之后）/ not one of the five, or not reachable from the claim''s state (paid only after approved)
- amount R26: 批准或支付未给出正的、精确到分、小于 10^10 的金额；批准超过 claim_max_approved_yuan；支付超过批准金额 / an approval or payment without a positive amount in yuan to the fen below 10^10; an approval over claim_max_approved_yuan; a payment over the approved amount
- reason R26: 拒赔未给出 1 至 1000 字的原因 / a rejection without a reason of 1 to 1000 characters
- documents R26: 补充材料请求未列出材料 / a request for more documents that lists none';

-- A claim as its volunteer sees it, with its history; each change that no
-- client request made names the worker, insurer or operator that made it.
CREATE OR REPLACE FUNCTION api.claim_history(claim_id bigint)
RETURNS TABLE (state text, note text, at timestamptz, performed_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.state, e.note, e.at,
           CASE WHEN e.request_id IS NULL THEN coalesce(e.performed_by, 'system')
                WHEN r.agent_institution_id IS NOT NULL THEN 'agent ' || r.agent_institution_id || ' staff ' || r.agent_staff
                                                            || ' for the ' || bank.request_party(r)
                ELSE bank.request_party(r) END
      FROM bank.claim_event e LEFT JOIN bank.request r ON r.id = e.request_id
     WHERE e.claim_id = claim_history.claim_id
     ORDER BY e.id
$$;
COMMENT ON FUNCTION api.claim_history(bigint) IS
'R26：志愿者看到的理赔及其历史；不是由客户请求做出的变更，注明由哪个工作进程、保险方或运维人员做出。 / R26: a claim as its volunteer sees it, with its history; each change no client request made names the worker, insurer or operator that made it.
参数 / Arguments:
- claim_id: 理赔编号 / the claim
返回 / Returns: 每次变更一行（按先后）：state、note、at、performed_by（''volunteer''（本人）、''agent <机构编号> staff <职员> for the volunteer''，或工作进程、''insurer:<代码>''、运维人员的名称，缺省为 ''system''） / one row per change, in order: state, note, at, performed_by (''volunteer'' (the person), ''agent <institution id> staff <code> for the volunteer'', or the worker, ''insurer:<code>'' or operator recorded, else ''system'').
拒绝 / Refusals: 无；找不到时无行 / none: an unknown claim gives no rows.';
