import Foundation

/// `timestamptz` text in and out, without DateFormatter (slow, and locale-
/// dependent). The session's `DateStyle` is set to ISO at connect, so the
/// server writes `2026-11-23 23:54:13.123456+08` (offset in hours, and
/// `:MM` or `:MM:SS` when not whole).
enum TimestampText {
    /// UTC text with microseconds, PostgreSQL's own precision.
    static func format(_ date: Date) throws -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        guard micros.isFinite, abs(micros) < 2.5e17 else {
            throw PostgresError(.encoding, message: "date \(date) is outside timestamptz's range")
        }
        let total = Int64(micros)
        var days = total / 86_400_000_000
        var rest = total % 86_400_000_000
        if rest < 0 { rest += 86_400_000_000; days -= 1 }
        let (year, month, day) = civil(fromDays: days)
        guard year >= 1 else {
            throw PostgresError(.encoding, message: "dates before year 1 are not supported")
        }
        let seconds = rest / 1_000_000
        let fraction = rest % 1_000_000
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + " "
            + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
            + "." + pad(fraction, 6) + "+00"
    }

    /// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]][±HH[:MM[:SS]]]`; a value with
    /// no offset (`timestamp`, `date`) is read as UTC.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        if bytes.elementsEqual("infinity".utf8) { return .distantFuture }
        if bytes.elementsEqual("-infinity".utf8) { return .distantPast }
        var cursor = Cursor(bytes: bytes)
        guard let year = cursor.number(minDigits: 4), cursor.skip("-"),
            let month = cursor.number(digits: 2), cursor.skip("-"),
            let day = cursor.number(digits: 2)
        else { return nil }
        var micros: Int64 = 0
        if cursor.skip(" ") || cursor.skip("T") {
            guard let hour = cursor.number(digits: 2), cursor.skip(":"),
                let minute = cursor.number(digits: 2), cursor.skip(":"),
                let second = cursor.number(digits: 2)
            else { return nil }
            micros = (Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)) * 1_000_000
            if cursor.skip(".") {
                var scale: Int64 = 100_000
                var digits = 0
                while let digit = cursor.digit() {
                    micros += Int64(digit) * scale
                    scale /= 10
                    digits += 1
                }
                if digits == 0 { return nil }
            }
            if let sign = cursor.sign() {
                guard let offsetHours = cursor.number(digits: 2) else { return nil }
                var offset = Int64(offsetHours) * 3600
                if cursor.skip(":") {
                    guard let offsetMinutes = cursor.number(digits: 2) else { return nil }
                    offset += Int64(offsetMinutes) * 60
                    if cursor.skip(":") {
                        guard let offsetSeconds = cursor.number(digits: 2) else { return nil }
                        offset += Int64(offsetSeconds)
                    }
                }
                micros -= Int64(sign) * offset * 1_000_000
            }
        }
        guard cursor.atEnd, (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let total = Double(days) * 86_400 + Double(micros) / 1_000_000
        return Date(timeIntervalSince1970: total)
    }

    private static func pad<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 else { return nil }
            defer { index += 1 }
            return Int(bytes[index] - 48)
        }

        mutating func number(digits: Int) -> Int? {
            var value = 0
            for _ in 0..<digits {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func number(minDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while let digit = digit() {
                value = value * 10 + digit
                count += 1
            }
            return count >= minDigits ? value : nil
        }

        mutating func sign() -> Int? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
