import Foundation

/// R3: a national ID number (GB 11643-1999), for making sample people in
/// the demo, tests and benchmarks. The database validates every ID it is
/// given (`bank.national_id_problem`); this only builds valid ones.
public enum NationalID {
    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

    /// The check character (ISO 7064 MOD 11-2) of the first 17 digits.
    public static func checkCharacter(_ first17: String) -> Character {
        let total = zip(first17, weights).reduce(0) { $0 + Int(String($1.0))! * $1.1 }
        return Array("10X98765432")[total % 11]
    }

    /// An ID for someone born on `birth` (yyyyMMdd) in `region` (six
    /// digits), with a sequence number whose parity gives the gender (odd: male).
    public static func make(region: String = "110105", birth: String, sequence: Int) -> String {
        let first17 = region + birth + String(format: "%03d", sequence % 1000)
        return first17 + String(checkCharacter(first17))
    }

    /// An ID for someone `years` old today, unique by `serial` (which
    /// also varies the birth day and region).
    public static func sample(age years: Int, serial: Int, today: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let birthday = calendar.date(byAdding: .day, value: -(years * 366 + 1 + serial / 1000 % 300), to: today)!
        let parts = calendar.dateComponents([.year, .month, .day], from: birthday)
        let birth = String(format: "%04d%02d%02d", parts.year!, parts.month!, parts.day!)
        let regions = ["110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111"]
        let region = regions[(serial / 300_000) % regions.count]
        return make(region: region, birth: birth, sequence: serial % 1000)
    }
}
