/// The names, in Chinese and in English, of the codes a message carries
/// (a claim's state, a milestone, an alert's kind), for a template's
/// `{{state|zh}}` and `{{state|en}}`: a Chinese line reads no English
/// code (issue 19: "状态更新为：refused"). The codes are the SQL's
/// (bank.accident_claim and bank.claim_event states, R26; milestones,
/// R12-R13; alert kinds, R21).
public enum LocalisedNames {
    public static let names: [String: (zh: String, en: String)] = [
        // R26: a claim's states.
        "validated": ("已核验", "validated"),
        "refused": ("不予受理", "refused"),
        "sent": ("已提交保险机构", "sent to the insurer"),
        "received": ("保险机构已受理", "received by the insurer"),
        "more_documents": ("需补充材料", "waiting for more documents"),
        "approved": ("已批准", "approved"),
        "rejected": ("已拒赔", "rejected"),
        "paid": ("已赔付", "paid"),
        "undeliverable": ("无法送达保险机构", "undeliverable to the insurer"),
        // R12, R13: the milestones.
        "star_1": ("一星志愿者", "one-star volunteer"),
        "star_2": ("二星志愿者", "two-star volunteer"),
        "star_3": ("三星志愿者", "three-star volunteer"),
        "star_4": ("四星志愿者", "four-star volunteer"),
        "star_5": ("五星志愿者", "five-star volunteer"),
        "coins_10000": ("一万时间币", "10,000 coins"),
        // R21: the kinds of alert.
        "mutual_services": ("两人之间频繁互相服务", "frequent services between the same two people"),
        "late_night_service": ("深夜服务", "a late-night service"),
        "frequent_gifts": ("频繁赠与时间币", "frequent gifts of coins"),
        "overlapping_bookings": ("预约时间重叠", "overlapping bookings"),
    ]

    /// The name of `code` in `language` ("zh" or "en"); nil when unknown.
    public static func name(of code: String, in language: String) -> String? {
        guard let entry = names[code] else { return nil }
        switch language {
        case "zh": return entry.zh
        case "en": return entry.en
        default: return nil
        }
    }
}
