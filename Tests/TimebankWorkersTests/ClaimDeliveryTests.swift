import Foundation
import PostgresClient
import TestSupport
import TimebankOperations
import Testing
import TimebankWorkers

extension Bank {
    /// Configures an insurer (as `timebank insurers set` does). The timeout is
    /// long: no test here is about it, and a 1 s one made a loaded machine's
    /// slow answers attempts to retry (a resend then missed its 20 s).
    func setInsurer(_ code: String, organisations: [String], receiver: TestReceiver, secret: String,
                    timeoutMilliseconds: Int = 10_000) async throws {
        try await InsurerAdmin.set(owner, InsurerAdmin.Insurer(
            code: code, name: code, organisations: organisations, claimsURL: receiver.url("/claims/\(code)").absoluteString,
            exportURL: receiver.url("/export/\(code)").absoluteString, timeoutMilliseconds: timeoutMilliseconds), secret: secret)
    }

    /// An insurer's status callback, signed with `secret`, as the gateway passes it on.
    @discardableResult
    func callback(_ insurer: String, _ body: String, secret: String, prefix: String = "sha256=") async throws -> String {
        let signature = try await owner.query("SELECT $3::text || encode(hmac($1::text, $2::text, 'sha256'), 'hex') AS s", [body, secret, prefix])[0]
            .decode("s", as: String.self)
        return try await client.query("SELECT api.claim_status_callback($1, $2, $3) AS state", [insurer, body, signature])[0]
            .decode("state", as: String.self)
    }

    func claimState(_ claim: Int64) async throws -> String {
        try await owner.query("SELECT state FROM bank.accident_claim WHERE id = $1", [claim])[0].decode("state", as: String.self)
    }
}

extension BankSuites {
    /// R24-R26: claims delivered to insurers, their callbacks, the registry export.
    @Suite struct ClaimDeliveryTests {
        let secret = "picc-shared-secret-0123456789"

        /// A claim of an R25 volunteer insured through the Chaoyang Volunteers Association.
        func validatedClaim(_ bank: Bank, serial: Int) async throws -> (claim: Int64, volunteer: Int64) {
            let elder = try await bank.registerElder(serial)
            let volunteer = try await bank.registerVolunteer(serial + 1)
            try await bank.insure(volunteer)
            let service = try await bank.served(elder: elder, volunteer: volunteer)
            let outcome = try await bank.reportAccident(service, volunteer, minutesAfterCheckIn: 20)
            #expect(outcome.status == "completed", "\(outcome.refusal ?? "")")
            return (try #require(outcome.result["claim_id"]), volunteer)
        }

        @Test func r25r26AClaimGoesSignedToTheOrganisationsInsurerAndItsCallbacksAreAuthenticatedAndIdempotent() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                try await bank.setInsurer("picc", organisations: ["Chaoyang Volunteers Association"], receiver: receiver, secret: secret)
                let (claim, volunteer) = try await validatedClaim(bank, serial: 21)
                try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'sent'", [claim])
                // Issue 18: the send is limited per insurer, each delivery per recipient kind (its channels).
                #expect(try await bank.count("jobs.job WHERE kind = 'claims.send' AND limit_key = 'insurer:picc'") >= 1)
                #expect(try await bank.count("jobs.job WHERE kind = 'claims.send' AND limit_key IS DISTINCT FROM 'insurer:picc'") == 0)
                try await bank.eventually("EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'notify.deliver' AND limit_key = 'channel:person')")
                #expect(try await bank.count("jobs.job WHERE kind = 'notify.deliver' AND limit_key IS NULL") == 0)

                let request = try #require(await receiver.requests.first { $0.path == "/claims/picc" })
                #expect(request.idempotencyKey == "claim-\(claim)")
                let expected = try await bank.owner.query("SELECT 'sha256=' || encode(hmac($1::text, $2::text, 'sha256'), 'hex') AS s",
                                                          [String(decoding: request.body, as: UTF8.self), secret])[0].decode("s", as: String.self)
                #expect(request.signature == expected)
                let package = try #require(request.json)
                let service = try #require(package["service"] as? [String: Any])
                #expect(service["checked_in_at"] is String && service["checked_out_at"] is String && service["published_at"] is String)
                #expect((service["district"] as? [String: Any])?["code"] as? String == "110105")
                #expect((package["insured"] as? [String: Any])?["policy_number"] as? String == "PICC-1")
                let person = try await bank.owner.query("SELECT bank.personal_data_decrypt(national_id_encrypted) AS national_id, name FROM bank.person WHERE id = $1", [volunteer])[0]
                let text = String(decoding: request.body, as: UTF8.self)
                #expect(!text.contains(try person.decode("national_id", as: String.self)), "R23")
                #expect(!text.contains(try person.decode("name", as: String.self)), "R23")

                // The insurer's callbacks: received, approved with an amount (twice: one change), paid.
                let events = "bank.claim_event WHERE claim_id = $1"
                #expect(try await bank.callback("picc", #"{"event_id": "e1", "claim_id": \#(claim), "status": "received"}"#, secret: secret) == "received")
                let approval = #"{"event_id": "e2", "claim_id": \#(claim), "status": "approved", "amount": 1234.50}"#
                #expect(try await bank.callback("picc", approval, secret: secret) == "approved")
                let before = try await bank.count(events, [claim])
                #expect(try await bank.callback("picc", approval, secret: secret) == "approved")
                #expect(try await bank.count(events, [claim]) == before, "the same callback twice is one change")

                // A forged callback (wrong secret) and an unknown insurer change nothing.
                let forged = #"{"event_id": "e9", "claim_id": \#(claim), "status": "paid", "amount": 99999}"#
                for (insurer, key) in [("picc", "not-the-secret-0123456789"), ("nobody", secret)] {
                    let error = try await #require(throws: PostgresError.self) { try await bank.callback(insurer, forged, secret: key) }
                    #expect(error.code?.rawValue == "28000")
                    #expect(error.message.hasPrefix("R26: "))
                }
                #expect(try await bank.count(events, [claim]) == before)
                #expect(try await bank.claimState(claim) == "approved")

                // Bad callbacks are refused naming the field.
                try await bank.expectCallbackRefusal(#"{"event_id": "e3", "claim_id": \#(claim), "status": "lost"}"#, secret: secret, field: "status")
                try await bank.expectCallbackRefusal(#"{"event_id": "e3", "claim_id": \#(claim), "status": "paid"}"#, secret: secret, field: "amount")
                try await bank.expectCallbackRefusal(#"{"event_id": "e3", "claim_id": 999999, "status": "paid", "amount": 1}"#, secret: secret, field: "claim_id")
                try await bank.expectCallbackRefusal(#"{"claim_id": \#(claim), "status": "paid", "amount": 1}"#, secret: secret, field: "event_id")
                #expect(try await bank.callback("picc", #"{"event_id": "e3", "claim_id": \#(claim), "status": "paid", "amount": 1234.50}"#, secret: secret) == "paid")
                try await bank.expectCallbackRefusal(#"{"event_id": "e4", "claim_id": \#(claim), "status": "rejected", "reason": "late"}"#, secret: secret, field: "status")

                let history = try await bank.client.query("SELECT state, performed_by FROM api.claim_history($1)", [claim])
                    .map { "\(try $0.decode("state", as: String.self)) by \(try $0.decode("performed_by", as: String.self))" }
                #expect(history == ["validated by volunteer", "sent by insurance-claim-worker", "received by insurer:picc",
                                    "approved by insurer:picc", "paid by insurer:picc"])
                #expect(try await bank.owner.query("SELECT approved_amount::text AS a FROM bank.accident_claim WHERE id = $1", [claim])[0]
                    .decode("a", as: String.self) == "1234.50")
                // The volunteer hears of each change (urgent messages).
                try await bank.eventually("(SELECT count(*) FROM bank.message WHERE template = 'claim_status' AND person_id = $1 AND urgent) = 5",
                                          [volunteer])
            }
            await receiver.stop()
        }

        /// Issue 15, finding 7, as the api role calls it: the contract's signature form only,
        /// approvals within the ceiling, payments within the approval, and the claim's callbacks
        /// from the insurer it was sent to only, not another that lists the same organisation.
        @Test func r26CallbacksTakeTheDocumentedSignatureBoundedAmountsAndOnlyTheClaimsInsurer() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                try await bank.setInsurer("picc", organisations: ["Chaoyang Volunteers Association"], receiver: receiver, secret: secret)
                let (claim, _) = try await validatedClaim(bank, serial: 31)
                try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'sent'", [claim])
                // A second insurer listing the same organisation, configured after the claim was sent.
                let otherSecret = "cpic-shared-secret-0123456789"
                try await bank.setInsurer("cpic", organisations: ["Chaoyang Volunteers Association"], receiver: receiver, secret: otherSecret)

                let received = #"{"event_id": "e1", "claim_id": \#(claim), "status": "received"}"#
                let bare = try await #require(throws: PostgresError.self) { try await bank.callback("picc", received, secret: secret, prefix: "") }
                #expect(bare.code?.rawValue == "28000", "the bare hex is not the contract's form")
                try await bank.expectCallbackRefusal(received, insurer: "cpic", secret: otherSecret, field: "claim_id")
                #expect(try await bank.callback("picc", received, secret: secret) == "received")

                try await bank.expectCallbackRefusal(#"{"event_id": "e2", "claim_id": \#(claim), "status": "approved", "amount": 9999999999.99}"#,
                                                     secret: secret, field: "amount")
                #expect(try await bank.callback("picc", #"{"event_id": "e2", "claim_id": \#(claim), "status": "approved", "amount": 800.00}"#, secret: secret) == "approved")
                try await bank.expectCallbackRefusal(#"{"event_id": "e3", "claim_id": \#(claim), "status": "paid", "amount": 800.01}"#,
                                                     secret: secret, field: "amount")
                try await bank.expectCallbackRefusal(#"{"event_id": "e3", "claim_id": \#(claim), "status": "paid", "amount": 800.00}"#,
                                                     insurer: "cpic", secret: otherSecret, field: "claim_id")
                #expect(try await bank.callback("picc", #"{"event_id": "e3", "claim_id": \#(claim), "status": "paid", "amount": 800.00}"#, secret: secret) == "paid")
                #expect(try await bank.owner.query("SELECT insurer_code FROM bank.accident_claim WHERE id = $1", [claim])[0]
                    .decode("insurer_code", as: String.self) == "picc")
            }
            await receiver.stop()
        }

        @Test func r26AnUnreachableInsurerNeverLosesTheClaimAndTheSupervisorsAreAlertedOnce() async throws {
            let receiver = try await TestReceiver.start { request, _ in request.path.hasPrefix("/claims") ? .status(503) : .ok }
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                try await bank.owner.execute("UPDATE bank.setting SET value = 0 WHERE name = 'claim_unreachable_alert_minutes'")
                try await bank.setInsurer("picc", organisations: ["Chaoyang Volunteers Association"], receiver: receiver, secret: secret)
                let (claim, _) = try await validatedClaim(bank, serial: 23)
                try await bank.eventually("(SELECT count(*) FROM bank.claim_delivery_attempt WHERE claim_id = $1 AND outcome = 'retry') >= 4", [claim])
                #expect(try await bank.claimState(claim) == "validated")
                #expect(try await bank.count("bank.message WHERE template = 'insurer_unreachable' AND recipient_kind = 'supervisors'") == 1)
                try await bank.eventually("""
                    EXISTS (SELECT 1 FROM bank.delivery_attempt a JOIN bank.message m ON m.id = a.message_id
                             WHERE m.template = 'insurer_unreachable' AND a.outcome = 'delivered')
                    """)

                await receiver.setScript { _, _ in .ok }
                try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'sent'", [claim])
                let sent = await receiver.requests.filter { $0.path == "/claims/picc" }
                #expect(sent.count >= 5)
                #expect(Set(sent.compactMap(\.idempotencyKey)) == ["claim-\(claim)"])
                #expect(await receiver.acceptedTwice == 0)
                #expect(try await bank.count("bank.message WHERE template = 'insurer_unreachable'") == 1)
            }
            await receiver.stop()
        }

        @Test func r26AClaimTheInsurerRefusesIsUndeliverableUntilAnOperatorSendsItAgain() async throws {
            let receiver = try await TestReceiver.start { request, _ in request.path.hasPrefix("/claims") ? .status(422) : .ok }
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                try await bank.setInsurer("picc", organisations: ["Chaoyang Volunteers Association"], receiver: receiver, secret: secret)
                let (claim, _) = try await validatedClaim(bank, serial: 25)
                try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'undeliverable'", [claim])
                let attempt = try await bank.owner.query("SELECT outcome, http_status FROM bank.claim_delivery_attempt WHERE claim_id = $1", [claim])
                #expect(attempt.count == 1)
                #expect(try attempt[0].decode("http_status", as: Int.self) == 422)
                #expect(try await bank.count("bank.message WHERE template = 'claim_undeliverable'") == 1)

                let listed = try await ClaimAdmin.list(bank.owner, state: "undeliverable")
                #expect(listed.map(\.id) == [claim] && listed[0].lastAnswer == "422 scripted 422")
                await receiver.setScript { _, _ in .ok }
                // The resend is not lost while the job that found the claim undeliverable has ended its
                // handler but not had its end recorded (still 'running'): with one unique key for every
                // send of a claim, that job made the resend's enqueue a skipped duplicate.
                try await bank.eventually("NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'claims.send' AND state = 'running')")
                try await bank.owner.execute("""
                    UPDATE jobs.job SET state = 'running', held_by = 'a worker whose end is not recorded yet',
                                        lease_expires_at = now() + interval '1 hour', finalized_at = NULL
                     WHERE kind = 'claims.send' AND (args->>'id')::bigint = $1
                    """, [claim])
                try await ClaimAdmin.resend(bank.owner, claim: claim, operator: "ops-1")
                try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'sent'", [claim])
                #expect(try await ClaimAdmin.history(bank.owner, claim: claim).map { "\($0.state) by \($0.by)" } == [
                    "validated by volunteer", "undeliverable by insurance-claim-worker", "validated by operator ops-1", "sent by insurance-claim-worker"])
            }
            await receiver.stop()
        }

        @Test func r24ARegisteredVolunteersClaimGoesToVolunteerBeijingAndTheDailyExportIsSentOnceAndResumes() async throws {
            let receiver = try await TestReceiver.start { request, seen in
                // The registry fails the second chunk once.
                request.json?["chunk"] as? Int == 2 && seen == 0 ? .status(502) : .ok
            }
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                try await bank.setInsurer("volunteer_beijing", organisations: [], receiver: receiver, secret: secret)
                try await bank.owner.execute("UPDATE bank.setting SET value = 2 WHERE name = 'registry_export_chunk'")
                let elder = try await bank.registerElder(31, coins: 20)
                var volunteers: [Int64] = []
                for serial in 32...34 { volunteers.append(try await bank.registerVolunteer(serial)) }
                let registry = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_registry"))
                for (index, _) in volunteers.enumerated() {
                    try await registry.execute(
                        "INSERT INTO bank.volunteer_beijing_feed (record_id, national_id, real_name_verified, approved_on) VALUES ($1, $2, true, current_date - 10)",
                        ["VB-\(index)", NationalID.sample(age: 30, serial: 32 + index)])
                }
                await registry.close()
                try await bank.asStaff.completed("api.import_volunteer_beijing('city-desk')", [])
                var services: [Int64] = []
                for volunteer in volunteers { services.append(try await bank.served(elder: elder, volunteer: volunteer)) }
                try await bank.eventually("(SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL) = 3")

                // R24: the first volunteer's accident goes to Volunteer Beijing's procedure.
                let outcome = try await bank.reportAccident(services[0], volunteers[0], minutesAfterCheckIn: 10)
                let claim = try #require(outcome.result["claim_id"])
                try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'sent'", [claim])
                let package = try #require(await receiver.requests.first { $0.path == "/claims/volunteer_beijing" }?.json)
                #expect((package["insured"] as? [String: Any])?["registry_record_id"] as? String == "VB-0")

                // The day's export: two chunks, the second retried with the same key, each recorded once.
                let day = try await bank.owner.query("SELECT bank.local_today()::text AS d")[0].decode("d", as: String.self)
                let enqueue = "SELECT jobs.enqueue('claims.export_day', jsonb_build_object('day', $1::text), 'claims', unique_key => 'export:' || $1)"
                try await bank.owner.execute(enqueue, [day])
                try await bank.eventually("(SELECT count(*) FROM bank.registry_export WHERE day = $1::date) = 2", [day])
                try await bank.eventually("EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'claims.export_day' AND state = 'scheduled' AND unique_key = 'export:' || ($1::date + 1))", [day])
                let exports = await receiver.requests.filter { $0.path == "/export/volunteer_beijing" }
                #expect(exports.compactMap(\.idempotencyKey) == ["export:\(day):1", "export:\(day):2", "export:\(day):2"])
                let records = exports.compactMap { $0.json?["records"] as? [[String: Any]] }.dropLast().flatMap { $0 }
                #expect(records.compactMap { $0["service_id"] as? Int }.sorted() == services.map { Int($0) })
                #expect(records.allSatisfy { $0["minutes"] as? Int == 60 && ($0["registry_record_id"] as? String)?.hasPrefix("VB-") == true })
                #expect(try await bank.owner.query("SELECT sum(minutes)::integer AS m FROM bank.registry_export WHERE day = $1::date", [day])[0]
                    .decode("m", as: Int.self) == 180)

                // Run again, the day sends nothing more.
                try await bank.owner.execute(enqueue, [day])
                try await bank.eventually("NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'claims.export_day' AND unique_key = 'export:' || $1 AND state <> 'completed')", [day])
                #expect(await receiver.requests.filter { $0.path == "/export/volunteer_beijing" }.count == 3)
            }
            await receiver.stop()
        }
    }
}

extension Bank {
    /// A signed callback the api refuses (22023) naming `field`; nothing changes.
    func expectCallbackRefusal(_ body: String, insurer: String = "picc", secret: String, field: String,
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = try await count("bank.claim_event")
        let error = try await #require(throws: PostgresError.self, sourceLocation: sourceLocation) {
            try await callback(insurer, body, secret: secret)
        }
        #expect(error.code?.rawValue == "22023", sourceLocation: sourceLocation)
        #expect(error.message.hasPrefix("R26: "), sourceLocation: sourceLocation)
        #expect(error.detail == "field: \(field)", "\(error.message)", sourceLocation: sourceLocation)
        #expect(try await count("bank.claim_event") == before, sourceLocation: sourceLocation)
    }
}
